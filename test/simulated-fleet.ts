// Simulated agents for integration tests: enrolled through the domain like real ones, driven by calling the same
// domain functions the agent API routes call (tryClaim, reportStep, appendStepLogs).
import { createMember, createReleaseRow, createTenant, environmentsOf, testContext, uniq } from "./factories";
import { appendStepLogs } from "../lib/agents/append-step-logs";
import { type AuthenticatedAgent, authenticateAgent } from "../lib/agents/authenticate-agent";
import { tryClaim } from "../lib/agents/claim-job";
import { enrollAgent } from "../lib/agents/enroll-agent";
import { recordHeartbeat } from "../lib/agents/record-heartbeat";
import { reportStep } from "../lib/agents/report-step";
import type { UserActor } from "../lib/auth/actor";
import type { TJob } from "../lib/contracts/agent-api";
import { db } from "../lib/db/client";
import { addTarget } from "../lib/targets/add-target";

type Tenant = Awaited<ReturnType<typeof createTenant>>;

export interface Fleet {
  tenant: Tenant;
  ops: UserActor;
  dev: UserActor;
  environmentId: string;
  agents: AuthenticatedAgent[];
}

/** An application whose production has `nodes` enrolled, online servers and no acceptance/approval gates. */
export async function simulatedFleet(nodes: number, env: { batchSize?: number; autoRollback?: boolean } = {}): Promise<Fleet> {
  const tenant = await createTenant();
  const ops = await createMember(tenant, "OPS");
  const dev = await createMember(tenant, "DEVELOPER");
  const production = (await environmentsOf(tenant.application.id))[2]!;
  await db.environment.update({
    where: { id: production.id },
    data: { requiresPreviousSuccess: false, requiresAcceptance: false, requiredApprovals: 0, batchSize: env.batchSize ?? 1, autoRollback: env.autoRollback ?? true },
  });
  const agents: AuthenticatedAgent[] = [];
  for (let i = 1; i <= nodes; i++) {
    const { enrollmentToken } = await addTarget(ops, { environmentId: production.id, name: `web-${i}` });
    const { agentSecret } = await enrollAgent({ token: enrollmentToken, hostname: `web-${i}`, agentVersion: "test" }, testContext());
    const agent = await authenticateAgent(`Bearer ${agentSecret}`, testContext());
    await recordHeartbeat(agent, { agentVersion: "test", hostname: `web-${i}`, liveReleaseId: null, stagedReleaseIds: [] });
    agents.push(agent);
  }
  return { tenant, ops, dev, environmentId: production.id, agents };
}

export const release = (f: Fleet, version = uniq("1.0")) => createReleaseRow({ applicationId: f.tenant.application.id, uploadedById: f.dev.id, version });

/** SILENT: the agent acknowledges the job and then never reports again (it was cut off, or its agent revoked). */
export type Outcome = "SUCCEEDED" | "FAILED" | "SILENT";
/**
 * Plays every agent until the deployment ends (or `until` says to stop, e.g. once it paused between sites): each
 * claims (without waiting), acknowledges, and reports the outcome `decide` gives. `afterRound` runs after each round
 * (what happens meanwhile: ops revoke a server...). Returns the jobs in the order they were run.
 */
export async function drive(
  f: Fleet,
  deploymentId: string,
  decide: (job: TJob, agent: AuthenticatedAgent) => Outcome = () => "SUCCEEDED",
  afterRound?: () => Promise<void>,
  until: (d: { status: string; pausedAt: Date | null; continuedAt: Date | null }) => boolean = (d) => ["SUCCEEDED", "FAILED", "CANCELLED"].includes(d.status),
) {
  const ran: { target: string; action: string; version: string; batch: number }[] = [];
  for (let round = 0; round < 50; round++) {
    const d = await db.deployment.findUniqueOrThrow({ where: { id: deploymentId } });
    if (until(d)) return { deployment: d, ran };
    // As the agent API authenticates every call: a revoked (or rotated) server's agent is refused.
    const enrolled = new Set((await db.target.findMany({ where: { id: { in: f.agents.map((a) => a.targetId) }, status: "ACTIVE" }, select: { id: true } })).map((t) => t.id));
    for (const agent of f.agents) {
      if (!enrolled.has(agent.targetId)) continue;
      const job = await tryClaim(agent);
      if (!job) continue;
      await reportStep(agent, job.stepId, { leaseId: job.leaseId, status: "RUNNING", phase: "working" });
      await appendStepLogs(agent, job.stepId, { leaseId: job.leaseId, chunks: [{ seq: 0, text: `${job.action} ${job.release.version}\n` }] });
      const outcome = decide(job, agent);
      const { batch } = await db.deploymentStep.findUniqueOrThrow({ where: { id: job.stepId }, select: { batch: true } });
      ran.push({ target: job.target.name, action: job.action, version: job.release.version, batch });
      if (outcome === "SILENT") continue;
      await reportStep(agent, job.stepId, { leaseId: job.leaseId, status: outcome, ...(outcome === "FAILED" ? { message: "health check failed: 500" } : {}) });
    }
    await afterRound?.();
  }
  throw new Error("deployment did not finish");
}

