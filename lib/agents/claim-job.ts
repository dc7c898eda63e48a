import "server-only";
import { randomUUID } from "node:crypto";
import { AGENT_API_PATHS, ANALYSIS_AGENT_VERSION, MULTI_BALANCER_AGENT_VERSION, type TClaimResponse, type TJob, type TJobAnalysis, type TJobBalancer } from "../contracts/agent-api";
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
  const claimed = await sqlTransaction(async (query) => {
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
    const bakes = row.action === "ACTIVATE" && row.deploymentKind === "DEPLOY" && row.bakeSeconds > 0;
    const compareWith = bakes ? await query<ComparisonRow>(COMPARISON_QUERY, [row.environmentId, row.targetId, row.deploymentReleaseId, row.deploymentId]) : [];
    return { row, analysis: bakes ? jobAnalysis(row, compareWith) : null };
  });
  if (!claimed) return null;
  const { row, analysis } = claimed;
  // An agent from before balancers were objects drains on one balancer only: behind several, the node would keep
  // serving on the others while it is replaced. The step fails instead, saying what to do.
  if (row.action !== "STAGE" && row.balancers.length > 1 && !readsEveryBalancer(row.agentVersion)) {
    await refuseOutdatedAgent(
      agent,
      row,
      `takes a server out of one load balancer only, and ${row.targetName} is behind ${row.balancers.length} (${row.balancers.map((b) => b.name).join(", ")})`,
      MULTI_BALANCER_AGENT_VERSION,
    );
    return null;
  }
  // An agent from before the post-deploy analysis ignores it: the bake would pass with nobody watching. Only where
  // there is something to watch (an HAProxy balancer); elsewhere the analysis has nothing to judge in any case.
  if (analysis && row.balancers.some((b) => b.kind === "HAPROXY") && !agentAtLeast(row.agentVersion, ANALYSIS_AGENT_VERSION)) {
    await refuseOutdatedAgent(
      agent,
      row,
      `cannot watch a server once it serves again, and ${row.environmentName} asks for a post-deploy analysis of ${row.bakeSeconds} s (rollout settings)`,
      ANALYSIS_AGENT_VERSION,
    );
    return null;
  }
  return toJob(row, analysis);
}

async function refuseOutdatedAgent(agent: AuthenticatedAgent, row: JobRow, why: string, needed: string): Promise<void> {
  const message =
    `The agent of ${row.targetName} is version ${row.agentVersion ?? "unknown"}, which ${why}. ` +
    `Install agent ${needed} or newer (/downloads/releasegate-agent.mjs) on it and deploy again.`;
  const deploymentId = await db.$transaction((tx) => finishStep(tx, agent, row.stepId, { status: "FAILED", message }));
  if (deploymentId) await advanceRollout(deploymentId);
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
    e."bakeSeconds", e."bakeMax5xxPercent", e."bakeMaxResponseMs", e."bakeMaxResponseRatio",
    d."releaseId" AS "deploymentReleaseId", (SELECT p.version FROM "Release" p WHERE p.id = d."previousReleaseId") AS "previousVersion",
    t.id AS "targetId", t.name AS "targetName", t."agentVersion",
    -- Every balancer the server is behind, as the job carries them (by name, then backend: a stable order).
    COALESCE((SELECT json_agg(json_build_object('kind', b.kind, 'name', b.name, 'address', b.address, 'drainCommand', b."drainCommand",
        'undrainCommand', b."undrainCommand", 'backend', m.backend, 'server', m.server) ORDER BY b.name, m.backend)
      FROM "BalancerMembership" m JOIN "Balancer" b ON b.id = m."balancerId" WHERE m."targetId" = t.id), '[]') AS "balancers",
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

/**
 * What a baking node is compared with: the environment's other enrolled servers that still run the previous build
 * now (not the deployment's release, and not yet activated by it: a server of the same batch is out of rotation),
 * by their HAProxy memberships, whose counters the agent reads over the same window.
 */
const COMPARISON_QUERY = `
  SELECT t.name AS target, b.name AS balancer, b.address, m.backend, m.server
  FROM "Target" t
  JOIN "BalancerMembership" m ON m."targetId" = t.id
  JOIN "Balancer" b ON b.id = m."balancerId" AND b.kind = 'HAPROXY' AND b.address IS NOT NULL
  WHERE t."environmentId" = $1::uuid AND t.id <> $2::uuid AND t.status = 'ACTIVE'
    AND t."liveReleaseId" IS DISTINCT FROM $3::uuid
    AND NOT EXISTS (SELECT 1 FROM "DeploymentStep" a WHERE a."deploymentId" = $4::uuid AND a."targetId" = t.id AND a.action = 'ACTIVATE')
  ORDER BY t.name, b.name, m.backend`;
type ComparisonRow = { target: string; balancer: string; address: string; backend: string; server: string };

/**
 * The fewest responses in a bake's window that say anything: with 20, one 5xx is already 5%. Below it the analysis
 * passes saying there was too little traffic to judge.
 */
const MIN_RESPONSES_TO_JUDGE = 20;

function jobAnalysis(r: JobRow, compareWith: ComparisonRow[]): TJobAnalysis {
  return {
    bakeSeconds: r.bakeSeconds,
    max5xxPercent: r.bakeMax5xxPercent,
    maxResponseMs: r.bakeMaxResponseMs,
    maxResponseRatio: r.bakeMaxResponseRatio,
    minResponses: MIN_RESPONSES_TO_JUDGE,
    previous: { version: r.previousVersion, servers: compareWith },
  };
}

type Nullable = string | null;
type JobRow = {
  stepId: string; leaseId: string; action: TJob["action"]; attempt: number;
  deploymentId: string; deploymentKind: TJob["deployment"]["kind"];
  applicationId: string; applicationName: string; applicationSlug: string;
  environmentId: string; environmentName: string; environmentSlug: string;
  stopCommand: Nullable; startCommand: Nullable; backupCommand: Nullable; migrateCommand: Nullable; validateCommand: Nullable;
  maintenanceOnCommand: Nullable; maintenanceOffCommand: Nullable; healthCheckUrl: Nullable; healthCheckExpectsVersion: boolean; healthCheckFailAfter5xx: number;
  hookTimeoutSeconds: number; keepReleases: number; persistentPaths: string[];
  bakeSeconds: number; bakeMax5xxPercent: number; bakeMaxResponseMs: number | null; bakeMaxResponseRatio: number | null;
  deploymentReleaseId: Nullable; previousVersion: Nullable;
  targetId: string; targetName: string; agentVersion: Nullable;
  balancers: { kind: "HAPROXY" | "HOOK"; name: string; address: Nullable; drainCommand: Nullable; undrainCommand: Nullable; backend: string; server: string }[];
  releaseId: Nullable; version: string; artifactSha256: string; artifactSize: string; artifactFileName: string; needsMigration: boolean;
  runMigration: boolean | null;
  restorePath: Nullable;
};

function toJob(r: JobRow, analysis: TJobAnalysis | null): TJob {
  if (!r.releaseId) throw new Error(`step ${r.stepId}: a rollback needs a release or a directory to return to`);
  const loadBalancers = jobBalancers(r.balancers);
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
    loadBalancers,
    // What an agent before 0.3.0 reads: it knows one balancer (jobs behind more never reach one, see tryClaim).
    loadBalancer: legacyBalancer(loadBalancers[0]),
    analysis,
  };
}

function jobBalancers(rows: JobRow["balancers"]): TJobBalancer[] {
  return rows.map((b) =>
    b.kind === "HAPROXY"
      ? { kind: "HAPROXY", name: b.name, address: b.address ?? "", backend: b.backend, server: b.server }
      : { kind: "HOOK", name: b.name, drainCommand: b.drainCommand, undrainCommand: b.undrainCommand, backend: b.backend, server: b.server },
  );
}

function legacyBalancer(b: TJobBalancer | undefined): TJob["loadBalancer"] {
  if (!b) return { kind: "NONE" };
  return b.kind === "HAPROXY" ? { kind: "HAPROXY", address: b.address, backend: b.backend, server: b.server } : { kind: "HOOK", drainCommand: b.drainCommand, undrainCommand: b.undrainCommand };
}

/** Whether the agent reads every balancer of a job (`loadBalancers`): from MULTI_BALANCER_AGENT_VERSION on. */
export function readsEveryBalancer(agentVersion: string | null): boolean {
  return agentAtLeast(agentVersion, MULTI_BALANCER_AGENT_VERSION);
}

/** Whether an agent's version is `min` or newer, compared numerically (0.10.0 is newer than 0.9.0). */
export function agentAtLeast(agentVersion: string | null, min: string): boolean {
  const parts = (v: string) => v.split(/[.-]/).slice(0, 3).map((p) => Number.parseInt(p, 10) || 0);
  if (!agentVersion) return false;
  const [a, b] = [parts(agentVersion), parts(min)];
  for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  return true;
}
