"use server";

import { requestDeployment, ZRequestDeploymentSchema } from "@/lib/deployments/request-deployment";
import { requestRevert, ZRequestRevertSchema } from "@/lib/deployments/request-revert";
import { runAction } from "@/lib/entry/action";
import { addTarget, ZAddTargetRequestSchema } from "@/lib/targets/add-target";
import { reissueEnrollment, ZReissueEnrollmentRequestSchema } from "@/lib/targets/reissue-enrollment";
import { revokeAgent, ZRevokeAgentRequestSchema } from "@/lib/targets/revoke-agent";

const tokenNote = (expiresAt: Date) =>
  `Single use, valid until ${expiresAt.toISOString().slice(0, 16).replace("T", " ")} UTC. Give it to \`releasegate-agent enroll\` in RELEASEGATE_ENROLL_TOKEN or on standard input (not on the command line, where ps shows it); the agent exchanges it for its own secret. It will not be shown again.`;

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

export async function requestDeploymentAction(formData: FormData) {
  return runAction({ name: "request-deployment" }, ZRequestDeploymentSchema, formData, async (input, actor) => {
    const { deployment } = await requestDeployment(actor, input);
    // Deploying now: off to the live view. Scheduled: the environment's column shows it, with a countdown.
    if (deployment.status === "SCHEDULED") return { message: "Deployment scheduled." };
    return { message: "Deployment started.", data: { redirectTo: `/deployments/${deployment.id}` } };
  });
}

export async function requestRevertAction(formData: FormData) {
  return runAction({ name: "request-revert" }, ZRequestRevertSchema, formData, async (input, actor) => {
    const { deployment } = await requestRevert(actor, input);
    return { message: "Revert started.", data: { redirectTo: `/deployments/${deployment.id}` } };
  });
}
