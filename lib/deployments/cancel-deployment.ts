import "server-only";
import { z } from "zod";
import { parseInput } from "../validation";
import { recordAuditEvent } from "../audit/record-audit-event";
import type { ApiTokenActor, UserActor } from "../auth/actor";
import { assertCan, can } from "../auth/permissions";
import { cancelPermissionFor } from "./rollout-control-permissions";
import { db } from "../db/client";
import { conflict, notFound } from "../errors";
import { CHANNELS, notifyInTransaction } from "../events/wakeups";
import { runInBackground } from "../notifications/background";
import { onDeploymentFinished } from "../notifications/on-deployment-finished";
import { advanceRollout } from "../rollouts/advance-rollout";
import { releaseLabel } from "./release-label";

export const ZCancelDeploymentSchema = z.object({ deploymentId: z.uuid() });

export { cancelPermissionFor };

/**
 * Asks a deployment to stop. A scheduled one has touched nothing yet: it ends cancelled at once. A running one: the
 * engine creates no new work, lets running steps reach a safe point (an agent hears the cancel on its next report,
 * within seconds, and aborts a download; a node mid-switch finishes its switch so it is never left half-installed),
 * then rolls the touched nodes back and ends the deployment cancelled. Returns the status it was in.
 */
export async function cancelDeployment(actor: UserActor | ApiTokenActor, raw: z.input<typeof ZCancelDeploymentSchema>) {
  const input = parseInput(ZCancelDeploymentSchema, raw);
  const d = await db.deployment.findUnique({ where: { id: input.deploymentId }, include: { release: true, environment: { include: { application: true } } } });
  if (!d || !can(actor, "application.view", d.environment.applicationId)) throw notFound("Deployment");
  assertCan(actor, cancelPermissionFor(d.environment), d.environment.applicationId, { environmentId: d.environmentId, releaseId: d.releaseId });
  await db.$transaction(async (tx) => {
    const changed = await tx.deployment.updateMany({
      where: { id: d.id, cancelRequestedAt: null, status: { in: ["SCHEDULED", "QUEUED", "RUNNING"] } },
      data: {
        cancelRequestedAt: new Date(),
        cancelRequestedById: actor.type === "USER" ? actor.id : actor.createdById,
        // A scheduled deployment has done nothing yet: it ends here.
        ...(d.status === "SCHEDULED" ? { status: "CANCELLED", finishedAt: new Date() } : {}),
      },
    });
    if (changed.count === 0) throw conflict("This deployment is no longer running, or was already asked to stop.");
    await recordAuditEvent(tx, actor, {
      type: "DEPLOYMENT_CANCEL_REQUESTED",
      object: { type: "Deployment", id: d.id },
      scope: { customerId: d.environment.application.customerId, applicationId: d.environment.applicationId, environmentId: d.environmentId, releaseId: d.releaseId },
      summary:
        d.status === "SCHEDULED"
          ? `cancelled the deployment of ${releaseLabel(d.release)} to ${d.environment.application.name} / ${d.environment.name} scheduled for ${d.scheduledFor?.toISOString()}`
          : `asked the deployment of ${releaseLabel(d.release)} to ${d.environment.application.name} / ${d.environment.name} to stop`,
      before: { status: d.status },
      after: { status: d.status === "SCHEDULED" ? "CANCELLED" : d.status, cancelRequested: true },
    });
    await notifyInTransaction(tx, CHANNELS.deployment, d.id);
  });
  await advanceRollout(d.id);
  // The engine tells people how a rollout ended; a scheduled deployment never reaches it.
  if (d.status === "SCHEDULED") runInBackground("deployment notifications", () => onDeploymentFinished(d.id));
  return { previousStatus: d.status };
}
