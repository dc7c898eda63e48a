// Faults on the nodes, proven with real parts under an open-model load through HAProxy for the whole of each
// scenario (test/support/fault-rig.ts): a build that answers 500, a start hook that hangs past its timeout,
// HAProxy's runtime socket gone mid-drain, a disk that fills up while a build is staged, and the everyday rolling
// deploy that must not log a node DOWN. Each ends with no failed visitor request, the fleet on one version and
// fully in rotation, and the deployment page saying what happened. Measured figures go to docs/reliability.md.
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, expect, it } from "vitest";
import { getServerState } from "../../agent/src/lb/haproxy";
import { type DeploymentPage, expectEachJobRanOnce, expectFleetWhole, expectSucceeded, type FaultRig, startFaultRig, stepsInOrder } from "../support/fault-rig";
import { waitFor } from "../support/fleet";
import type { OpenLoadSummary } from "../support/open-load";

let rig: FaultRig;

beforeAll(async () => {
  // web-2's deploy directory is a 6 MiB filesystem of its own: room for the small builds, not for a big one.
  rig = await startFaultRig({ name: "nodes", controlPlanes: 1, smallDisk: { node: "web-2", bytes: 6 * 1024 * 1024 }, releases: { upload: ["1.0.0", "2.0.0"], live: "1.0.0" } });
}, 180_000);

afterAll(async () => {
  await rig?.stop();
}, 60_000);


/** One line per scenario for docs/reliability.md: how long the deployment took and what the visitors saw. */
function report(scenario: string, d: DeploymentPage, load: OpenLoadSummary, extra = ""): void {
  const took = ((d.finishedAt!.getTime() - d.startedAt!.getTime()) / 1000).toFixed(1);
  console.log(`[reliability] ${scenario}: ${d.status} in ${took} s; ${load.sent} requests, ${load.failed} failed${extra ? `; ${extra}` : ""}`);
}


it("a rolling deploy puts each node back into rotation without HAProxy ever logging it DOWN", async () => {
  const logFrom = rig.site.log().length;
  const { result: d, load } = await rig.underLoad(async () => rig.waitForDeployment(await rig.deploy("2.0.0")));
  expectSucceeded(d);
  await expectFleetWhole(rig, "2.0.0", load, 100);
  const log = rig.siteLogSince(logFrom);
  expect(log.filter((l) => /^Server app\/web-\d is UP \(leaving forced drain\)/.test(l))).toHaveLength(3);
  // What ops alert on: a server DOWN. Entering maintenance ("is going DOWN for maintenance") is not that.
  expect(log.filter((l) => /is DOWN/.test(l))).toEqual([]);
  await expectEachJobRanOnce(rig, d.id);
  report("rolling deploy", d, load, `HAProxy logged ${log.filter((l) => /is UP/.test(l)).length} UP and ${log.filter((l) => /is DOWN/.test(l)).length} DOWN lines`);
}, 120_000);

it("a build that answers 500 is halted and rolled back at once, without waiting for the hook timeout", async () => {
  // The hook timeout is what the rollout waited for before: 60 s here.
  await rig.domain.changeRolloutSettings(rig.ops, rig.environmentId, { hookTimeoutSeconds: 60, healthCheckFailAfter5xx: 3 });
  await rig.upload("2.1.0-broken", { brokenHealth: true });
  const { result: d, load } = await rig.underLoad(async () => rig.waitForDeployment(await rig.deploy("2.1.0-broken")));
  expect(d.status).toBe("FAILED");
  expect(d.failureReason).toMatch(
    /^web-1: activating the release failed: Health check http:\/\/127\.0\.0\.1:\d+\/health answered HTTP 500 3 times in a row over \d+\.\d s: broken 2\.1\.0-broken\. Rolled back to the previous release: web-1\.$/,
  );
  expect(stepsInOrder(d).filter((s) => !s.startsWith("STAGE"))).toEqual(["ACTIVATE web-1 FAILED", "ROLLBACK web-1 SUCCEEDED"]);
  // Well before the 60 s hook timeout (a functional bound; the figure itself is measured below, for the docs).
  expect(d.finishedAt!.getTime() - d.startedAt!.getTime()).toBeLessThan(60_000);
  await expectFleetWhole(rig, "2.0.0", load, 100);
  expect(load.versionsSeen["2.1.0-broken"] ?? 0).toBe(0);
  await expectEachJobRanOnce(rig, d.id);

  const first500 = (await rig.agentLog("web-1"))
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as { time: string; msg: string })
    .find((e) => / HTTP 500 \(1 of 3 in a row/.test(e.msg));
  const seconds = (d.finishedAt!.getTime() - Date.parse(first500!.time)) / 1000;
  report("build answering 500", d, load, `first 500 seen by the agent -> rolled back and FAILED: ${seconds.toFixed(1)} s (hook timeout 60 s)`);
}, 120_000);

it("a start hook that hangs past its timeout is stopped, and the node is rolled back", async () => {
  await rig.domain.changeRolloutSettings(rig.ops, rig.environmentId, { hookTimeoutSeconds: 5 });
  // This build's own start script hangs (it never returns), as a start that waits on something that never comes.
  await rig.upload("2.2.0-hangs", {
    customize: async (dir) => {
      const ctl = path.join(dir, "ctl.sh");
      const script = await fs.readFile(ctl, "utf8");
      await fs.writeFile(ctl, script.replace("set -eu\n", 'set -eu\nif [ "${1:-}" = start ]; then echo "sample-app: starting (this build hangs)"; sleep 600; fi\n'));
    },
  });
  const { result: d, load } = await rig.underLoad(async () => rig.waitForDeployment(await rig.deploy("2.2.0-hangs")));
  expect(d.status).toBe("FAILED");
  expect(d.failureReason).toMatch(
    /^web-1: activating the release failed: Hook "start" timed out after 5s\.\nLast output:\nsample-app: starting \(this build hangs\)\. Rolled back to the previous release: web-1\.$/,
  );
  expect(stepsInOrder(d).filter((s) => !s.startsWith("STAGE"))).toEqual(["ACTIVATE web-1 FAILED", "ROLLBACK web-1 SUCCEEDED"]);
  await expectFleetWhole(rig, "2.0.0", load, 100);
  await expectEachJobRanOnce(rig, d.id);
  report("start hook hanging (hook timeout 5 s)", d, load);
}, 120_000);

it("HAProxy's runtime socket gone mid-drain: the step fails saying where it left the node, and the rollback completes once HAProxy answers again", async () => {
  // The agent waits for a runtime API that does not answer as long as for a hook: 6 s here.
  await rig.domain.changeRolloutSettings(rig.ops, rig.environmentId, { hookTimeoutSeconds: 6 });
  await rig.upload("2.3.0");
  const socket = rig.site.adminAddress;
  const logFrom = rig.site.log().length;
  const { result, load } = await rig.underLoad(async () => {
    const id = await rig.deploy("2.3.0");
    // A visitor's long request on web-2, so that web-2's drain is still waiting for it when the socket goes.
    await rig.waitForStep(id, "web-1", "ACTIVATE", (s) => s.status === "RUNNING");
    const held = rig.holdRequestOn("web-2", 8_000);
    await waitFor("web-2 in DRAIN", async () => (await getServerState(rig.site.observerAddress, "app", "web-2")).adminState === "DRAIN", 30_000, 10);
    await fs.rename(socket, `${socket}.gone`);
    await rig.waitForStep(id, "web-2", "ACTIVATE", (s) => s.status === "FAILED");
    // The rollback of web-2 now waits for HAProxy too; the socket comes back while it waits.
    await rig.waitForStep(id, "web-2", "ROLLBACK", (s) => s.status === "RUNNING");
    await sleep(1_500);
    await fs.rename(`${socket}.gone`, socket);
    return { d: await rig.waitForDeployment(id), held: await held };
  });
  const { d } = result;
  expect(result.held).toBe(200);
  expect(d.status).toBe("FAILED");
  expect(d.failureReason).toMatch(
    /^web-2: activating the release failed: HAProxy's runtime API at \/.+\/admin\.sock could not be reached for 6 s \(ENOENT\); app\/web-2 was last seen in DRAIN \(no new requests; HAProxy still checks it\)\. Rolled back to the previous release: web-1, web-2\.$/,
  );
  expect(stepsInOrder(d).filter((s) => !s.startsWith("STAGE"))).toEqual(["ACTIVATE web-1 SUCCEEDED", "ACTIVATE web-2 FAILED", "ROLLBACK web-2 SUCCEEDED", "ROLLBACK web-1 SUCCEEDED"]);
  const rollback = d.servers.find((s) => s.name === "web-2")!.steps.find((s) => s.action === "ROLLBACK")!;
  expect(rollback.message).toBe("web-2 serves 2.0.0");
  await expectFleetWhole(rig, "2.0.0", load, 100);
  expect(rig.siteLogSince(logFrom).filter((l) => /is DOWN/.test(l))).toEqual([]);
  await expectEachJobRanOnce(rig, d.id);
  report("runtime socket gone mid-drain (back 1.5 s into the rollback)", d, load, `the held request on web-2: HTTP ${result.held}`);
}, 120_000);

it("ops stop a rollout after its first node switched: the switched nodes go back once each, and the deployment ends cancelled", async () => {
  // The stop asked every job of the deployment to stop, the rollback's own too: each rollback was stopped as it
  // began and planned again, forever (production left on two versions, audit events by the second).
  await rig.upload("2.4.0");
  const { result: d, load } = await rig.underLoad(async () => {
    const id = await rig.deploy("2.4.0");
    await rig.waitForStep(id, "web-1", "ACTIVATE", (s) => s.status === "SUCCEEDED");
    await rig.domain.cancelDeployment(rig.ops, id);
    return rig.waitForDeployment(id, 60_000);
  });
  expect(d.status, d.failureReason ?? "").toBe("CANCELLED");
  const activated = d.servers.filter((s) => s.steps.some((st) => st.action === "ACTIVATE" && st.status === "SUCCEEDED")).map((s) => s.name);
  expect(activated).toContain("web-1");
  // Exactly one rollback per switched node, each of which succeeded.
  const rollbacks = d.servers.flatMap((s) => s.steps.filter((st) => st.action === "ROLLBACK").map((st) => `${s.name} ${st.status}`));
  expect(rollbacks.sort()).toEqual(activated.map((n) => `${n} SUCCEEDED`).sort());
  await expectFleetWhole(rig, "2.0.0", load, 100);
  await expectEachJobRanOnce(rig, d.id);
  report("stop after the first node switched", d, load, `switched and rolled back once each: ${activated.join(", ")}`);
}, 120_000);

it("a node whose disk fills up while the build is staged: the deployment stops before any node leaves rotation, saying why", async () => {
  // 4 MiB of incompressible bytes: the archive fits on web-2's disk, the archive plus its extraction does not.
  await rig.upload("3.0.0-big", { customize: (dir) => fs.writeFile(path.join(dir, "assets.bin"), randomBytes(4 * 1024 * 1024)) });
  const freeBefore = await rig.disk!.free();
  const { result: d, load } = await rig.underLoad(async () => rig.waitForDeployment(await rig.deploy("3.0.0-big")));
  expect(d.status).toBe("FAILED");
  expect(d.failureReason).toMatch(
    /^web-2: staging the release failed: The disk holding \/.+\/web-2 is full \(ENOSPC\): staging 3\.0\.0-big \(a 4\.0 MiB archive, more once extracted\) did not fit; [\d.]+ [KM]iB free of 6\.0 MiB after cleaning up\. Nothing changed on web-2: it still serves what it served\. Free some space and deploy again\.$/,
  );
  expect(stepsInOrder(d).filter((s) => !s.startsWith("STAGE"))).toEqual([]);
  // What the failed stage wrote is gone again (the app's own log may have grown a little meanwhile).
  expect(await rig.disk!.free()).toBeGreaterThan(freeBefore - 64 * 1024);
  await expectFleetWhole(rig, "2.0.0", load, 100);
  await expectEachJobRanOnce(rig, d.id);
  report("disk full while staging", d, load, `web-2's disk: ${((await rig.disk!.free()) / 1024 / 1024).toFixed(1)} MiB free after, ${(freeBefore / 1024 / 1024).toFixed(1)} MiB before`);
}, 120_000);
