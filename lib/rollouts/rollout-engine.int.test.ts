// The rollout engine against real PostgreSQL: requests, the reconciler, the agent-facing claim/report/log calls
// and the sweep, with agents simulated by calling the same domain functions the agent API routes call.
import { beforeAll, describe, expect, it } from "vitest";
import { expectAppError } from "../../test/assertions";
import { auditEventsSince, lastAuditSeq } from "../../test/factories";
import { drive, type Fleet, release, simulatedFleet } from "../../test/simulated-fleet";
import { appendStepLogs } from "../agents/append-step-logs";
import { claimJob, tryClaim } from "../agents/claim-job";
import { finishStep } from "../agents/finish-step";
import { recordHeartbeat } from "../agents/record-heartbeat";
import { reportStep } from "../agents/report-step";
import { type TJob, ZJobSchema } from "../contracts/agent-api";
import { db } from "../db/client";
import { cancelDeployment } from "../deployments/cancel-deployment";
import { requestDeployment } from "../deployments/request-deployment";
import { requestRevert } from "../deployments/request-revert";
import { revokeAgent } from "../targets/revoke-agent";
import { listenerReady } from "../events/wakeups";
import { advanceRollout } from "./advance-rollout";
import { sweepRollouts } from "./sweep-rollouts";


let shared: Fleet;
beforeAll(async () => {
  shared = await simulatedFleet(3);
});

describe("a rolling deployment", () => {
  it("stages the build on every node before the first is taken out, then activates one node at a time", async () => {
    const f = await simulatedFleet(3);
    const r = await release(f);
    const since = await lastAuditSeq();
    const { deployment } = await requestDeployment(f.ops, { environmentId: f.environmentId, releaseId: r.id });
    const { deployment: done, ran } = await drive(f, deployment.id);
    expect(done.status).toBe("SUCCEEDED");
    expect(ran.map((j) => `${j.action} ${j.target}`)).toEqual(["STAGE web-1", "STAGE web-2", "STAGE web-3", "ACTIVATE web-1", "ACTIVATE web-2", "ACTIVATE web-3"]);
    const targets = await db.target.findMany({ where: { environmentId: f.environmentId } });
    expect(targets.map((t) => t.liveReleaseId)).toEqual([r.id, r.id, r.id]);
    const types = (await auditEventsSince(since)).map((e) => e.type);
    expect(types.filter((t) => t === "DEPLOYMENT_STEP_FINISHED")).toHaveLength(6);
    expect(types).toEqual(expect.arrayContaining(["DEPLOYMENT_REQUESTED", "DEPLOYMENT_STARTED", "DEPLOYMENT_SUCCEEDED"]));
    const logs = await db.stepLog.findMany({ where: { step: { deploymentId: deployment.id } } });
    expect(logs).toHaveLength(6);
  });

  it("hands out jobs that meet the agent contract; a migration runs on the first activated node only", async () => {
    const f = await simulatedFleet(3);
    const r = await release(f, "3.0.0");
    await db.release.update({ where: { id: r.id }, data: { needsMigration: true, artifactSize: 5_000_000_000n } });
    await db.environment.update({ where: { id: f.environmentId }, data: { migrateCommand: "./migrate.sh", keepReleases: 3, persistentPaths: ["uploads"] } });
    const jobs: TJob[] = [];
    const { deployment } = await requestDeployment(f.ops, { environmentId: f.environmentId, releaseId: r.id });
    await drive(f, deployment.id, (job) => (jobs.push(job), "SUCCEEDED"));
    for (const job of jobs) expect(ZJobSchema.parse(job)).toEqual(job);
    expect(jobs.map((j) => `${j.action} ${j.target.name} ${j.runMigration}`)).toEqual([
      "STAGE web-1 false", "STAGE web-2 false", "STAGE web-3 false", "ACTIVATE web-1 true", "ACTIVATE web-2 false", "ACTIVATE web-3 false",
    ]);
    expect(jobs[3]).toMatchObject({
      release: { id: r.id, version: "3.0.0", size: 5_000_000_000, sha256: r.artifactSha256, needsMigration: true, downloadPath: `/api/agent/v1/artifacts/${r.id}` },
      hooks: { migrate: "./migrate.sh" },
      keepReleases: 3,
      persistentPaths: ["uploads"],
      deployment: { id: deployment.id, kind: "DEPLOY" },
      loadBalancer: { kind: "NONE" },
      attempt: 1,
    });
  });

  it("halts on a failed node, rolls the touched nodes back to the previous release and ends failed with the reason", async () => {
    const f = await simulatedFleet(3);
    const v1 = await release(f, "1.0.0");
    await drive(f, (await requestDeployment(f.ops, { environmentId: f.environmentId, releaseId: v1.id })).deployment.id);
    const v2 = await release(f, "2.0.0");
    const { deployment } = await requestDeployment(f.ops, { environmentId: f.environmentId, releaseId: v2.id });
    const { deployment: done, ran } = await drive(f, deployment.id, (job) => (job.action === "ACTIVATE" && job.target.name === "web-2" ? "FAILED" : "SUCCEEDED"));
    expect(done.status).toBe("FAILED");
    expect(done.failureReason).toBe("web-2: activating the release failed: health check failed: 500. Rolled back to the previous release: web-1, web-2.");
    expect(ran.filter((j) => j.action !== "STAGE").map((j) => `${j.action} ${j.target} ${j.version}`)).toEqual([
      "ACTIVATE web-1 2.0.0",
      "ACTIVATE web-2 2.0.0",
      "ROLLBACK web-2 1.0.0", // the failed node first: it is already out of rotation
      "ROLLBACK web-1 1.0.0",
    ]);
    const live = await db.target.findMany({ where: { environmentId: f.environmentId }, orderBy: { name: "asc" } });
    expect(live.map((t) => t.liveReleaseId)).toEqual([v1.id, v1.id, v1.id]);
  });

  it("allows one deployment per environment at a time", async () => {
    const f = await simulatedFleet(1);
    const { deployment } = await requestDeployment(f.ops, { environmentId: f.environmentId, releaseId: (await release(f)).id });
    await expectAppError(requestDeployment(f.ops, { environmentId: f.environmentId, releaseId: (await release(f)).id }), "CONFLICT", /is in progress/);
    await drive(f, deployment.id);
  });

  it("is refused when a server is offline, naming it, and nothing is created", async () => {
    const f = await simulatedFleet(2);
    await db.target.update({ where: { id: f.agents[1]!.targetId }, data: { lastSeenAt: new Date(Date.now() - 60_000) } });
    const r = await release(f);
    await expectAppError(requestDeployment(f.ops, { environmentId: f.environmentId, releaseId: r.id }), "PRECONDITION_FAILED", /web-2 is offline/);
    expect(await db.deployment.count({ where: { releaseId: r.id } })).toBe(0);
  });

  it("only ops deploy to production, and the refusal changes nothing", async () => {
    const r = await release(shared);
    await expectAppError(requestDeployment(shared.dev, { environmentId: shared.environmentId, releaseId: r.id }), "FORBIDDEN", "Only ops may deploy to Production.");
    expect(await db.deployment.count({ where: { releaseId: r.id } })).toBe(0);
  });
});

describe("the agent protocol", () => {
  it("a long-poll is answered the moment work is queued for its server", async () => {
    expect(await listenerReady()).toBe(true);
    const f = await simulatedFleet(1);
    const r = await release(f);
    const started = Date.now();
    const poll = claimJob(f.agents[0]!, 20);
    await new Promise((res) => setTimeout(res, 300));
    await requestDeployment(f.ops, { environmentId: f.environmentId, releaseId: r.id });
    const { job } = await poll;
    expect(job?.action).toBe("STAGE");
    expect(job?.release.version).toBe(r.version);
    expect(Date.now() - started).toBeLessThan(4_000); // well inside the 5 s fallback poll: the NOTIFY woke it
  });

  it("an empty long-poll ends after its wait with no job", async () => {
    const f = await simulatedFleet(1);
    const started = Date.now();
    expect(await claimJob(f.agents[0]!, 1)).toEqual({ job: null });
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  it("fences stale leases, and repeating a final report is harmless", async () => {
    const f = await simulatedFleet(1);
    const { deployment } = await requestDeployment(f.ops, { environmentId: f.environmentId, releaseId: (await release(f)).id });
    const agent = f.agents[0]!;
    const first = (await tryClaim(agent))!;
    // The claim's answer was lost: the agent never acknowledged; after the ack window the job is offered again.
    await db.deploymentStep.update({ where: { id: first.stepId }, data: { leaseExpiresAt: new Date(Date.now() - 1000) } });
    await sweepRollouts();
    const second = (await tryClaim(agent))!;
    expect(second.stepId).toBe(first.stepId);
    expect(second.leaseId).not.toBe(first.leaseId);
    expect(second.attempt).toBe(2);
    await expectAppError(reportStep(agent, first.stepId, { leaseId: first.leaseId, status: "SUCCEEDED" }), "LEASE_LOST");
    await expectAppError(appendStepLogs(agent, first.stepId, { leaseId: first.leaseId, chunks: [{ seq: 0, text: "x" }] }), "LEASE_LOST");
    await reportStep(agent, second.stepId, { leaseId: second.leaseId, status: "RUNNING" });
    await reportStep(agent, second.stepId, { leaseId: second.leaseId, status: "SUCCEEDED" });
    await reportStep(agent, second.stepId, { leaseId: second.leaseId, status: "SUCCEEDED" }); // retried after a lost response
    await expectAppError(reportStep(agent, second.stepId, { leaseId: second.leaseId, status: "FAILED" }), "LEASE_LOST", /already ended as succeeded/);
    expect((await db.deploymentStep.findUniqueOrThrow({ where: { id: second.stepId } })).status).toBe("SUCCEEDED");
    expect(await db.auditEvent.count({ where: { objectId: second.stepId, type: "DEPLOYMENT_STEP_FINISHED" } })).toBe(1);
    await drive(f, deployment.id);
  });

  it("another server's agent cannot see or report on a step", async () => {
    const f = await simulatedFleet(2);
    await requestDeployment(f.ops, { environmentId: f.environmentId, releaseId: (await release(f)).id });
    const job = (await tryClaim(f.agents[0]!))!;
    await expectAppError(reportStep(f.agents[1]!, job.stepId, { leaseId: job.leaseId, status: "SUCCEEDED" }), "NOT_FOUND");
    const other = await simulatedFleet(1);
    await expectAppError(reportStep(other.agents[0]!, job.stepId, { leaseId: job.leaseId, status: "SUCCEEDED" }), "NOT_FOUND");
  });

  it("stores log chunks once each, in seq order whatever order they arrive in", async () => {
    const f = await simulatedFleet(1);
    await requestDeployment(f.ops, { environmentId: f.environmentId, releaseId: (await release(f)).id });
    const agent = f.agents[0]!;
    const job = (await tryClaim(agent))!;
    await appendStepLogs(agent, job.stepId, { leaseId: job.leaseId, chunks: [{ seq: 1, text: "b" }, { seq: 2, text: "c" }] });
    await appendStepLogs(agent, job.stepId, { leaseId: job.leaseId, chunks: [{ seq: 0, text: "a" }, { seq: 1, text: "b" }] });
    const logs = await db.stepLog.findMany({ where: { stepId: job.stepId }, orderBy: { seq: "asc" } });
    expect(logs.map((l) => l.content).join("")).toBe("abc");
  });

  it("an agent that stops reporting mid-activation has its step interrupted; the touched node is rolled back", async () => {
    const f = await simulatedFleet(2);
    const v1 = await release(f, "1.0.0");
    await drive(f, (await requestDeployment(f.ops, { environmentId: f.environmentId, releaseId: v1.id })).deployment.id);
    const { deployment } = await requestDeployment(f.ops, { environmentId: f.environmentId, releaseId: (await release(f, "2.0.0")).id });
    for (const a of f.agents) {
      const j = (await tryClaim(a))!;
      await reportStep(a, j.stepId, { leaseId: j.leaseId, status: "SUCCEEDED" });
    }
    const activation = (await tryClaim(f.agents[0]!))!;
    expect(activation.action).toBe("ACTIVATE");
    await reportStep(f.agents[0]!, activation.stepId, { leaseId: activation.leaseId, status: "RUNNING", phase: "switching" });
    await db.deploymentStep.update({ where: { id: activation.stepId }, data: { leaseExpiresAt: new Date(Date.now() - 1000) } });
    await sweepRollouts();
    const step = await db.deploymentStep.findUniqueOrThrow({ where: { id: activation.stepId } });
    expect(step.status).toBe("INTERRUPTED");
    const { deployment: done, ran } = await drive(f, deployment.id);
    expect(ran.map((j) => `${j.action} ${j.target} ${j.version}`)).toEqual(["ROLLBACK web-1 1.0.0"]);
    expect(done.status).toBe("FAILED");
    expect(done.failureReason).toMatch(/^web-1: activating the release was interrupted: The agent stopped reporting/);
  });

  it("an agent that asks for work while its step runs lost that step: it is interrupted at once", async () => {
    const f = await simulatedFleet(1);
    await requestDeployment(f.ops, { environmentId: f.environmentId, releaseId: (await release(f)).id });
    const job = (await tryClaim(f.agents[0]!))!;
    await reportStep(f.agents[0]!, job.stepId, { leaseId: job.leaseId, status: "RUNNING" });
    expect(await tryClaim(f.agents[0]!)).toBeNull();
    const step = await db.deploymentStep.findUniqueOrThrow({ where: { id: job.stepId }, include: { deployment: true } });
    expect(step.status).toBe("INTERRUPTED");
    expect(step.deployment.status).toBe("FAILED"); // a stage: nothing was touched, nothing to roll back
  });
});

describe("a server revoked during a rollout", () => {
  it("gets no new step: its waiting step is skipped, and the rollout finishes on the other servers", async () => {
    const f = await simulatedFleet(3);
    const { deployment } = await requestDeployment(f.ops, { environmentId: f.environmentId, releaseId: (await release(f)).id });
    // web-1 stages; web-2 never picks its stage up before ops revoke it (its agent is refused from then on).
    const first = (await tryClaim(f.agents[0]!))!;
    await reportStep(f.agents[0]!, first.stepId, { leaseId: first.leaseId, status: "SUCCEEDED" });
    await revokeAgent(f.ops, { targetId: f.agents[1]!.targetId });

    const { deployment: done, ran } = await drive(f, deployment.id);
    expect(done.status).toBe("SUCCEEDED");
    expect(ran.map((j) => `${j.action} ${j.target}`)).toEqual(["STAGE web-3", "ACTIVATE web-1", "ACTIVATE web-3"]);
    const steps = await db.deploymentStep.findMany({ where: { deploymentId: deployment.id, targetId: f.agents[1]!.targetId } });
    expect(steps.map((s) => [s.action, s.status, s.message])).toEqual([
      ["STAGE", "SKIPPED", "Not run: the agent of web-2 was revoked, so this server is no longer part of the rollout."],
    ]);
  });

  it("revoked while its activation runs: the step is interrupted at once, the rollout halts and rolls the others back", async () => {
    const f = await simulatedFleet(3);
    const v1 = await release(f, "1.0.0");
    await drive(f, (await requestDeployment(f.ops, { environmentId: f.environmentId, releaseId: v1.id })).deployment.id);
    const { deployment } = await requestDeployment(f.ops, { environmentId: f.environmentId, releaseId: (await release(f, "2.0.0")).id });
    // web-2's activation is under way (acknowledged, never finished) when ops revoke its agent.
    let started = false;
    let revoked = false;
    const { deployment: done, ran } = await drive(
      f,
      deployment.id,
      (job) => (job.action === "ACTIVATE" && job.target.name === "web-2" ? ((started = true), "SILENT") : "SUCCEEDED"),
      async () => {
        if (started && !revoked) {
          revoked = true;
          await revokeAgent(f.ops, { targetId: f.agents[1]!.targetId });
        }
      },
    );
    expect(done.status).toBe("FAILED");
    expect(done.failureReason).toContain("web-2: activating the release was interrupted: The agent of web-2 was revoked during this step");
    expect(ran.map((j) => `${j.action} ${j.target} ${j.version}`).slice(-3)).toEqual(["ACTIVATE web-1 2.0.0", "ACTIVATE web-2 2.0.0", "ROLLBACK web-1 1.0.0"]);
    expect(await db.deploymentStep.count({ where: { deploymentId: deployment.id, targetId: f.agents[1]!.targetId, action: { not: "STAGE" } } })).toBe(1);
  });
});

describe("cancel, revert and restarts", () => {
  it("a cancel reaches the agent on its next report and ends the deployment cancelled", async () => {
    const f = await simulatedFleet(2);
    const { deployment } = await requestDeployment(f.ops, { environmentId: f.environmentId, releaseId: (await release(f)).id });
    const job = (await tryClaim(f.agents[0]!))!;
    expect((await reportStep(f.agents[0]!, job.stepId, { leaseId: job.leaseId, status: "RUNNING" })).cancelRequested).toBe(false);
    await cancelDeployment(f.ops, { deploymentId: deployment.id });
    expect((await reportStep(f.agents[0]!, job.stepId, { leaseId: job.leaseId, status: "RUNNING" })).cancelRequested).toBe(true);
    await reportStep(f.agents[0]!, job.stepId, { leaseId: job.leaseId, status: "CANCELLED" });
    const d = await db.deployment.findUniqueOrThrow({ where: { id: deployment.id }, include: { steps: true } });
    expect(d.status).toBe("CANCELLED");
    expect(d.steps.map((s) => s.status).sort()).toEqual(["CANCELLED", "CANCELLED"]);
  });

  it("revert returns the environment to the previous release from the staged builds, with no download", async () => {
    const f = await simulatedFleet(2);
    const v1 = await release(f, "1.0.0");
    const v2 = await release(f, "2.0.0");
    await drive(f, (await requestDeployment(f.ops, { environmentId: f.environmentId, releaseId: v1.id })).deployment.id);
    await drive(f, (await requestDeployment(f.ops, { environmentId: f.environmentId, releaseId: v2.id })).deployment.id);
    // the agents' heartbeats report both builds staged
    for (const a of f.agents) await recordHeartbeat(a, { agentVersion: "test", hostname: "h", liveReleaseId: v2.id, stagedReleaseIds: [v1.id, v2.id] });
    await expectAppError(requestRevert(f.dev, { environmentId: f.environmentId, reason: "broken checkout" }), "FORBIDDEN");
    await expectAppError(requestRevert(f.ops, { environmentId: f.environmentId, reason: " " }), "INVALID_INPUT");
    const { deployment } = await requestRevert(f.ops, { environmentId: f.environmentId, reason: "checkout broken in 2.0.0" });
    const { deployment: done, ran } = await drive(f, deployment.id);
    expect(done.status).toBe("SUCCEEDED");
    expect(done.kind).toBe("REVERT");
    expect(ran.map((j) => `${j.action} ${j.target} ${j.version}`)).toEqual(["ACTIVATE web-1 1.0.0", "ACTIVATE web-2 1.0.0"]);
    const targets = await db.target.findMany({ where: { environmentId: f.environmentId } });
    expect(targets.every((t) => t.liveReleaseId === v1.id)).toBe(true);
  });

  it("revert with nothing earlier is refused clearly", async () => {
    const f = await simulatedFleet(1);
    await expectAppError(requestRevert(f.ops, { environmentId: f.environmentId, reason: "x" }), "PRECONDITION_FAILED", "Production has no earlier release to return to.");
  });

  it("the reconciler is idempotent: calling it again and again (as every instance's sweep does) creates nothing twice", async () => {
    const f = await simulatedFleet(3);
    const { deployment } = await requestDeployment(f.ops, { environmentId: f.environmentId, releaseId: (await release(f)).id });
    await Promise.all([advanceRollout(deployment.id), advanceRollout(deployment.id), sweepRollouts(), advanceRollout(deployment.id)]);
    expect(await db.deploymentStep.count({ where: { deploymentId: deployment.id } })).toBe(3);
    expect((await drive(f, deployment.id)).deployment.status).toBe("SUCCEEDED");
  });

  it("continues after a control-plane crash between a step's report and the engine's next move (the sweep picks it up)", async () => {
    const f = await simulatedFleet(2);
    const { deployment } = await requestDeployment(f.ops, { environmentId: f.environmentId, releaseId: (await release(f)).id });
    // Both stages finish, but the instance dies before advancing: their rows say SUCCEEDED, nobody planned the next step.
    for (const a of f.agents) {
      const job = (await tryClaim(a))!;
      await db.$transaction((tx) => finishStep(tx, a, job.stepId, { status: "SUCCEEDED" }));
    }
    expect(await db.deploymentStep.count({ where: { deploymentId: deployment.id, action: "ACTIVATE" } })).toBe(0);
    await sweepRollouts(); // what any instance's timer runs within 2 s of starting
    expect(await db.deploymentStep.count({ where: { deploymentId: deployment.id, action: "ACTIVATE" } })).toBe(1);
    expect((await drive(f, deployment.id)).deployment.status).toBe("SUCCEEDED");
  });

  it("a scheduled deployment waits for its time, then the sweep starts it", async () => {
    const f = await simulatedFleet(1);
    const at = new Date(Date.now() + 3_600_000);
    const { deployment } = await requestDeployment(f.ops, { environmentId: f.environmentId, releaseId: (await release(f)).id, scheduledFor: at });
    expect(deployment.status).toBe("SCHEDULED");
    expect(await tryClaim(f.agents[0]!)).toBeNull();
    await sweepRollouts(new Date(at.getTime() + 1000));
    expect((await db.deployment.findUniqueOrThrow({ where: { id: deployment.id } })).status).toBe("RUNNING");
    expect((await drive(f, deployment.id)).deployment.status).toBe("SUCCEEDED");
  });
});
