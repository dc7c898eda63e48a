// The post-deploy analysis on the control plane's side, against real PostgreSQL, with agents simulated by calling
// the domain functions the agent API routes call: what a job asks the agent to watch and compare with, what a verdict
// does to the rollout, and where it is recorded (the step, the audit record, the deployment page, the release's
// evidence). The watching itself, with real HAProxy and real agents, is test/faults/post-deploy-analysis.int.test.ts.
import { beforeAll, describe, expect, it } from "vitest";
import { addError, addReading, EMPTY_WINDOW, judgeBake } from "../../agent/src/analysis";
import { expectAppError } from "../../test/assertions";
import { auditEventsSince, createMember, lastAuditSeq } from "../../test/factories";
import { type Fleet, release, simulatedFleet } from "../../test/simulated-fleet";
import { getReleaseEvidence } from "../audit/get-release-evidence";
import type { UserActor } from "../auth/actor";
import { addBalancerMember } from "../balancers/add-balancer-member";
import { createBalancer } from "../balancers/create-balancer";
import { type TAnalysisResult, type TJob, ZStepReportSchema } from "../contracts/agent-api";
import { db } from "../db/client";
import { getDeployment } from "../deployments/get-deployment";
import { requestDeployment } from "../deployments/request-deployment";
import { requestRevert } from "../deployments/request-revert";
import { updateRolloutSettings } from "../environments/update-rollout-settings";
import { tryClaim } from "./claim-job";
import { reportStep } from "./report-step";

/** Production of 3 servers behind one HAProxy, with agents that run the analysis, and 1.0.0 live on all of them. */
async function bakingFleet(): Promise<Fleet & { auditor: UserActor; v1: string }> {
  const f = await simulatedFleet(3);
  await db.target.updateMany({ where: { environmentId: f.environmentId }, data: { agentVersion: "0.4.0" } });
  const b = await createBalancer(f.ops, { environmentId: f.environmentId, name: "haproxy", kind: "HAPROXY", address: "/run/haproxy/admin.sock" });
  for (const t of await db.target.findMany({ where: { environmentId: f.environmentId }, orderBy: { name: "asc" } })) {
    await addBalancerMember(f.ops, { balancerId: b.id, targetId: t.id, backend: "app", server: t.name });
  }
  const v1 = await release(f, "1.0.0");
  await runToEnd(f, (await requestDeployment(f.ops, { environmentId: f.environmentId, releaseId: v1.id })).deployment.id, () => "PASSED");
  return { ...f, auditor: await createMember(f.tenant, "AUDITOR"), v1: v1.id };
}

/** Every agent claims what is there for it now (no waiting). */
async function claimAll(f: Fleet): Promise<TJob[]> {
  const jobs: TJob[] = [];
  for (const agent of f.agents) {
    const job = await tryClaim(agent);
    if (job) jobs.push(job);
  }
  return jobs;
}

/** A verdict as the agent's own analysis gives it, for a node that answered `http5xx` of 200 responses with 5xx. */
function verdictOf(job: TJob, http5xx: number): TAnalysisResult {
  const a = job.analysis!;
  const read = (responses: number, errors: number) => addReading(addReading(EMPTY_WINDOW, { responses: 0, http5xx: 0, rtimeMs: 5 }), { responses, http5xx: errors, rtimeMs: 12 });
  return judgeBake({
    settings: a,
    target: job.target.name,
    node: [{ balancer: "haproxy", backend: "app", server: job.target.name, window: read(200, http5xx) }],
    previous: a.previous.servers.map(() => read(200, 0)),
    previousServers: a.previous.servers.length,
    watchedSeconds: a.bakeSeconds,
    final: true,
  })!;
}

/** Plays the agents until the deployment ends; each activation's analysis says `verdict`. */
async function runToEnd(f: Fleet, deploymentId: string, verdict: (job: TJob) => "PASSED" | "FAILED", seen: TJob[] = []) {
  for (let round = 0; round < 30; round++) {
    const d = await db.deployment.findUniqueOrThrow({ where: { id: deploymentId } });
    if (["SUCCEEDED", "FAILED", "CANCELLED"].includes(d.status)) return d;
    for (const job of await claimAll(f)) {
      seen.push(job);
      const agent = f.agents.find((a) => a.targetId === job.target.id)!;
      if (job.action === "ACTIVATE" && job.analysis) {
        const failed = verdict(job) === "FAILED";
        const analysis = verdictOf(job, failed ? 41 : 0);
        await reportStep(agent, job.stepId, { leaseId: job.leaseId, status: failed ? "FAILED" : "SUCCEEDED", message: failed ? analysis.summary : `${job.target.name} serves ${job.release.version}`, analysis });
      } else {
        await reportStep(agent, job.stepId, { leaseId: job.leaseId, status: "SUCCEEDED" });
      }
    }
  }
  throw new Error("the deployment did not end");
}

let f: Awaited<ReturnType<typeof bakingFleet>>;
beforeAll(async () => {
  f = await bakingFleet();
});

describe("a job of a baking environment", () => {
  it("asks each activation to watch its node, beside the servers still on the previous build at that moment", async () => {
    const v2 = await release(f, "2.0.0");
    const jobs: TJob[] = [];
    const d = await runToEnd(f, (await requestDeployment(f.ops, { environmentId: f.environmentId, releaseId: v2.id })).deployment.id, () => "PASSED", jobs);
    expect(d.status).toBe("SUCCEEDED");
    const activations = jobs.filter((j) => j.action === "ACTIVATE");
    expect(activations.map((j) => [j.target.name, j.analysis?.previous.servers.map((s) => s.target)])).toEqual([
      ["web-1", ["web-2", "web-3"]],
      ["web-2", ["web-3"]],
      ["web-3", []],
    ]);
    // A new Production watches each node for a minute, with the default limits.
    expect(activations[0]!.analysis).toEqual({
      bakeSeconds: 60,
      max5xxPercent: 5,
      maxResponseMs: null,
      maxResponseRatio: null,
      minResponses: 20,
      previous: {
        version: "1.0.0",
        servers: [
          { target: "web-2", balancer: "haproxy", address: "/run/haproxy/admin.sock", backend: "app", server: "web-2" },
          { target: "web-3", balancer: "haproxy", address: "/run/haproxy/admin.sock", backend: "app", server: "web-3" },
        ],
      },
    });
    expect(jobs.filter((j) => j.action === "STAGE").map((j) => j.analysis)).toEqual([null, null, null]);
  });

  it("asks nothing of a rollback, nor of a revert's activations, which return to the build that served before", async () => {
    const v3 = await release(f, "3.0.0");
    const jobs: TJob[] = [];
    const failed = await runToEnd(f, (await requestDeployment(f.ops, { environmentId: f.environmentId, releaseId: v3.id })).deployment.id, () => "FAILED", jobs);
    expect(failed.status).toBe("FAILED");
    expect(jobs.filter((j) => j.action === "ROLLBACK").map((j) => [j.target.name, j.analysis])).toEqual([["web-1", null]]);

    const revertJobs: TJob[] = [];
    const { deployment } = await requestRevert(f.ops, { environmentId: f.environmentId, reason: "back to 1.0.0" });
    expect((await runToEnd(f, deployment.id, () => "PASSED", revertJobs)).status).toBe("SUCCEEDED");
    expect(revertJobs.filter((j) => j.action === "ACTIVATE").map((j) => j.analysis)).toEqual([null, null, null]);
  });

  it("is refused to an agent too old to watch a node behind HAProxy, saying what to install; a node behind none is not refused", async () => {
    const web1 = await db.target.findFirstOrThrow({ where: { environmentId: f.environmentId, name: "web-1" } });
    await db.target.update({ where: { id: web1.id }, data: { agentVersion: "0.3.0" } });
    try {
      const v4 = await release(f, "4.0.0");
      const d = await runToEnd(f, (await requestDeployment(f.ops, { environmentId: f.environmentId, releaseId: v4.id })).deployment.id, () => "PASSED");
      expect(d.status).toBe("FAILED");
      expect(d.failureReason).toBe(
        "web-1: activating the release failed: The agent of web-1 is version 0.3.0, which cannot watch a server once it serves again, and Production asks for a post-deploy analysis of 60 s (rollout settings). Install agent 0.4.0 or newer (/downloads/releasegate-agent.mjs) on it and deploy again. Rolled back to the previous release: web-1.",
      );

      await db.balancerMembership.deleteMany({ where: { targetId: web1.id } });
      const v5 = await release(f, "5.0.0");
      const jobs: TJob[] = [];
      expect((await runToEnd(f, (await requestDeployment(f.ops, { environmentId: f.environmentId, releaseId: v5.id })).deployment.id, () => "PASSED", jobs)).status).toBe("SUCCEEDED");
      expect(jobs.find((j) => j.action === "ACTIVATE" && j.target.name === "web-1")!.analysis).not.toBeNull();
    } finally {
      await db.target.update({ where: { id: web1.id }, data: { agentVersion: "0.4.0" } });
      const b = await db.balancer.findFirstOrThrow({ where: { environmentId: f.environmentId } });
      if ((await db.balancerMembership.count({ where: { targetId: web1.id } })) === 0) await addBalancerMember(f.ops, { balancerId: b.id, targetId: web1.id, backend: "app", server: "web-1" });
    }
  });
});

describe("a verdict", () => {
  it("that fails halts the rollout and rolls back, and the deployment says which figure tripped; the step, the page, the audit record and the evidence keep the figures", async () => {
    const v6 = await release(f, "6.0.0");
    const since = await lastAuditSeq();
    const { deployment } = await requestDeployment(f.ops, { environmentId: f.environmentId, releaseId: v6.id });
    const d = await runToEnd(f, deployment.id, () => "FAILED");
    expect(d.status).toBe("FAILED");
    const live = (await db.target.findMany({ where: { environmentId: f.environmentId }, select: { liveReleaseId: true } })).map((t) => t.liveReleaseId);
    expect(new Set(live).size).toBe(1);
    expect(d.failureReason).toMatch(
      /^web-1: activating the release failed: Post-deploy analysis: 20\.5% of the responses of web-1 were 5xx \(41 of 200 in 60 s on haproxy app\/web-1\), over the limit of 5%; servers still on 5\.0\.0: 0\.0% \(0 of 400\), 12 ms\. Rolled back to the previous release: web-1\.$/,
    );

    const page = await getDeployment(f.ops, { deploymentId: deployment.id });
    const activation = page.servers.find((s) => s.name === "web-1")!.steps.find((s) => s.action === "ACTIVATE")!;
    expect(activation.analysis).toMatchObject({ verdict: "FAILED", tripped: "5xx", node: { responses: 200, http5xx: 41 }, previous: { responses: 400, http5xx: 0, version: "5.0.0", servers: 2 } });
    expect(page.servers.find((s) => s.name === "web-2")!.steps.every((s) => s.analysis === null)).toBe(true);

    const events = (await auditEventsSince(since)).filter((e) => e.type.startsWith("DEPLOYMENT_ANALYSIS_"));
    expect(events.map((e) => [e.type, e.actorType, e.releaseId, e.environmentId, e.objectId])).toEqual([["DEPLOYMENT_ANALYSIS_FAILED", "AGENT", v6.id, f.environmentId, activation.id]]);
    expect(events[0]!.summary).toBe(`web-1: ${activation.analysis!.summary}`);
    expect(events[0]!.after).toMatchObject({ verdict: "FAILED", tripped: "5xx", target: "web-1", version: "6.0.0", artifactSha256: v6.artifactSha256, node: { responses: 200, http5xx: 41 } });

    const evidence = await getReleaseEvidence(f.auditor, v6.id);
    expect(evidence.events.filter((e) => e.type === "DEPLOYMENT_ANALYSIS_FAILED").map((e) => e.summary)).toEqual([events[0]!.summary]);
  });

  it("that passes is recorded for each server, and the release's evidence lists every verdict", async () => {
    const v7 = await release(f, "7.0.0");
    const { deployment } = await requestDeployment(f.ops, { environmentId: f.environmentId, releaseId: v7.id });
    expect((await runToEnd(f, deployment.id, () => "PASSED")).status).toBe("SUCCEEDED");
    const evidence = await getReleaseEvidence(f.auditor, v7.id);
    const verdicts = evidence.events.filter((e) => e.type.startsWith("DEPLOYMENT_ANALYSIS_"));
    expect(verdicts.map((e) => [e.type, e.summary.split(":")[0], e.sha256])).toEqual([
      ["DEPLOYMENT_ANALYSIS_PASSED", "web-1", v7.artifactSha256],
      ["DEPLOYMENT_ANALYSIS_PASSED", "web-2", v7.artifactSha256],
      ["DEPLOYMENT_ANALYSIS_PASSED", "web-3", v7.artifactSha256],
    ]);
    expect(verdicts[2]!.summary).toMatch(/^web-3: Post-deploy analysis passed: 0\.0% of the responses of web-3 were 5xx \(0 of 200 in 60 s on haproxy app\/web-3\), average response time 12 ms \(limit 5%\); no server was left on the previous build to compare with\.$/);
    expect(verdicts[0]!.meaning).toMatch(/post-deploy analysis passed/);
  });

  it("comes only with a final report that agrees with it", () => {
    const analysis = judgeBake({
      settings: { bakeSeconds: 30, max5xxPercent: 5, maxResponseMs: null, maxResponseRatio: null, minResponses: 20, previous: { version: null, servers: [] } },
      target: "web-1",
      node: [{ balancer: "haproxy", backend: "app", server: "web-1", window: addError(EMPTY_WINDOW, "ENOENT") }],
      previous: [],
      previousServers: 0,
      watchedSeconds: 30,
      final: true,
    })!;
    expect(analysis.verdict).toBe("PASSED");
    const leaseId = crypto.randomUUID();
    expect(ZStepReportSchema.safeParse({ leaseId, status: "SUCCEEDED", analysis }).success).toBe(true);
    expect(ZStepReportSchema.safeParse({ leaseId, status: "FAILED", analysis }).success).toBe(false);
    expect(ZStepReportSchema.safeParse({ leaseId, status: "RUNNING", analysis }).success).toBe(false);
  });
});

describe("the bake settings", () => {
  const keep = async () => {
    const e = await db.environment.findUniqueOrThrow({ where: { id: f.environmentId } });
    return {
      environmentId: e.id,
      strategy: e.strategy,
      batchSize: e.batchSize,
      autoRollback: e.autoRollback,
      healthCheckUrl: e.healthCheckUrl,
      healthCheckExpectsVersion: e.healthCheckExpectsVersion,
      hookTimeoutSeconds: e.hookTimeoutSeconds,
      keepReleases: e.keepReleases,
      persistentPaths: e.persistentPaths,
    };
  };

  it("are saved from the form, audited, and kept when a caller that does not know them saves the others", async () => {
    const since = await lastAuditSeq();
    const { changed } = await updateRolloutSettings(f.ops, { ...(await keep()), bakeSeconds: "30", bakeMax5xxPercent: "2.5", bakeMaxResponseMs: "800", bakeMaxResponseRatio: "" });
    expect(changed).toEqual(["bakeSeconds", "bakeMax5xxPercent", "bakeMaxResponseMs"]);
    const [event] = await auditEventsSince(since, { objectId: f.environmentId });
    expect([event!.before, event!.after]).toEqual([
      { bakeSeconds: 60, bakeMax5xxPercent: 5, bakeMaxResponseMs: null },
      { bakeSeconds: 30, bakeMax5xxPercent: 2.5, bakeMaxResponseMs: 800 },
    ]);
    expect((await updateRolloutSettings(f.ops, { ...(await keep()), hookTimeoutSeconds: 90 })).changed).toEqual(["hookTimeoutSeconds"]);
    expect(await db.environment.findUniqueOrThrow({ where: { id: f.environmentId } })).toMatchObject({ bakeSeconds: 30, bakeMax5xxPercent: 2.5, bakeMaxResponseMs: 800, bakeMaxResponseRatio: null });
    // Empty limits are no limits.
    expect((await updateRolloutSettings(f.ops, { ...(await keep()), bakeMaxResponseMs: "", bakeMaxResponseRatio: "1.5" })).changed).toEqual(["bakeMaxResponseMs", "bakeMaxResponseRatio"]);
    expect(await db.environment.findUniqueOrThrow({ where: { id: f.environmentId } })).toMatchObject({ bakeMaxResponseMs: null, bakeMaxResponseRatio: 1.5 });
  });

  it.each([
    [{ bakeSeconds: "-1" }, /At least 0/],
    [{ bakeSeconds: "3601" }, /At most 3600/],
    [{ bakeSeconds: "a minute" }, /how long to watch each server/],
    [{ bakeMax5xxPercent: "101" }, /At most 100/],
    [{ bakeMax5xxPercent: "lots" }, /largest share of 5xx responses/],
    [{ bakeMaxResponseMs: "0" }, /At least 1/],
    [{ bakeMaxResponseRatio: "0.5" }, /At least 1/],
  ])("refuse %o on its field and change nothing", async (changes, message) => {
    const before = await db.environment.findUniqueOrThrow({ where: { id: f.environmentId } });
    const e = await expectAppError(updateRolloutSettings(f.ops, { ...(await keep()), ...changes }), "INVALID_INPUT", message);
    expect(Object.keys(e.fieldErrors ?? {})).toEqual(Object.keys(changes));
    expect(await db.environment.findUniqueOrThrow({ where: { id: f.environmentId } })).toEqual(before);
  });
});
