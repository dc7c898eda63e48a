import "server-only";
import { randomUUID } from "node:crypto";
import { AGENT_API_PATHS, type TClaimResponse, type TJob } from "../contracts/agent-api";
import { db, sqlQuery, type Tx } from "../db/client";
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
 */
export async function tryClaim(agent: AuthenticatedAgent): Promise<TJob | null> {
  // Almost every poll finds nothing: answer that with one indexed read (plain SQL, see sqlQuery) instead of an
  // interactive transaction, which would hold one of the pool's few connections per waiting agent.
  const [open] = await sqlQuery(`SELECT 1 FROM "DeploymentStep" WHERE "targetId" = $1::uuid AND status IN ('PENDING', 'CLAIMED', 'RUNNING') LIMIT 1`, [agent.targetId]);
  if (!open) return null;
  const interrupted = new Set<string>();
  const job = await db.$transaction(async (tx) => {
    const running = await tx.deploymentStep.findMany({ where: { targetId: agent.targetId, status: "RUNNING" }, select: { id: true } });
    for (const s of running) {
      const deploymentId = await finishStep(tx, agent, s.id, {
        status: "INTERRUPTED",
        message: "The agent asked for new work while this step was running: it restarted mid-step.",
      });
      if (deploymentId) interrupted.add(deploymentId);
    }
    const rows = await tx.$queryRaw<{ id: string }[]>`
      SELECT id FROM "DeploymentStep"
      WHERE "targetId" = ${agent.targetId}::uuid AND status IN ('PENDING', 'CLAIMED')
      ORDER BY "createdAt", id
      LIMIT 1
      FOR UPDATE SKIP LOCKED`;
    const stepId = rows[0]?.id;
    if (!stepId) return null;
    const leaseId = randomUUID();
    const step = await tx.deploymentStep.update({
      where: { id: stepId },
      data: { status: "CLAIMED", leaseId, leaseExpiresAt: new Date(Date.now() + ACK_SECONDS * 1000), attempt: { increment: 1 } },
    });
    return buildJob(tx, step.id);
  });
  for (const deploymentId of interrupted) await advanceRollout(deploymentId);
  return job;
}

/** Everything the agent needs to run a step, so it never has to ask the server anything else mid-step. */
async function buildJob(tx: Tx, stepId: string): Promise<TJob> {
  const step = await tx.deploymentStep.findUniqueOrThrow({
    where: { id: stepId },
    include: {
      target: true,
      deployment: { include: { release: true, previousRelease: true, environment: { include: { application: true } } } },
    },
  });
  const d = step.deployment;
  const env = d.environment;
  const release = step.action === "ROLLBACK" ? d.previousRelease : d.release;
  if (!release) throw new Error(`step ${step.id}: a rollback needs the deployment's previous release`);
  // Migrations run once per deployment: on the first node activated, before it starts the new build.
  const firstActivation =
    step.action === "ACTIVATE" &&
    (await tx.deploymentStep.findFirst({ where: { deploymentId: d.id, action: "ACTIVATE" }, orderBy: [{ batch: "asc" }, { createdAt: "asc" }, { id: "asc" }], select: { id: true } }))?.id === step.id;
  const t = step.target;
  return {
    stepId: step.id,
    leaseId: step.leaseId!,
    leaseSeconds: LEASE_SECONDS,
    action: step.action,
    attempt: step.attempt,
    deployment: { id: d.id, kind: d.kind },
    application: { id: env.application.id, name: env.application.name, slug: env.application.slug },
    environment: { id: env.id, name: env.name, slug: env.slug },
    target: { id: t.id, name: t.name },
    release: {
      id: release.id,
      version: release.version,
      sha256: release.artifactSha256,
      size: Number(release.artifactSize),
      fileName: release.artifactFileName,
      downloadPath: AGENT_API_PATHS.artifact(release.id),
      needsMigration: release.needsMigration,
    },
    runMigration: firstActivation && d.kind === "DEPLOY" && release.needsMigration,
    hooks: {
      stop: env.stopCommand,
      start: env.startCommand,
      backup: env.backupCommand,
      migrate: env.migrateCommand,
      validate: env.validateCommand,
      maintenanceOn: env.maintenanceOnCommand,
      maintenanceOff: env.maintenanceOffCommand,
      healthCheckUrl: env.healthCheckUrl,
      healthCheckExpectsVersion: env.healthCheckExpectsVersion,
      timeoutSeconds: env.hookTimeoutSeconds,
    },
    keepReleases: env.keepReleases,
    persistentPaths: env.persistentPaths,
    loadBalancer:
      t.lbKind === "HAPROXY" && t.lbAddress && t.lbBackend && t.lbServer
        ? { kind: "HAPROXY", address: t.lbAddress, backend: t.lbBackend, server: t.lbServer }
        : t.lbKind === "HOOK"
          ? { kind: "HOOK", drainCommand: t.drainCommand, undrainCommand: t.undrainCommand }
          : { kind: "NONE" },
  };
}
