import "server-only";
import { z } from "zod";
import { parseInput, ZText } from "../validation";
import { recordAuditEvent } from "../audit/record-audit-event";
import type { ApiTokenActor, UserActor } from "../auth/actor";
import { assertCan, can } from "../auth/permissions";
import { db } from "../db/client";
import { AppError, notFound } from "../errors";
import { CHANNELS, notifyInTransaction } from "../events/wakeups";
import { deploymentBlockers } from "../releases/policy";
import { assertSiteFloorHolds } from "../sites/assert-site-floor";
import { advanceRolloutInTransaction, announceStatusChange } from "../rollouts/advance-rollout";
import { loadDeploymentFacts } from "./load-deployment-facts";
import { EARLIER_BUILDS } from "./release-label";
import { revertTargetOf } from "./revert-target";
import { assertFleetReady, assertNoActiveDeployment, lockEnvironment } from "./request-deployment";

export const ZRequestRevertSchema = z.object({
  environmentId: z.uuid(),
  reason: ZText().trim().min(1, "Say why you revert: it goes into the record.").max(500, "Keep the reason under 500 characters."),
});
export type TRequestRevertRequest = z.input<typeof ZRequestRevertSchema>;

/**
 * Returns an environment to the release that ran before the current one (lib/deployments/revert-target.ts: repeated
 * reverts walk back what ran, one release each). The nodes normally still hold that build (kept releases), so the
 * rollout skips the download and goes straight to the same drain/switch/health sequence as a deployment, batch by
 * batch. Needs no acceptance or approval (that build passed them) and is allowed during a freeze: it is how a bad
 * release is taken out.
 */
export async function requestRevert(actor: UserActor | ApiTokenActor, raw: TRequestRevertRequest) {
  const input = parseInput(ZRequestRevertSchema, raw);
  const env = await db.environment.findUnique({ where: { id: input.environmentId }, include: { application: true } });
  if (!env || !can(actor, "application.view", env.applicationId)) throw notFound("Environment");
  assertCan(actor, "deployment.revert", env.applicationId, { environmentId: env.id });
  await assertFleetReady(env.id, env.name);

  const deployment = await db.$transaction(async (tx) => {
    await lockEnvironment(tx, env.id);
    const back = await revertTargetOf(tx, env.id);
    if (!back) {
      throw new AppError("PRECONDITION_FAILED", `${env.name} has no earlier release to return to.`);
    }
    const current = await tx.release.findUniqueOrThrow({ where: { id: back.fromReleaseId } });
    if (back.kind === "earlier-builds" && back.missing.length > 0) {
      throw new AppError(
        "PRECONDITION_FAILED",
        `Before ${current.version}, ${back.missing.join(", ")} ran no build in ${env.name}: a revert to the builds from before Releasegate would leave ${back.missing.length === 1 ? "it" : "them"} with nothing to serve. Deploy a release instead.`,
      );
    }
    const target = back.kind === "release" ? await tx.release.findUniqueOrThrow({ where: { id: back.releaseId } }) : null;
    // Who may revert is the one gate of a revert (the policy asks nothing of the release it returns to).
    const probe = target ?? current;
    const facts = await loadDeploymentFacts(tx, actor, {
      kind: "REVERT",
      environment: env,
      release: { id: probe.id, version: probe.version, status: probe.status, sha256: probe.artifactSha256, uploadedById: probe.uploadedById },
      freezeOverrideReason: null,
    });
    const blockers = deploymentBlockers(facts);
    if (blockers.length > 0) {
      // The attempt is about the release it would take out.
      throw new AppError("FORBIDDEN", blockers.map((b) => b.message).join(" "), { scope: { applicationId: env.applicationId, environmentId: env.id, releaseId: current.id } });
    }
    await assertNoActiveDeployment(tx, env.id, env.name);
    await assertSiteFloorHolds(tx, env);
    const d = await tx.deployment.create({
      data: {
        // None: back to the builds another tool had installed, which each server still holds (Target.takenOverFromPath).
        releaseId: target?.id ?? null,
        environmentId: env.id,
        kind: "REVERT",
        strategy: env.strategy,
        batchSize: env.batchSize,
        // The site settings travel with the deployment: a change while it runs cannot move its floor.
        siteOrder: env.siteOrder,
        siteFloor: env.siteFloor,
        pauseAfterFirstSite: env.pauseAfterFirstSite,
        status: "QUEUED",
        // A revert that fails part-way returns its servers to what they ran: the release it reverts from.
        previousReleaseId: current.id,
        returnToDeploymentId: back.returnToDeploymentId,
        requestedById: actor.type === "USER" ? actor.id : actor.createdById,
        reason: input.reason,
      },
    });
    const to = target ? target.version : `${EARLIER_BUILDS} (${back.kind === "earlier-builds" ? back.servers.map((x) => `${x.name}: ${x.path}`).join(", ") : ""})`;
    await recordAuditEvent(tx, actor, {
      type: "REVERT_REQUESTED",
      object: { type: "Deployment", id: d.id },
      scope: { customerId: env.application.customerId, applicationId: env.applicationId, environmentId: env.id, releaseId: target?.id ?? current.id },
      summary: `requested revert of ${env.application.name} / ${env.name} from ${current.version} to ${to}: ${input.reason}`,
      before: { version: current.version, artifactSha256: current.artifactSha256 },
      after: target
        ? { version: target.version, artifactSha256: target.artifactSha256, reason: input.reason }
        : { earlierBuilds: back.kind === "earlier-builds" ? back.servers.map((x) => ({ server: x.name, path: x.path })) : [], reason: input.reason },
    });
    await notifyInTransaction(tx, CHANNELS.deployment, d.id);
    // The engine's first move commits with the request: the commit that records it also queues the first jobs.
    return { ...d, started: await advanceRolloutInTransaction(tx, d.id) };
  });
  if (deployment.started) announceStatusChange(deployment.id);
  return { deployment: { id: deployment.id, status: deployment.status } };
}
