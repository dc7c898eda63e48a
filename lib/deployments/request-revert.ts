import "server-only";
import { z } from "zod";
import { parseInput } from "../validation";
import { recordAuditEvent } from "../audit/record-audit-event";
import type { ApiTokenActor, UserActor } from "../auth/actor";
import { assertCan } from "../auth/permissions";
import { db } from "../db/client";
import { AppError, notFound } from "../errors";
import { CHANNELS, notifyInTransaction } from "../events/wakeups";
import { deploymentBlockers } from "../releases/policy";
import { advanceRolloutInTransaction, announceStatusChange } from "../rollouts/advance-rollout";
import { liveReleaseOf } from "./live-release";
import { loadDeploymentFacts } from "./load-deployment-facts";
import { assertFleetReady, assertNoActiveDeployment, lockEnvironment } from "./request-deployment";

export const ZRequestRevertSchema = z.object({
  environmentId: z.uuid(),
  reason: z.string().trim().min(1, "Say why you revert: it goes into the record.").max(500, "Keep the reason under 500 characters."),
});
export type TRequestRevertRequest = z.input<typeof ZRequestRevertSchema>;

/**
 * Returns an environment to the release that was live before the current one. The nodes still hold that build
 * (kept releases), so the rollout skips the download and goes straight to the same drain/switch/health sequence as
 * a deployment, batch by batch. Needs no acceptance or approval (that build passed them) and is allowed during a
 * freeze: it is how a bad release is taken out.
 */
export async function requestRevert(actor: UserActor | ApiTokenActor, raw: TRequestRevertRequest) {
  const input = parseInput(ZRequestRevertSchema, raw);
  const env = await db.environment.findUnique({ where: { id: input.environmentId }, include: { application: true } });
  if (!env) throw notFound("Environment");
  assertCan(actor, "deployment.revert", env.applicationId, { environmentId: env.id });
  await assertFleetReady(env.id, env.name);

  const deployment = await db.$transaction(async (tx) => {
    await lockEnvironment(tx, env.id);
    const live = await liveReleaseOf(tx, env.id);
    if (!live?.previousReleaseId) {
      throw new AppError("PRECONDITION_FAILED", `${env.name} has no earlier release to return to.`);
    }
    const current = await tx.release.findUniqueOrThrow({ where: { id: live.releaseId } });
    const target = await tx.release.findUniqueOrThrow({ where: { id: live.previousReleaseId } });
    const facts = await loadDeploymentFacts(tx, actor, {
      kind: "REVERT",
      environment: env,
      release: { id: target.id, version: target.version, status: target.status, sha256: target.artifactSha256, uploadedById: target.uploadedById },
      freezeOverrideReason: null,
    });
    const blockers = deploymentBlockers(facts);
    if (blockers.length > 0) {
      // The attempt is about the release it would take out.
      throw new AppError("FORBIDDEN", blockers.map((b) => b.message).join(" "), { scope: { applicationId: env.applicationId, environmentId: env.id, releaseId: current.id } });
    }
    await assertNoActiveDeployment(tx, env.id, env.name);
    const d = await tx.deployment.create({
      data: {
        releaseId: target.id,
        environmentId: env.id,
        kind: "REVERT",
        strategy: env.strategy,
        batchSize: env.batchSize,
        status: "QUEUED",
        previousReleaseId: current.id,
        requestedById: actor.type === "USER" ? actor.id : actor.createdById,
        reason: input.reason,
      },
    });
    await recordAuditEvent(tx, actor, {
      type: "REVERT_REQUESTED",
      object: { type: "Deployment", id: d.id },
      scope: { customerId: env.application.customerId, applicationId: env.applicationId, environmentId: env.id, releaseId: target.id },
      summary: `requested revert of ${env.application.name} / ${env.name} from ${current.version} to ${target.version}: ${input.reason}`,
      before: { version: current.version, artifactSha256: current.artifactSha256 },
      after: { version: target.version, artifactSha256: target.artifactSha256, reason: input.reason },
    });
    await notifyInTransaction(tx, CHANNELS.deployment, d.id);
    // The engine's first move commits with the request: the commit that records it also queues the first jobs.
    return { ...d, started: await advanceRolloutInTransaction(tx, d.id) };
  });
  if (deployment.started) announceStatusChange(deployment.id);
  return { deployment: { id: deployment.id, status: deployment.status } };
}
