import "server-only";
import { z } from "zod";
import { recordAuditEvent } from "../audit/record-audit-event";
import type { UserActor } from "../auth/actor";
import { assertCan, can } from "../auth/permissions";
import { db } from "../db/client";
import { conflict, notFound } from "../errors";
import { CHANNELS, notifyInTransaction } from "../events/wakeups";
import { advanceRollout } from "../rollouts/advance-rollout";
import { siteWords } from "../rollouts/planner";
import { parseInput } from "../validation";
import { continuePermissionFor } from "./rollout-control-permissions";
import { releaseLabel } from "./release-label";

export const ZContinueDeploymentSchema = z.object({ deploymentId: z.uuid() });
export type TContinueDeploymentRequest = z.input<typeof ZContinueDeploymentSchema>;


/**
 * Continues a rollout that paused after its first site (Environment.pauseAfterFirstSite): the engine goes on with
 * the next site at once. Recorded as its own event (who, when, after which site) on the release's evidence. Only a
 * rollout that is paused now may be continued, once; a cancel requested meanwhile wins (the touched nodes are
 * being rolled back).
 */
export async function continueDeployment(actor: UserActor, raw: TContinueDeploymentRequest) {
  const input = parseInput(ZContinueDeploymentSchema, raw);
  const d = await db.deployment.findUnique({
    where: { id: input.deploymentId },
    include: { release: true, environment: { include: { application: true } }, continuedBy: { select: { name: true } } },
  });
  if (!d || !can(actor, "application.view", d.environment.applicationId)) throw notFound("Deployment");
  assertCan(actor, continuePermissionFor(d.environment), d.environment.applicationId, { environmentId: d.environmentId, releaseId: d.releaseId });
  const now = new Date();
  await db.$transaction(async (tx) => {
    const changed = await tx.deployment.updateMany({
      where: { id: d.id, status: "RUNNING", pausedAt: { not: null }, continuedAt: null, cancelRequestedAt: null },
      data: { continuedAt: now, continuedById: actor.id },
    });
    if (changed.count === 0) throw conflict(whyNot(await tx.deployment.findUniqueOrThrow({ where: { id: d.id }, include: { continuedBy: { select: { name: true } } } })));
    await recordAuditEvent(tx, actor, {
      type: "DEPLOYMENT_CONTINUED",
      object: { type: "Deployment", id: d.id },
      scope: { customerId: d.environment.application.customerId, applicationId: d.environment.applicationId, environmentId: d.environmentId, releaseId: d.releaseId },
      summary: `continued the deployment of ${releaseLabel(d.release)} to ${d.environment.application.name} / ${d.environment.name} after ${siteWords(d.pausedAfterSite ?? "?")}`,
      before: { paused: true, pausedAfterSite: d.pausedAfterSite, pausedAt: d.pausedAt?.toISOString() ?? null },
      after: { paused: false, continuedAt: now.toISOString(), artifactSha256: d.release?.artifactSha256 ?? null },
    });
    await notifyInTransaction(tx, CHANNELS.deployment, d.id);
  });
  await advanceRollout(d.id);
  return { pausedAfterSite: d.pausedAfterSite };
}

/** Why a deployment cannot be continued now, as its state says. */
function whyNot(d: { status: string; pausedAt: Date | null; continuedAt: Date | null; cancelRequestedAt: Date | null; continuedBy: { name: string } | null }): string {
  if (d.continuedAt) return `${d.continuedBy?.name ?? "Someone"} already continued this deployment at ${d.continuedAt.toISOString().slice(11, 19)} UTC.`;
  if (d.cancelRequestedAt) return "This deployment was asked to stop: its updated servers are being rolled back.";
  if (!["QUEUED", "RUNNING"].includes(d.status)) return "This deployment is no longer running.";
  return "This deployment is not paused: it goes on by itself.";
}
