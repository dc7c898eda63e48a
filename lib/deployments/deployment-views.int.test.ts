// What people see of deployments, against real PostgreSQL: the history, one rollout with its steps and logs, the
// options and reasons of the deploy form, and the live feed. Agents are simulated by calling the same domain
// functions the agent API routes call (as in lib/rollouts/rollout-engine.int.test.ts).
import { beforeAll, describe, expect, it } from "vitest";
import { expectAppError } from "../../test/assertions";
import { createMember, createReleaseRow, createTenant, environmentsOf, testContext, uniq } from "../../test/factories";
import { appendStepLogs } from "../agents/append-step-logs";
import { type AuthenticatedAgent, authenticateAgent } from "../agents/authenticate-agent";
import { tryClaim } from "../agents/claim-job";
import { enrollAgent } from "../agents/enroll-agent";
import { recordHeartbeat } from "../agents/record-heartbeat";
import { reportStep } from "../agents/report-step";
import type { UserActor } from "../auth/actor";
import { db } from "../db/client";
import { listenerReady } from "../events/wakeups";
import { addTarget } from "../targets/add-target";
import { cancelDeployment } from "./cancel-deployment";
import { deployOptions } from "./deploy-options";
import { getDeployment } from "./get-deployment";
import { listDeployments } from "./list-deployments";
import { readStepLogs } from "./read-step-logs";
import { requestDeployment } from "./request-deployment";
import { requestRevert } from "./request-revert";
import { type DeploymentWatchEvent, watchDeployment } from "./watch-deployment";

type Tenant = Awaited<ReturnType<typeof createTenant>>;

interface Fleet {
  tenant: Tenant;
  ops: UserActor;
  dev: UserActor;
  customer: UserActor;
  qa: { id: string };
  production: { id: string };
  agents: AuthenticatedAgent[];
}

/** An application whose production has `nodes` enrolled, online servers; production is gated only by "ops only". */
async function fleet(nodes: number): Promise<Fleet> {
  const tenant = await createTenant();
  const [ops, dev, customer] = [await createMember(tenant, "OPS"), await createMember(tenant, "DEVELOPER"), await createMember(tenant, "CUSTOMER", { customerSide: true })];
  const [qa, , production] = await environmentsOf(tenant.application.id);
  await db.environment.update({ where: { id: production!.id }, data: { requiresPreviousSuccess: false, requiresAcceptance: false, requiredApprovals: 0 } });
  const agents: AuthenticatedAgent[] = [];
  for (let i = 1; i <= nodes; i++) {
    const { enrollmentToken } = await addTarget(ops, { environmentId: production!.id, name: `web-${i}` });
    const { agentSecret } = await enrollAgent({ token: enrollmentToken, hostname: `web-${i}`, agentVersion: "test" }, testContext());
    const agent = await authenticateAgent(`Bearer ${agentSecret}`, testContext());
    await recordHeartbeat(agent, { agentVersion: "test", hostname: `web-${i}`, liveReleaseId: null, stagedReleaseIds: [] });
    agents.push(agent);
  }
  return { tenant, ops, dev, customer, qa: qa!, production: production!, agents };
}

const release = (f: Fleet, version = uniq("1.0")) => createReleaseRow({ applicationId: f.tenant.application.id, uploadedById: f.dev.id, version });

/** Plays every agent until the deployment ends; `fail` decides which job fails (with a health-check message). */
async function drive(f: Fleet, deploymentId: string, fail: (action: string, target: string) => boolean = () => false) {
  for (let round = 0; round < 50; round++) {
    const d = await db.deployment.findUniqueOrThrow({ where: { id: deploymentId } });
    if (["SUCCEEDED", "FAILED", "CANCELLED"].includes(d.status)) return d;
    for (const agent of f.agents) {
      const job = await tryClaim(agent);
      if (!job) continue;
      await reportStep(agent, job.stepId, { leaseId: job.leaseId, status: "RUNNING", phase: "working" });
      await appendStepLogs(agent, job.stepId, { leaseId: job.leaseId, chunks: [{ seq: 0, text: `${job.action} ${job.release.version} on ${job.target.name}\n` }] });
      const failed = fail(job.action, job.target.name);
      await reportStep(agent, job.stepId, { leaseId: job.leaseId, status: failed ? "FAILED" : "SUCCEEDED", ...(failed ? { message: "health check failed: HTTP 500" } : {}) });
    }
  }
  throw new Error("deployment did not finish");
}

let f: Fleet;
let other: Fleet;
let v1: Awaited<ReturnType<typeof release>>;
let v2: Awaited<ReturnType<typeof release>>;
let first: string;
let failed: string;

beforeAll(async () => {
  [f, other] = await Promise.all([fleet(2), fleet(1)]);
  v1 = await release(f, "1.0.0");
  v2 = await release(f, "2.0.0");
  first = (await requestDeployment(f.ops, { environmentId: f.production.id, releaseId: v1.id, reason: "first release" })).deployment.id;
  await drive(f, first);
  failed = (await requestDeployment(f.ops, { environmentId: f.production.id, releaseId: v2.id })).deployment.id;
  await drive(f, failed, (action, target) => action === "ACTIVATE" && target === "web-2");
});

describe("listDeployments", () => {
  it("lists an application's deployments newest first, with who asked and how far each came", async () => {
    const rows = await listDeployments(f.customer, { applicationId: f.tenant.application.id });
    expect(rows.map((r) => [r.release?.version, r.status, r.kind])).toEqual([
      ["2.0.0", "FAILED", "DEPLOY"],
      ["1.0.0", "SUCCEEDED", "DEPLOY"],
    ]);
    expect(rows[1]).toMatchObject({ reason: "first release", requestedBy: { name: expect.any(String) as string }, environment: { name: "Production" } });
    expect(rows[1]!.progress).toEqual({ done: 4, total: 4, servers: 2, updated: 2, rolledBack: 0 });
    expect(rows[0]!.failureReason).toBe("web-2: activating the release failed: health check failed: HTTP 500. Rolled back to the previous release: web-1, web-2.");
    expect(rows[0]!.progress).toMatchObject({ updated: 0, rolledBack: 2 });
  });

  it("filters by environment and by activity", async () => {
    expect(await listDeployments(f.ops, { applicationId: f.tenant.application.id, environmentId: f.qa.id })).toEqual([]);
    expect(await listDeployments(f.ops, { applicationId: f.tenant.application.id, environmentId: f.production.id })).toHaveLength(2);
    expect(await listDeployments(f.ops, { applicationId: f.tenant.application.id, activeOnly: true })).toEqual([]);
  });

  it("is NOT_FOUND for another tenant's application, and for an environment of another application", async () => {
    await expectAppError(listDeployments(other.ops, { applicationId: f.tenant.application.id }), "NOT_FOUND");
    await expectAppError(listDeployments(f.ops, { applicationId: f.tenant.application.id, environmentId: other.production.id }), "NOT_FOUND");
  });
});

describe("getDeployment", () => {
  it("shows every server with its steps in the order they ran, the release it replaced and the failure", async () => {
    const d = await getDeployment(f.dev, { deploymentId: failed });
    expect(d).toMatchObject({
      status: "FAILED",
      kind: "DEPLOY",
      release: { version: "2.0.0", artifactSha256: v2.artifactSha256 },
      previousRelease: { version: "1.0.0" },
      environment: { name: "Production", application: { id: f.tenant.application.id } },
      requestedBy: { id: f.ops.id },
      active: false,
      mayCancel: false,
    });
    expect(d.failureReason).toMatch(/^web-2: activating the release failed/);
    expect(d.servers.map((s) => [s.name, s.steps.map((x) => `${x.action} ${x.status}`)])).toEqual([
      ["web-1", ["STAGE SUCCEEDED", "ACTIVATE SUCCEEDED", "ROLLBACK SUCCEEDED"]],
      ["web-2", ["STAGE SUCCEEDED", "ACTIVATE FAILED", "ROLLBACK SUCCEEDED"]],
    ]);
    const failedStep = d.servers[1]!.steps[1]!;
    expect(failedStep).toMatchObject({ message: "health check failed: HTTP 500", attempt: 1, logSeq: 1 });
    expect(failedStep.startedAt).toBeInstanceOf(Date);
    expect(d.progress).toEqual({ done: 6, total: 6, servers: 2, updated: 0, rolledBack: 2 });
  });

  it("while a rollout runs: servers it has not reached yet are listed, and those who may stop it may", async () => {
    const g = await fleet(2);
    const { deployment } = await requestDeployment(g.ops, { environmentId: g.production.id, releaseId: (await release(g)).id });
    for (const a of g.agents) {
      const job = (await tryClaim(a))!;
      await reportStep(a, job.stepId, { leaseId: job.leaseId, status: "RUNNING", phase: "downloading", progress: 0.5 });
    }
    const d = await getDeployment(g.ops, { deploymentId: deployment.id });
    expect(d).toMatchObject({ status: "RUNNING", active: true, mayCancel: true, progress: { done: 0, total: 4, servers: 2, updated: 0 } });
    expect(d.servers.map((s) => s.steps.map((x) => [x.action, x.status, x.phase, x.progress]))).toEqual([
      [["STAGE", "RUNNING", "downloading", 0.5]],
      [["STAGE", "RUNNING", "downloading", 0.5]],
    ]);
    // Only ops stop a production rollout; a developer sees it but gets no button.
    expect((await getDeployment(g.dev, { deploymentId: deployment.id })).mayCancel).toBe(false);
    await cancelDeployment(g.ops, { deploymentId: deployment.id });
    expect((await getDeployment(g.ops, { deploymentId: deployment.id })).mayCancel).toBe(false);
  });

  it("is NOT_FOUND in another tenant and for ids that are not deployments", async () => {
    await expectAppError(getDeployment(other.ops, { deploymentId: failed }), "NOT_FOUND", "Deployment not found.");
    await expectAppError(getDeployment(f.ops, { deploymentId: "not-a-uuid" }), "NOT_FOUND");
    await expectAppError(getDeployment(f.ops, { deploymentId: "00000000-0000-4000-8000-000000000000" }), "NOT_FOUND");
  });
});

describe("readStepLogs", () => {
  it("returns the chunks in seq order, and only the tail when the log is long, from a whole line", async () => {
    const g = await fleet(1);
    await requestDeployment(g.ops, { environmentId: g.production.id, releaseId: (await release(g)).id });
    const agent = g.agents[0]!;
    const job = (await tryClaim(agent))!;
    const line = (n: number) => `line ${String(n).padStart(4, "0")} ${"x".repeat(89)}\n`; // 100 bytes
    const chunk = (seq: number) => ({ seq, text: Array.from({ length: 10 }, (_, i) => line(seq * 10 + i)).join("") });
    // Out of order, as retries can deliver them.
    await appendStepLogs(agent, job.stepId, { leaseId: job.leaseId, chunks: [chunk(2), chunk(3)] });
    await appendStepLogs(agent, job.stepId, { leaseId: job.leaseId, chunks: [chunk(0), chunk(1)] });
    const d = (await db.deploymentStep.findUniqueOrThrow({ where: { id: job.stepId } })).deploymentId;

    const all = await readStepLogs(g.customer, { deploymentId: d, stepId: job.stepId });
    expect(all).toMatchObject({ omittedBytes: 0, totalBytes: 4000, nextSeq: 4 });
    expect(all.text.split("\n").slice(0, 2)).toEqual([line(0).trimEnd(), line(1).trimEnd()]);
    expect(all.text.endsWith(line(39))).toBe(true);

    const tail = await readStepLogs(g.ops, { deploymentId: d, stepId: job.stepId, maxBytes: 1050 });
    expect(tail.text).toBe(Array.from({ length: 10 }, (_, i) => line(30 + i)).join(""));
    expect(tail).toMatchObject({ omittedBytes: 3000, totalBytes: 4000 });
  });

  it("marks every hole it cannot fill: lines the agent dropped, lines not arrived yet, and lines that never arrived", async () => {
    const g = await fleet(1);
    await requestDeployment(g.ops, { environmentId: g.production.id, releaseId: (await release(g)).id });
    const agent = g.agents[0]!;
    const job = (await tryClaim(agent))!;
    await reportStep(agent, job.stepId, { leaseId: job.leaseId, status: "RUNNING" });
    const lines = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `line ${from + i}\n`).join("");
    const d = (await db.deploymentStep.findUniqueOrThrow({ where: { id: job.stepId } })).deploymentId;
    const read = () => readStepLogs(g.ops, { deploymentId: d, stepId: job.stepId });

    // Chunks 0-1 arrive; 2-4 were dropped by the agent (its buffer was full); 5 arrives with the report of the loss.
    await appendStepLogs(agent, job.stepId, { leaseId: job.leaseId, chunks: [{ seq: 0, line: 1, text: lines(1, 3) }, { seq: 1, line: 4, text: lines(4, 5) }] });
    await appendStepLogs(agent, job.stepId, { leaseId: job.leaseId, chunks: [{ seq: 5, line: 20, text: lines(20, 21) }], lost: [{ fromSeq: 2, toSeq: 4, fromLine: 6 }] });
    // Chunk 7 arrives before 6 (still on its way, as retries can deliver them).
    await appendStepLogs(agent, job.stepId, { leaseId: job.leaseId, chunks: [{ seq: 7, line: 25, text: lines(25, 25) }] });

    const running = await read();
    expect(running.text).toBe(lines(1, 5) + lines(20, 21) + lines(25, 25));
    expect(running.segments).toEqual([
      { text: lines(1, 5) },
      { gap: { fromSeq: 2, toSeq: 4, fromLine: 6, toLine: 19, reason: "dropped" } },
      { text: lines(20, 21) },
      { gap: { fromSeq: 6, toSeq: 6, fromLine: 22, toLine: 24, reason: "pending" } },
      { text: lines(25, 25) },
    ]);
    expect(running).toMatchObject({ nextSeq: 8, gapsBefore: 0 });

    // The step ends without chunk 6: it never arrived.
    await reportStep(agent, job.stepId, { leaseId: job.leaseId, status: "SUCCEEDED" });
    expect((await read()).segments[3]).toEqual({ gap: { fromSeq: 6, toSeq: 6, fromLine: 22, toLine: 24, reason: "missing" } });

    // The tail view says how many holes lie in the part it leaves out.
    const tail = await readStepLogs(g.ops, { deploymentId: d, stepId: job.stepId, maxBytes: 8 });
    expect(tail.segments).toEqual([{ text: lines(25, 25) }]);
    expect(tail.gapsBefore).toBe(2);
  });

  it("names the chunks of a hole when an older agent sent no line numbers", async () => {
    const g = await fleet(1);
    await requestDeployment(g.ops, { environmentId: g.production.id, releaseId: (await release(g)).id });
    const agent = g.agents[0]!;
    const job = (await tryClaim(agent))!;
    await appendStepLogs(agent, job.stepId, { leaseId: job.leaseId, chunks: [{ seq: 0, text: "a\n" }, { seq: 3, text: "d\n" }] });
    await reportStep(agent, job.stepId, { leaseId: job.leaseId, status: "SUCCEEDED" });
    const d = (await db.deploymentStep.findUniqueOrThrow({ where: { id: job.stepId } })).deploymentId;
    expect((await readStepLogs(g.ops, { deploymentId: d, stepId: job.stepId })).segments).toEqual([
      { text: "a\n" },
      { gap: { fromSeq: 1, toSeq: 2, fromLine: 2, toLine: null, reason: "missing" } },
      { text: "d\n" },
    ]);
  });

  it("is NOT_FOUND in another tenant and for a step of another deployment", async () => {
    const d = await getDeployment(f.ops, { deploymentId: failed });
    const step = d.servers[0]!.steps[0]!;
    expect((await readStepLogs(f.ops, { deploymentId: failed, stepId: step.id })).text).toBe("STAGE 2.0.0 on web-1\n");
    await expectAppError(readStepLogs(other.ops, { deploymentId: failed, stepId: step.id }), "NOT_FOUND");
    await expectAppError(readStepLogs(f.ops, { deploymentId: first, stepId: step.id }), "NOT_FOUND");
  });
});

describe("deployOptions", () => {
  it("offers each release with the gates it does not pass, in the words the server refuses with", async () => {
    const g = await fleet(1);
    await db.environment.update({ where: { id: g.production.id }, data: { requiresPreviousSuccess: true } });
    const r = await release(g, "3.1.0");
    const qa = await deployOptions(g.dev, { environmentId: g.qa.id });
    expect(qa.mayDeploy).toBe(true);
    expect(qa.releases.map((o) => [o.version, o.selectable, o.blockers])).toEqual([["3.1.0", true, []]]);

    const prod = await deployOptions(g.ops, { environmentId: g.production.id });
    const blocked = prod.releases[0]!;
    expect(blocked).toMatchObject({ version: "3.1.0", selectable: false, live: false });
    expect(blocked.blockers.map((b) => b.code)).toEqual(["PREVIOUS_ENVIRONMENT"]);
    const refusal = await expectAppError(requestDeployment(g.ops, { environmentId: g.production.id, releaseId: r.id }), "PRECONDITION_FAILED");
    expect(refusal.message).toBe(blocked.blockers.map((b) => b.message).join(" "));

    // A developer may not deploy to production at all: no form, and no release list to compute.
    expect(await deployOptions(g.dev, { environmentId: g.production.id })).toMatchObject({ mayDeploy: false, releases: [], revert: null });
    // A customer tester deploys nowhere.
    expect((await deployOptions(g.customer, { environmentId: g.qa.id })).mayDeploy).toBe(false);
  });

  it("a freeze blocks deploying now: ops may give an override reason, and anyone may pick the release to schedule it for after the freeze", async () => {
    const g = await fleet(1);
    await release(g, "4.0.0");
    for (const env of [g.production, g.qa]) {
      await db.freeze.create({ data: { environmentId: env.id, startsAt: new Date(Date.now() - 60_000), endsAt: new Date(Date.now() + 3_600_000), reason: "Black Friday", createdById: g.ops.id } });
    }
    const prod = await deployOptions(g.ops, { environmentId: g.production.id });
    expect(prod).toMatchObject({ freeze: { reason: "Black Friday" }, mayOverrideFreeze: true });
    expect(prod.releases[0]!.blockers.map((b) => b.code)).toEqual(["FROZEN"]);
    expect(prod.releases[0]!.selectable).toBe(true);
    // A developer may deploy to QA, but not through its freeze: picking the release is for a time after it.
    const qa = await deployOptions(g.dev, { environmentId: g.qa.id });
    expect(qa).toMatchObject({ mayDeploy: true, mayOverrideFreeze: false });
    expect(qa.releases[0]).toMatchObject({ selectable: true, blockers: [{ code: "FROZEN" }] });
  });

  it("offers ops a revert to the release before the live one, and developers none", async () => {
    const g = await fleet(1);
    const [a, b] = [await release(g, "5.0.0"), await release(g, "5.1.0")];
    expect((await deployOptions(g.ops, { environmentId: g.production.id })).revert).toBeNull();
    await drive(g, (await requestDeployment(g.ops, { environmentId: g.production.id, releaseId: a.id })).deployment.id);
    await drive(g, (await requestDeployment(g.ops, { environmentId: g.production.id, releaseId: b.id })).deployment.id);
    const ops = await deployOptions(g.ops, { environmentId: g.production.id });
    expect(ops.live).toEqual({ releaseId: b.id, version: "5.1.0", previousVersion: "5.0.0" });
    expect(ops.revert).toMatchObject({ releaseId: a.id, version: "5.0.0", fromVersion: "5.1.0" });
    expect(ops.releases.find((o) => o.version === "5.1.0")?.live).toBe(true);
    expect((await deployOptions(g.dev, { environmentId: g.production.id })).revert).toBeNull();
    const { deployment } = await requestRevert(g.ops, { environmentId: g.production.id, reason: "5.1.0 breaks checkout" });
    expect((await drive(g, deployment.id)).status).toBe("SUCCEEDED");
    // Back at the first release: nothing earlier ran, so no further revert (not a ping-pong back to 5.1.0).
    const after = await deployOptions(g.ops, { environmentId: g.production.id });
    expect(after.live).toMatchObject({ version: "5.0.0", previousVersion: null });
    expect(after.revert).toBeNull();
  });

  it("is NOT_FOUND for another tenant's environment", async () => {
    await expectAppError(deployOptions(other.ops, { environmentId: f.production.id }), "NOT_FOUND");
  });
});

describe("watchDeployment", () => {
  const timing = { debounceMs: 50, pingMs: 700, pollMs: 5_000 };
  /** Collects events until `until` says stop (or the stream ends). */
  async function collect(events: AsyncGenerator<DeploymentWatchEvent>, until: (seen: DeploymentWatchEvent[]) => boolean) {
    const seen: DeploymentWatchEvent[] = [];
    for await (const e of events) {
      seen.push(e);
      if (until(seen)) break;
    }
    return seen;
  }

  it("tells a change as soon as an agent reports, pings when quiet, and ends when the deployment ends", async () => {
    expect(await listenerReady()).toBe(true);
    const g = await fleet(1);
    const { deployment } = await requestDeployment(g.ops, { environmentId: g.production.id, releaseId: (await release(g)).id });
    const stop = new AbortController();
    const events = await watchDeployment(g.customer, { deploymentId: deployment.id }, stop.signal, timing);
    const agent = g.agents[0]!;
    const job = (await tryClaim(agent))!;

    const firstEvent = events.next();
    await new Promise((r) => setTimeout(r, 200));
    const started = Date.now();
    await reportStep(agent, job.stepId, { leaseId: job.leaseId, status: "RUNNING", phase: "downloading" });
    expect((await firstEvent).value).toBe("change");
    expect(Date.now() - started).toBeLessThan(2_000); // the notification, not the 5 s poll

    // Several reports in a burst are told once.
    await reportStep(agent, job.stepId, { leaseId: job.leaseId, status: "RUNNING", progress: 0.2 });
    await reportStep(agent, job.stepId, { leaseId: job.leaseId, status: "RUNNING", progress: 0.4 });
    expect((await events.next()).value).toBe("change");
    expect((await events.next()).value).toBe("ping");

    await reportStep(agent, job.stepId, { leaseId: job.leaseId, status: "SUCCEEDED" });
    await drive(g, deployment.id);
    const rest = await collect(events, () => false);
    expect(rest.at(-1)).toBe("end");
    expect(rest).toContain("change");
  });

  it("catches up at once when the page is older than the stream, and ends at once for a finished deployment", async () => {
    const events = await watchDeployment(f.dev, { deploymentId: failed, since: "an older state" }, new AbortController().signal, timing);
    expect(await collect(events, () => false)).toEqual(["change", "end"]);
  });

  it("stops when the viewer goes away", async () => {
    const g = await fleet(1);
    const { deployment } = await requestDeployment(g.ops, { environmentId: g.production.id, releaseId: (await release(g)).id });
    const stop = new AbortController();
    const events = await watchDeployment(g.ops, { deploymentId: deployment.id }, stop.signal, timing);
    setTimeout(() => stop.abort(), 100);
    // Changes already on their way (the request's own notification, the engine's) may still be told before the
    // abort; after it, the stream ends instead of waiting for the next ping.
    const abortedAt = new Promise<number>((resolve) => stop.signal.addEventListener("abort", () => resolve(Date.now())));
    let result = await events.next();
    while (!result.done) result = await events.next();
    expect(Date.now() - (await abortedAt)).toBeLessThan(500);
  });

  it("is NOT_FOUND in another tenant, before any stream is opened", async () => {
    await expectAppError(watchDeployment(other.ops, { deploymentId: failed }, new AbortController().signal), "NOT_FOUND");
  });
});
