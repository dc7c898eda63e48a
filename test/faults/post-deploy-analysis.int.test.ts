// The post-deploy analysis with every part real (test/support/fault-rig.ts): HAProxy in front of three sample-app
// nodes, the bundled agent on each, the control plane in its own process, and an open-model load of 100 requests a
// second through HAProxy for the whole of each scenario. A build that passes its health check but answers 500 to one
// page request in five is caught after the first node and rolled back; a good build bakes on every node and goes
// live; a stop during a bake ends it at once. Measured figures go to docs/reliability.md.
import { afterAll, beforeAll, expect, it } from "vitest";
import { type DeploymentPage, expectEachJobRanOnce, expectFleetWhole, expectSucceeded, type FaultRig, startFaultRig, stepsInOrder } from "../support/fault-rig";
import type { OpenLoadSummary } from "../support/open-load";

/** Short enough for a test, long enough that the first node's bake is a window of its own in the load's record. */
const BAKE_SECONDS = 15;
/** The rig's load (fault-rig.ts underLoad): requests a second through the site's HAProxy, round-robin over 3 nodes. */
const LOAD_PER_SECOND = 100;
const NODES = 3;

let rig: FaultRig;

beforeAll(async () => {
  rig = await startFaultRig({ name: "bake", controlPlanes: 1, releases: { upload: ["1.0.0"], live: "1.0.0" } });
  await rig.domain.changeRolloutSettings(rig.ops, rig.environmentId, { bakeSeconds: BAKE_SECONDS, bakeMax5xxPercent: 5 });
}, 180_000);

afterAll(async () => {
  await rig?.stop();
}, 60_000);

function report(scenario: string, d: DeploymentPage, load: OpenLoadSummary, extra = ""): void {
  const took = ((d.finishedAt!.getTime() - d.startedAt!.getTime()) / 1000).toFixed(1);
  console.log(`[reliability] ${scenario}: ${d.status} in ${took} s; ${load.sent} requests, ${load.failed} failed${extra ? `; ${extra}` : ""}`);
}

const activationOf = (d: DeploymentPage, server: string) => d.servers.find((s) => s.name === server)!.steps.find((s) => s.action === "ACTIVATE")!;

it("a build that passes /health but answers 500 to one page request in five halts after the first node and rolls back, failing only what its bake window let through", async () => {
  await rig.upload("1.1.0-flaky", { failOneIn: 5 });
  const { result: d, load } = await rig.underLoad(async () => rig.waitForDeployment(await rig.deploy("1.1.0-flaky")));
  expect(d.status).toBe("FAILED");
  expect(stepsInOrder(d).filter((s) => !s.startsWith("STAGE"))).toEqual(["ACTIVATE web-1 FAILED", "ROLLBACK web-1 SUCCEEDED"]);
  // The reason names the figure, the window, where it was read and what the nodes still on 1.0.0 answered.
  expect(d.failureReason).toMatch(
    /^web-1: activating the release failed: Post-deploy analysis: \d+\.\d% of the responses of web-1 were 5xx \(\d+ of \d+ in \d+ s on haproxy app\/web-1\)( after \d+ s of a 15 s bake)?, over the limit of 5%; servers still on 1\.0\.0: (0\.0% \(0 of \d+\), \d+ ms|too little traffic to compare \(\d+ responses?\))\. Rolled back to the previous release: web-1\.$/,
  );
  // The deployment page's figures: the ones that decided it.
  const analysis = activationOf(d, "web-1").analysis!;
  expect(analysis).toMatchObject({ verdict: "FAILED", judged: true, tripped: "5xx", bakeSeconds: BAKE_SECONDS, previous: { version: "1.0.0", servers: 2, http5xx: 0 } });
  expect(analysis.node.http5xx / analysis.node.responses).toBeGreaterThan(0.05);
  expect(analysis.node.balancers).toEqual([expect.objectContaining({ balancer: "haproxy", backend: "app", server: "web-1", error: null })]);

  // Visitors: the flaky build served some of them, and the only failures are its own 500s, no more than its share
  // of the load over one bake window (a third of the requests, one in five of them) could be.
  expect(load.versionsSeen["1.1.0-flaky"] ?? 0).toBeGreaterThan(0);
  expect(load.failures.filter((f) => f.status !== 500)).toEqual([]);
  const bakeWindowShare = Math.ceil(((LOAD_PER_SECOND / NODES) * BAKE_SECONDS) / 5);
  expect(load.failed).toBeGreaterThan(0);
  expect(load.failed).toBeLessThanOrEqual(bakeWindowShare);
  expect(await rig.nodeVersions()).toEqual({ "web-1": "1.0.0", "web-2": "1.0.0", "web-3": "1.0.0" });
  await expectEachJobRanOnce(rig, d.id);

  const events = await rig.domain.db.auditEvent.findMany({ where: { objectId: activationOf(d, "web-1").id, type: { startsWith: "DEPLOYMENT_ANALYSIS_" } } });
  expect(events.map((e) => [e.type, e.actorType])).toEqual([["DEPLOYMENT_ANALYSIS_FAILED", "AGENT"]]);
  report(
    "build failing 1 page request in 5 (bake 15 s)",
    d,
    load,
    `web-1 watched ${analysis.watchedSeconds} s: ${analysis.node.http5xx} of ${analysis.node.responses} responses 5xx; visitors' failures ${load.failed} (bound: ${bakeWindowShare}, a full bake window's share)`,
  );
}, 180_000);

it("a good build bakes on every node beside the ones still on the previous build, and goes live with no failed request", async () => {
  await rig.upload("2.0.0");
  const { result: d, load } = await rig.underLoad(async () => rig.waitForDeployment(await rig.deploy("2.0.0"), 180_000));
  expectSucceeded(d);
  await expectFleetWhole(rig, "2.0.0", load, 100);
  const figures = ["web-1", "web-2", "web-3"].map((name) => activationOf(d, name).analysis!);
  for (const a of figures) {
    expect(a).toMatchObject({ verdict: "PASSED", judged: true, tripped: null, watchedSeconds: BAKE_SECONDS });
    expect(a.node.http5xx).toBe(0);
    expect(a.node.responses).toBeGreaterThanOrEqual(a.limits.minResponses);
  }
  expect(figures.map((a) => a.previous?.servers ?? 0)).toEqual([2, 1, 0]);
  await expectEachJobRanOnce(rig, d.id);
  report("good build, bake 15 s on each of 3 nodes", d, load, `web-1 watched: ${figures[0]!.node.responses} responses, ${figures[0]!.node.rtimeMs} ms average`);
}, 240_000);

it("ops stop a deployment while a node bakes: the bake ends at once with the figures so far, and the node is rolled back", async () => {
  await rig.upload("3.0.0");
  const { result: d, load } = await rig.underLoad(async () => {
    const id = await rig.deploy("3.0.0");
    await rig.waitForStep(id, "web-1", "ACTIVATE", (s) => s.phase === "baking");
    await rig.domain.cancelDeployment(rig.ops, id);
    return rig.waitForDeployment(id, 60_000);
  });
  expect(d.status, d.failureReason ?? "").toBe("CANCELLED");
  expect(stepsInOrder(d).filter((s) => !s.startsWith("STAGE"))).toEqual(["ACTIVATE web-1 SUCCEEDED", "ROLLBACK web-1 SUCCEEDED"]);
  const analysis = activationOf(d, "web-1").analysis!;
  expect(analysis).toMatchObject({ verdict: "STOPPED", judged: false });
  expect(analysis.watchedSeconds).toBeLessThan(BAKE_SECONDS);
  expect(analysis.summary).toMatch(/^Post-deploy analysis stopped after \d+ s of 15 at ops' request, without a verdict; so far /);
  await expectFleetWhole(rig, "2.0.0", load, 100);
  await expectEachJobRanOnce(rig, d.id);
  report("stop during the first node's bake", d, load, `the bake ended after ${analysis.watchedSeconds} s of ${BAKE_SECONDS}`);
}, 180_000);
