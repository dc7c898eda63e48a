// Three nodes behind a redundant pair of HAProxy instances (each its own balancer in Releasegate), with real agents
// and an open-model load through both: a rollout and a revert take each node out of both balancers and put it back
// in both, and no visitor of either balancer sees a failure. The environment page's live view shows both
// balancers' own view of each server.
import { afterAll, beforeAll, expect, it } from "vitest";
import { expectEachJobRanOnce, expectFleetWhole, expectSucceeded, type FaultRig, startFaultRig } from "../support/fault-rig";

let rig: FaultRig;

beforeAll(async () => {
  rig = await startFaultRig({ name: "pair", controlPlanes: 1, secondBalancer: true, releases: { upload: ["1.0.0", "2.0.0"], live: "1.0.0" } });
}, 180_000);

afterAll(async () => {
  await rig?.stop();
}, 60_000);

it("a rollout and a revert behind two balancers: zero failed requests through either, every node back in both", async () => {
  const { result: deployed, load } = await rig.underLoad(async () => rig.waitForDeployment(await rig.deploy("2.0.0")));
  expectSucceeded(deployed);
  await expectFleetWhole(rig, "2.0.0", load, 300);
  await expectEachJobRanOnce(rig, deployed.id);
  // Each activation took its node out of both, in the step's log.
  for (const server of deployed.servers) {
    const log = await rig.agentLog(server.name);
    expect(log, server.name).toContain("Taking the node out of 2 load balancers: haproxy (app/");
  }

  const { result: reverted, load: revertLoad } = await rig.underLoad(async () =>
    rig.waitForDeployment(await rig.domain.revertEnvironment(rig.ops, rig.environmentId, "2.0.0 breaks the checkout")),
  );
  expectSucceeded(reverted);
  await expectFleetWhole(rig, "1.0.0", revertLoad, 300);
  console.log(`[reliability] two balancers: rollout ${load.sent} requests, ${load.failed} failed; revert ${revertLoad.sent} requests, ${revertLoad.failed} failed`);
}, 240_000);

it("the environment page shows each balancer's own view of every server, read by the agents", async () => {
  await expect
    .poll(
      async () =>
        (await rig.domain.environmentBalancers(rig.ops, rig.applicationId, rig.environmentId)).map((b) => [
          b.name,
          b.members.map((m) => `${m.targetName}: ${m.observed?.adminState ?? "-"} ${m.observed?.status ?? "-"}${m.observed?.error ? ` ${m.observed.error}` : ""}`),
        ]),
      { timeout: 30_000, interval: 500 },
    )
    .toEqual([
      ["haproxy", ["web-1: READY UP", "web-2: READY UP", "web-3: READY UP"]],
      ["haproxy-2", ["web-1: READY UP", "web-2: READY UP", "web-3: READY UP"]],
    ]);
  // What takes a server out of one balancer shows there, and only there, within a heartbeat or two.
  const { setServerAdminState } = await import("../../agent/src/lb/haproxy");
  await setServerAdminState(rig.site2!.observerAddress, "app", "web-2", "maint");
  try {
    await expect
      .poll(async () => {
        const view = await rig.domain.environmentBalancers(rig.ops, rig.applicationId, rig.environmentId);
        return view.map((b) => `${b.name} ${b.members.find((m) => m.targetName === "web-2")?.observed?.adminState}`);
      }, { timeout: 30_000, interval: 500 })
      .toEqual(["haproxy READY", "haproxy-2 MAINT"]);
  } finally {
    await setServerAdminState(rig.site2!.observerAddress, "app", "web-2", "ready");
  }
}, 90_000);
