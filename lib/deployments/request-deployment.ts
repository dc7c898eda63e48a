import "server-only";
import { z } from "zod";
import { emptyAsUndefined, parseInput, ZStorableDate, ZText } from "../validation";
import { OFFLINE_AFTER_MS } from "../agents/heartbeat-timing";
import { recordAuditEvent } from "../audit/record-audit-event";
import { recordDenial } from "../audit/record-denial";
import type { ApiTokenActor, UserActor } from "../auth/actor";
import { assertCan, can } from "../auth/permissions";
import { db, type Tx } from "../db/client";
import { AppError, conflict, notFound } from "../errors";
import { CHANNELS, notifyInTransaction } from "../events/wakeups";
import { deploymentBlockers } from "../releases/policy";
import { assertSiteFloorHolds } from "../sites/assert-site-floor";
import { advanceRolloutInTransaction, announceStatusChange } from "../rollouts/advance-rollout";
import { liveReleaseOf } from "./live-release";
import { loadDeploymentFacts } from "./load-deployment-facts";
import { returnToForDeployment } from "./revert-target";
import { releaseLabel } from "./release-label";

/** How far ahead a deployment may be scheduled: a maintenance window is planned in days or weeks, not years. */
export const MAX_SCHEDULE_AHEAD_DAYS = 90;

export const ZRequestDeploymentSchema = z
  .object({
    environmentId: z.uuid(),
    releaseId: z.uuid(),
    reason: ZText().trim().max(500, "Keep the reason under 500 characters.").default(""),
    /** Ops' reason to deploy through a freeze; recorded with the deployment. */
    freezeOverrideReason: ZText().trim().max(500).optional(),
    /** The deploy form's choice; API callers leave it out and give scheduledFor, or nothing for now. */
    timing: z.enum(["now", "later"], "Choose Deploy now or Schedule for.").optional(),
    /** Run later (a maintenance window), an instant (the form converts the person's local time); absent = now. */
    scheduledFor: z.preprocess(emptyAsUndefined, ZStorableDate("Enter a valid date and time.").optional()),
  })
  .superRefine((v, ctx) => {
    if (v.timing === "now") return;
    if (v.timing === "later" && !v.scheduledFor) {
      ctx.addIssue({ code: "custom", path: ["scheduledFor"], message: "Pick the date and time to deploy at." });
    } else if (v.scheduledFor && v.scheduledFor.getTime() <= Date.now()) {
      ctx.addIssue({ code: "custom", path: ["scheduledFor"], message: "That time has passed: pick a time in the future." });
    } else if (v.scheduledFor && v.scheduledFor.getTime() > Date.now() + MAX_SCHEDULE_AHEAD_DAYS * 86_400_000) {
      ctx.addIssue({ code: "custom", path: ["scheduledFor"], message: `Pick a time within the next ${MAX_SCHEDULE_AHEAD_DAYS} days.` });
    }
  })
  // "Deploy now" wins over a time typed earlier and left in the (hidden) field.
  .transform(({ timing, ...v }) => (timing === "now" ? { ...v, scheduledFor: undefined } : v));
export type TRequestDeploymentRequest = z.input<typeof ZRequestDeploymentSchema>;

/**
 * Deploys a release to an environment: checks the lifecycle gates (lib/releases/policy.ts) for the time it will
 * start (a freeze covering a scheduled time counts, not one that ends before it), refuses a second deployment while
 * one runs or waits there, records the request, and starts the rollout at once or leaves it SCHEDULED; the sweep
 * checks the gates again when its time comes (lib/rollouts/start-scheduled-deployment.ts).
 */
export async function requestDeployment(actor: UserActor | ApiTokenActor, raw: TRequestDeploymentRequest) {
  const input = parseInput(ZRequestDeploymentSchema, raw);
  const env = await db.environment.findUnique({ where: { id: input.environmentId }, include: { application: true } });
  if (!env || !can(actor, "application.view", env.applicationId)) throw notFound("Environment");
  // The release first, so a refusal below names it: the attempt is then on its evidence page.
  const release = await db.release.findFirst({ where: { id: input.releaseId, applicationId: env.applicationId } });
  if (!release) throw notFound("Release");
  const about = { environmentId: env.id, releaseId: release.id };
  assertCan(actor, "deployment.request", env.applicationId, about);
  await assertFleetReady(env.id, env.name);

  let refused: AppError | null = null;
  const deployment = await db.$transaction(async (tx) => {
    await lockEnvironment(tx, env.id);
    const facts = await loadDeploymentFacts(tx, actor, {
      kind: "DEPLOY",
      environment: env,
      release: { id: release.id, version: release.version, status: release.status, sha256: release.artifactSha256, uploadedById: release.uploadedById },
      freezeOverrideReason: input.freezeOverrideReason ?? null,
      ...(input.scheduledFor ? { at: input.scheduledFor } : {}),
    });
    const blockers = deploymentBlockers(facts);
    if (blockers.length > 0) {
      const code = blockers.some((b) => b.code === "NOT_ALLOWED") ? "FORBIDDEN" : "PRECONDITION_FAILED";
      // A freeze over the chosen time belongs next to the time field: another time may be the answer.
      const frozen = input.scheduledFor && blockers.some((b) => b.code === "FROZEN");
      refused = new AppError(code, blockers.map((b) => b.message).join(" "), {
        cause: { blockers },
        scope: { applicationId: env.applicationId, ...about },
        ...(frozen ? { fieldErrors: { scheduledFor: ["A freeze covers this time: pick another, or give a freeze override reason."] } } : {}),
      });
      throw refused;
    }
    await assertNoActiveDeployment(tx, env.id, env.name);
    await assertSiteFloorHolds(tx, env);
    const live = await liveReleaseOf(tx, env.id);
    const d = await tx.deployment.create({
      data: {
        releaseId: release.id,
        environmentId: env.id,
        kind: "DEPLOY",
        strategy: env.strategy,
        batchSize: env.batchSize,
        // The site settings travel with the deployment: a change while it runs cannot move its floor.
        siteOrder: env.siteOrder,
        siteFloor: env.siteFloor,
        pauseAfterFirstSite: env.pauseAfterFirstSite,
        status: input.scheduledFor ? "SCHEDULED" : "QUEUED",
        // What the servers run now: what a failure rolls them back to (for a redeploy, the same release).
        previousReleaseId: live?.releaseId ?? null,
        // Where this result goes in the history a revert walks back (a redeploy takes the running one's place).
        returnToDeploymentId: await returnToForDeployment(tx, env.id, release.id),
        requestedById: actor.type === "USER" ? actor.id : actor.createdById,
        reason: input.reason,
        freezeOverrideReason: facts.activeFreeze ? (input.freezeOverrideReason ?? null) : null,
        scheduledFor: input.scheduledFor ?? null,
      },
    });
    await recordAuditEvent(tx, actor, {
      type: "DEPLOYMENT_REQUESTED",
      object: { type: "Deployment", id: d.id },
      scope: { customerId: env.application.customerId, applicationId: env.applicationId, environmentId: env.id, releaseId: release.id },
      summary: input.scheduledFor
        ? `scheduled deployment of ${release.version} to ${env.application.name} / ${env.name} for ${input.scheduledFor.toISOString()}`
        : `requested deployment of ${release.version} to ${env.application.name} / ${env.name}`,
      after: {
        version: release.version,
        artifactSha256: release.artifactSha256,
        previousReleaseId: d.previousReleaseId,
        strategy: d.strategy,
        batchSize: d.batchSize,
        siteOrder: d.siteOrder,
        siteFloor: d.siteFloor,
        pauseAfterFirstSite: d.pauseAfterFirstSite,
        reason: d.reason,
        freezeOverrideReason: d.freezeOverrideReason,
        scheduledFor: d.scheduledFor?.toISOString() ?? null,
      },
    });
    await notifyInTransaction(tx, CHANNELS.deployment, d.id);
    // The engine's first move commits with the request: the commit that records it also queues the first jobs.
    const started = d.status === "QUEUED" && (await advanceRolloutInTransaction(tx, d.id));
    return { ...d, started };
  }).catch(async (e: unknown) => {
    // A deployment the gates refused (not approved, not accepted, frozen…) is an attempt an auditor looks for on
    // the release's evidence page, as a refusal for lack of permission is (that one the entry point records).
    const gates = refused as AppError | null; // assigned inside the transaction's callback
    if (gates && e === gates && gates.code === "PRECONDITION_FAILED") await recordDenial(actor, `deploying ${release.version} to ${env.name}`, gates, "DEPLOYMENT_REFUSED");
    throw e;
  });
  // Started, or waiting for its time: either is told to the people concerned, after the commit.
  if (deployment.started || deployment.status === "SCHEDULED") announceStatusChange(deployment.id);
  return { deployment: { id: deployment.id, status: deployment.status, scheduledFor: deployment.scheduledFor } };
}

/** Serialises deployment requests per environment: the active-deployment check below cannot race. */
export async function lockEnvironment(tx: Tx, environmentId: string): Promise<void> {
  await tx.$queryRaw`SELECT id FROM "Environment" WHERE id = ${environmentId}::uuid FOR UPDATE`;
}

/** One deployment per environment at a time (scheduled ones included: they would collide when they start). */
export async function assertNoActiveDeployment(tx: Tx, environmentId: string, environmentName: string): Promise<void> {
  const active = await tx.deployment.findFirst({
    where: { environmentId, status: { in: ["SCHEDULED", "QUEUED", "RUNNING", "ROLLING_BACK"] } },
    include: { release: { select: { version: true } } },
  });
  if (active) {
    const what = active.status === "SCHEDULED" ? `is scheduled for ${active.scheduledFor?.toISOString().slice(0, 16).replace("T", " ")} UTC` : "is in progress";
    throw conflict(`A deployment of ${releaseLabel(active.release)} to ${environmentName} ${what}. Wait for it to finish or cancel it first.`);
  }
}

/** Every enrolled server must be reachable before a rollout starts: a silent node would stall it half-way. */
export async function assertFleetReady(environmentId: string, environmentName: string): Promise<void> {
  const targets = await db.target.findMany({ where: { environmentId, status: "ACTIVE" }, select: { name: true, lastSeenAt: true } });
  if (targets.length === 0) {
    throw new AppError("PRECONDITION_FAILED", `${environmentName} has no servers with an enrolled agent. Add a server and install its agent first.`);
  }
  const cutoff = Date.now() - OFFLINE_AFTER_MS;
  const offline = targets.filter((t) => !t.lastSeenAt || t.lastSeenAt.getTime() < cutoff).map((t) => t.name);
  if (offline.length > 0) {
    throw new AppError("PRECONDITION_FAILED", `${offline.join(", ")} ${offline.length === 1 ? "is" : "are"} offline in ${environmentName}. Bring the agent back or remove the server, then deploy.`);
  }
}
