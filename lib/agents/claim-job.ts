import "server-only";
import { randomUUID } from "node:crypto";
import { AGENT_API_PATHS, type TClaimResponse, type TJob } from "../contracts/agent-api";
import { db, sqlQuery, sqlTransaction } from "../db/client";
import { armWakeup, CHANNELS, recheckAfterMs } from "../events/wakeups";
import type { AuthenticatedAgent } from "./authenticate-agent";
import { advanceRollout } from "../rollouts/advance-rollout";
import { finishStep } from "./finish-step";
import { ACK_SECONDS, LEASE_SECONDS } from "./lease-timing";

/**
 * The agent's long-poll: answers at once with the target's next job, leased to this caller, or holds the request
 * until work is queued for the target (a NOTIFY from any instance; re-checking every FALLBACK_POLL_MS while the
 * listener is down) until `waitSeconds` pass (then `{ job: null }`). A client that disconnects stops the wait.
 */
export async function claimJob(agent: AuthenticatedAgent, waitSeconds: number, signal?: AbortSignal): Promise<TClaimResponse> {
  const deadline = Date.now() + waitSeconds * 1000;
  for (;;) {
    // Arm before checking: work queued between the check and the wait still wakes us.
    const wakeup = armWakeup(CHANNELS.targetWork, agent.targetId);
    const job = await tryClaim(agent);
    const left = deadline - Date.now();
    if (job || left <= 0 || signal?.aborted) {
      wakeup.cancel();
      return { job };
    }
    await wakeup.wait(recheckAfterMs(left), signal);
  }
}

/**
 * Claims the target's oldest pending step with FOR UPDATE SKIP LOCKED (two polls of the same agent cannot both
 * get it). A step the server still thinks is running on this agent is interrupted first: the agent runs one job
 * at a time, so asking for work means it lost that one (restart without its journal). A claimed-but-never-
 * acknowledged step is handed out again under a new lease (its first answer was lost); the old lease is fenced off.
 *
 * Plain SQL (see sqlQuery): every poll of every agent comes here, and when a rollout wakes its servers they all
 * claim at once, so the claim's cost is the dispatch latency. The rare interruption goes through the domain.
 */
export async function tryClaim(agent: AuthenticatedAgent): Promise<TJob | null> {
  // Almost every poll finds nothing: one indexed read, no transaction.
  const open = await sqlQuery<{ status: string }>(
    `SELECT status FROM "DeploymentStep" WHERE "targetId" = $1::uuid AND status IN ('PENDING', 'CLAIMED', 'RUNNING')`,
    [agent.targetId],
  );
  if (open.length === 0) return null;
  if (open.some((s) => s.status === "RUNNING")) await interruptRunningSteps(agent);
  return sqlTransaction(async (query) => {
    const [claimed] = await query<{ id: string }>(
      `UPDATE "DeploymentStep"
       SET status = 'CLAIMED', "leaseId" = $2::uuid, "leaseExpiresAt" = $3, attempt = attempt + 1, "updatedAt" = now()
       WHERE id = (
         SELECT id FROM "DeploymentStep"
         WHERE "targetId" = $1::uuid AND status IN ('PENDING', 'CLAIMED')
         ORDER BY "createdAt", id
         LIMIT 1
         FOR UPDATE SKIP LOCKED)
       RETURNING id`,
      [agent.targetId, randomUUID(), new Date(Date.now() + ACK_SECONDS * 1000)],
    );
    if (!claimed) return null;
    const [row] = await query<JobRow>(JOB_QUERY, [claimed.id]);
    if (!row) throw new Error(`step ${claimed.id}: claimed, but its job could not be read`);
    return toJob(row);
  });
}

/** Ends as INTERRUPTED what the server thinks this agent is still running (see tryClaim), and lets the rollouts react. */
async function interruptRunningSteps(agent: AuthenticatedAgent): Promise<void> {
  const interrupted = await db.$transaction(async (tx) => {
    const deployments = new Set<string>();
    const running = await tx.deploymentStep.findMany({ where: { targetId: agent.targetId, status: "RUNNING" }, select: { id: true } });
    for (const s of running) {
      const deploymentId = await finishStep(tx, agent, s.id, {
        status: "INTERRUPTED",
        message: "The agent asked for new work while this step was running: it restarted mid-step.",
      });
      if (deploymentId) deployments.add(deploymentId);
    }
    return deployments;
  });
  for (const deploymentId of interrupted) await advanceRollout(deploymentId);
}

/** Everything the agent needs to run a step, so it never has to ask the server anything else mid-step. */
const JOB_QUERY = `
  SELECT s.id AS "stepId", s."leaseId", s.action, s.attempt,
    d.id AS "deploymentId", d.kind AS "deploymentKind",
    a.id AS "applicationId", a.name AS "applicationName", a.slug AS "applicationSlug",
    e.id AS "environmentId", e.name AS "environmentName", e.slug AS "environmentSlug",
    e."stopCommand", e."startCommand", e."backupCommand", e."migrateCommand", e."validateCommand",
    e."maintenanceOnCommand", e."maintenanceOffCommand", e."healthCheckUrl", e."healthCheckExpectsVersion", e."healthCheckFailAfter5xx",
    e."hookTimeoutSeconds", e."keepReleases", e."persistentPaths",
    t.id AS "targetId", t.name AS "targetName", t."lbKind", t."lbAddress", t."lbBackend", t."lbServer", t."drainCommand", t."undrainCommand",
    r.id AS "releaseId", r.version, r."artifactSha256", r."artifactSize"::text AS "artifactSize", r."artifactFileName", r."needsMigration",
    -- A directory outside Releasegate to switch back to (finish-step.ts stepInstalls says the same).
    CASE WHEN s.action = 'ROLLBACK' THEN act."fromPath" WHEN s.action = 'ACTIVATE' AND d."releaseId" IS NULL THEN t."takenOverFromPath" END AS "restorePath",
    -- Migrations run once per deployment: on the first node activated, before it starts the new build.
    (s.action = 'ACTIVATE' AND d.kind = 'DEPLOY' AND r."needsMigration" AND s.id = (
      SELECT f.id FROM "DeploymentStep" f WHERE f."deploymentId" = d.id AND f.action = 'ACTIVATE'
      ORDER BY f.batch, f."createdAt", f.id LIMIT 1)) AS "runMigration"
  FROM "DeploymentStep" s
  JOIN "Deployment" d ON d.id = s."deploymentId"
  JOIN "Environment" e ON e.id = d."environmentId"
  JOIN "Application" a ON a.id = e."applicationId"
  JOIN "Target" t ON t.id = s."targetId"
  -- What the node's activation in this deployment replaced: what its rollback returns it to.
  LEFT JOIN LATERAL (
    SELECT a."fromPath", a."fromReleaseId" FROM "DeploymentStep" a
    WHERE s.action = 'ROLLBACK' AND a."deploymentId" = d.id AND a."targetId" = s."targetId" AND a.action = 'ACTIVATE'
    ORDER BY a."createdAt" DESC, a.id DESC LIMIT 1) act ON true
  -- The release installed: a rollback's is what the activation replaced (else what the deployment replaced). A
  -- restore installs nothing; its job names the release the node is taken off.
  LEFT JOIN "Release" r ON r.id = CASE
    WHEN s.action = 'ROLLBACK' AND act."fromPath" IS NOT NULL THEN COALESCE(d."releaseId", d."previousReleaseId")
    WHEN s.action = 'ROLLBACK' THEN COALESCE(act."fromReleaseId", d."previousReleaseId")
    WHEN d."releaseId" IS NULL THEN d."previousReleaseId"
    ELSE d."releaseId" END
  WHERE s.id = $1::uuid`;

type Nullable = string | null;
type JobRow = {
  stepId: string; leaseId: string; action: TJob["action"]; attempt: number;
  deploymentId: string; deploymentKind: TJob["deployment"]["kind"];
  applicationId: string; applicationName: string; applicationSlug: string;
  environmentId: string; environmentName: string; environmentSlug: string;
  stopCommand: Nullable; startCommand: Nullable; backupCommand: Nullable; migrateCommand: Nullable; validateCommand: Nullable;
  maintenanceOnCommand: Nullable; maintenanceOffCommand: Nullable; healthCheckUrl: Nullable; healthCheckExpectsVersion: boolean; healthCheckFailAfter5xx: number;
  hookTimeoutSeconds: number; keepReleases: number; persistentPaths: string[];
  targetId: string; targetName: string; lbKind: "NONE" | "HAPROXY" | "HOOK"; lbAddress: Nullable; lbBackend: Nullable; lbServer: Nullable; drainCommand: Nullable; undrainCommand: Nullable;
  releaseId: Nullable; version: string; artifactSha256: string; artifactSize: string; artifactFileName: string; needsMigration: boolean;
  runMigration: boolean | null;
  restorePath: Nullable;
};

function toJob(r: JobRow): TJob {
  if (!r.releaseId) throw new Error(`step ${r.stepId}: a rollback needs a release or a directory to return to`);
  return {
    stepId: r.stepId,
    leaseId: r.leaseId,
    leaseSeconds: LEASE_SECONDS,
    action: r.action,
    attempt: r.attempt,
    deployment: { id: r.deploymentId, kind: r.deploymentKind },
    application: { id: r.applicationId, name: r.applicationName, slug: r.applicationSlug },
    environment: { id: r.environmentId, name: r.environmentName, slug: r.environmentSlug },
    target: { id: r.targetId, name: r.targetName },
    release: {
      id: r.releaseId,
      version: r.version,
      sha256: r.artifactSha256,
      size: Number(r.artifactSize),
      fileName: r.artifactFileName,
      downloadPath: AGENT_API_PATHS.artifact(r.releaseId),
      needsMigration: r.needsMigration,
    },
    runMigration: r.runMigration === true,
    restore: r.restorePath ? { path: r.restorePath } : null,
    hooks: {
      stop: r.stopCommand,
      start: r.startCommand,
      backup: r.backupCommand,
      migrate: r.migrateCommand,
      validate: r.validateCommand,
      maintenanceOn: r.maintenanceOnCommand,
      maintenanceOff: r.maintenanceOffCommand,
      healthCheckUrl: r.healthCheckUrl,
      healthCheckExpectsVersion: r.healthCheckExpectsVersion,
      healthCheckFailAfter5xx: r.healthCheckFailAfter5xx,
      timeoutSeconds: r.hookTimeoutSeconds,
    },
    keepReleases: r.keepReleases,
    persistentPaths: r.persistentPaths,
    loadBalancer:
      r.lbKind === "HAPROXY" && r.lbAddress && r.lbBackend && r.lbServer
        ? { kind: "HAPROXY", address: r.lbAddress, backend: r.lbBackend, server: r.lbServer }
        : r.lbKind === "HOOK"
          ? { kind: "HOOK", drainCommand: r.drainCommand, undrainCommand: r.undrainCommand }
          : { kind: "NONE" },
  };
}
