"use server";

import { approveRelease, ZApproveReleaseRequestSchema } from "@/lib/approvals/approve-release";
import { recordVerdict, ZRecordVerdictRequestSchema } from "@/lib/approvals/record-verdict";
import { runAction } from "@/lib/entry/action";

export async function recordVerdictAction(formData: FormData) {
  return runAction({ name: "record-verdict" }, ZRecordVerdictRequestSchema, formData, async (input, actor) => {
    const { release, repeated } = await recordVerdict(actor, input);
    const did = input.verdict === "ACCEPTED" ? "accepted" : "rejected";
    if (repeated) return { message: `You had already ${did} ${release.version}: it is recorded once.` };
    return { message: input.verdict === "ACCEPTED" ? `You accepted ${release.version}.` : `You rejected ${release.version}. The developers are told why.` };
  });
}

export async function approveReleaseAction(formData: FormData) {
  return runAction({ name: "approve-release" }, ZApproveReleaseRequestSchema, formData, async (input, actor) => {
    const { release, releaseApproved, approvals, requiredApprovals, repeated } = await approveRelease(actor, input);
    if (repeated) return { message: `You had already approved ${release.version}: it is recorded once.` };
    return {
      message: releaseApproved ? `${release.version} is approved: ops can promote it.` : `Approved (${approvals} of ${requiredApprovals}).`,
    };
  });
}
