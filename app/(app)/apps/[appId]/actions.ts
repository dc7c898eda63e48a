"use server";

import { runAction } from "@/lib/entry/action";
import { addTarget, ZAddTargetRequestSchema } from "@/lib/targets/add-target";
import { reissueEnrollment, ZReissueEnrollmentRequestSchema } from "@/lib/targets/reissue-enrollment";
import { revokeAgent, ZRevokeAgentRequestSchema } from "@/lib/targets/revoke-agent";

const tokenNote = (expiresAt: Date) =>
  `Single use, valid until ${expiresAt.toISOString().slice(0, 16).replace("T", " ")} UTC. The agent exchanges it for its own secret when it enrolls; it will not be shown again.`;

export async function addTargetAction(formData: FormData) {
  return runAction({ name: "add-target" }, ZAddTargetRequestSchema, formData, async (input, actor) => {
    const { target, enrollmentToken, expiresAt } = await addTarget(actor, input);
    return {
      message: `${target.name} added.`,
      data: { shownOnce: { label: `Enrollment token for ${target.name}`, value: enrollmentToken, note: tokenNote(expiresAt) } },
    };
  });
}

export async function reissueEnrollmentAction(formData: FormData) {
  return runAction({ name: "reissue-enrollment" }, ZReissueEnrollmentRequestSchema, formData, async (input, actor) => {
    const { target, enrollmentToken, expiresAt } = await reissueEnrollment(actor, input);
    return {
      message: "The old agent secret no longer works.",
      data: { shownOnce: { label: `New enrollment token for ${target.name}`, value: enrollmentToken, note: tokenNote(expiresAt) } },
    };
  });
}

export async function revokeAgentAction(formData: FormData) {
  return runAction({ name: "revoke-agent" }, ZRevokeAgentRequestSchema, formData, async (input, actor) => {
    await revokeAgent(actor, input);
    return { message: "Agent revoked." };
  });
}
