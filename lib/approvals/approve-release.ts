import "server-only";
import { z } from "zod";
import { recordAuditEvent } from "../audit/record-audit-event";
import type { UserActor } from "../auth/actor";
import { assertCan } from "../auth/permissions";
import { db } from "../db/client";
import type { Role } from "../db/generated/enums";
import { loadDeploymentFacts } from "../deployments/load-deployment-facts";
import { AppError, conflict, isUniqueViolation } from "../errors";
import { afterCommit } from "../notifications/background";
import { onReleaseApproved } from "../notifications/on-release-decision";
import { deploymentBlockers } from "../releases/policy";
import { parseInput, ZText } from "../validation";
import { approvalRefusal } from "./decision-rules";
import { latestVerdictOn, loadReleaseForDecision } from "./load-release-for-decision";
import { ZArtifactSha256Schema } from "./record-verdict";
import { approvalEnvironment } from "./stages";

export const ZApproveReleaseRequestSchema = z.object({
  releaseId: z.uuid("Pick a release."),
  /** The digest of the build the page showed: the approval is bound to these bytes. */
  artifactSha256: ZArtifactSha256Schema,
  comment: ZText().trim().max(1000, "Keep the comment under 1,000 characters.").default(""),
});
export type TApproveReleaseRequest = z.input<typeof ZApproveReleaseRequestSchema>;

/**
 * Approves an accepted release for the environment that requires approvals (production by default; see
 * lib/approvals/stages.ts), bound to the artifact's SHA-256. Only someone holding one of that environment's
 * approverRoles, never the uploader, once per person. When the approvals the policy counts reach the environment's
 * requiredApprovals (lib/releases/policy.ts decides, as it does for the deployment), the release becomes APPROVED
 * and ops are asked to promote it. Sent again by the same person (`repeated`), it changes nothing.
 */
export async function approveRelease(actor: UserActor, raw: TApproveReleaseRequest) {
  const input = parseInput(ZApproveReleaseRequestSchema, raw);
  try {
    const outcome = await db.$transaction(async (tx) => {
      const release = await loadReleaseForDecision(tx, actor, input.releaseId);
      assertCan(actor, "release.approve", release.applicationId, { releaseId: release.id });
      const app = release.application;
      const env = approvalEnvironment(app.environments);
      const roles = actor.roles.get(app.id) ?? new Set<Role>();
      const mine = env && (await tx.approval.findFirst({ where: { releaseId: release.id, environmentId: env.id, userId: actor.id, artifactSha256: release.artifactSha256 } }));
      // Sent again by the same person (their answer was lost on the way): the approval they gave stands, and they are
      // told so, not refused; nothing new is written.
      if (mine && env && input.artifactSha256 === release.artifactSha256) {
        const approvals = await tx.approval.count({ where: { releaseId: release.id, environmentId: env.id, artifactSha256: release.artifactSha256 } });
        const releaseApproved = release.status !== "ACCEPTED";
        return { approval: mine, approvals, requiredApprovals: env.requiredApprovals, releaseApproved, release: { id: release.id, version: release.version, status: release.status }, repeated: true };
      }
      const alreadyApproved = mine !== null;
      const refusal = approvalRefusal({ actorId: actor.id, actorRoles: roles, release, environment: env, alreadyApproved, latestVerdict: await latestVerdictOn(tx, release) });
      if (refusal) throw new AppError(refusal.code, refusal.message, { scope: { applicationId: app.id, environmentId: env?.id ?? null, releaseId: release.id } });
      if (input.artifactSha256 !== release.artifactSha256) {
        throw conflict(`This page showed a build (${input.artifactSha256.slice(0, 12)}) that is not ${release.version}'s (${release.artifactSha256.slice(0, 12)}). Reload and check again.`);
      }
      const gate = env!;
      const approval = await tx.approval.create({
        data: { releaseId: release.id, environmentId: gate.id, userId: actor.id, artifactSha256: release.artifactSha256, comment: input.comment },
      });
      // Whether enough approvals now count is the policy's question, asked exactly as a deployment would ask it.
      const facts = await loadDeploymentFacts(tx, actor, {
        kind: "DEPLOY",
        environment: gate,
        release: { id: release.id, version: release.version, status: release.status, sha256: release.artifactSha256, uploadedById: release.uploadedById },
        freezeOverrideReason: null,
      });
      const releaseApproved = !deploymentBlockers(facts).some((b) => b.code === "APPROVALS");
      if (releaseApproved) {
        const moved = await tx.release.updateMany({ where: { id: release.id, status: "ACCEPTED" }, data: { status: "APPROVED" } });
        if (moved.count !== 1) throw conflict(`${release.version} changed meanwhile. Reload the page.`);
      }
      const approvals = await tx.approval.count({ where: { releaseId: release.id, environmentId: gate.id, artifactSha256: release.artifactSha256 } });
      await recordAuditEvent(tx, actor, {
        type: "RELEASE_APPROVED",
        object: { type: "Approval", id: approval.id },
        scope: { customerId: app.customerId, applicationId: app.id, environmentId: gate.id, releaseId: release.id },
        summary: `approved ${app.name} ${release.version} for ${gate.name} (${approvals} of ${gate.requiredApprovals}${releaseApproved ? ": approved" : ""})`,
        before: { status: release.status },
        after: {
          status: releaseApproved ? "APPROVED" : release.status,
          artifactSha256: release.artifactSha256,
          comment: input.comment,
          approvals,
          requiredApprovals: gate.requiredApprovals,
          version: release.version,
        },
      });
      return {
        approval,
        approvals,
        requiredApprovals: gate.requiredApprovals,
        releaseApproved,
        release: { id: release.id, version: release.version, status: releaseApproved ? ("APPROVED" as const) : release.status },
        repeated: false,
      };
    });
    if (!outcome.repeated) {
      await afterCommit("approval notifications", () => onReleaseApproved(outcome.approval.id, { approvals: outcome.approvals, releaseApproved: outcome.releaseApproved }));
    }
    return outcome;
  } catch (e) {
    // The row lock serialises approvals of one release, so this is a second tab of the same person at most.
    if (isUniqueViolation(e)) throw conflict("You already approved this release.");
    throw e;
  }
}
