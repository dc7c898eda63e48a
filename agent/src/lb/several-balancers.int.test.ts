// A node behind two real HAProxy instances (a redundant pair): the agent takes it out of both and puts it back in
// both, and never leaves it serving on one while it is out of the other.
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { TJobBalancer } from "../../../lib/contracts/agent-api";
import { freePort, haproxyAvailable, startHaproxy, type RunningHaproxy } from "../../../test/support/haproxy";
import { startOpenLoad } from "../../../test/support/open-load";
import { startSampleNode, type SampleNode } from "../../../test/support/sample-node";
import { getServerState } from "./haproxy";
import { createLoadBalancers } from "./load-balancer";

let root: string;
let nodeA: SampleNode;
let nodeB: SampleNode;
const running: RunningHaproxy[] = [];

beforeAll(async () => {
  if (!(await haproxyAvailable())) throw new Error("haproxy is not installed (apt-get install haproxy; .ci/run installs it)");
  root = await fs.mkdtemp(path.join(os.tmpdir(), "rg-lb-pair-"));
  [nodeA, nodeB] = await Promise.all([
    startSampleNode({ dir: path.join(root, "a"), port: await freePort(), version: "1.0.0" }),
    startSampleNode({ dir: path.join(root, "b"), port: await freePort(), version: "1.0.0" }),
  ]);
});

afterEach(async () => {
  await Promise.allSettled(running.splice(0).map((h) => h.stop()));
});

afterAll(async () => {
  await Promise.allSettled([nodeA?.stop(), nodeB?.stop()]);
  if (root) await fs.rm(root, { recursive: true, force: true });
});

/** Two HAProxy instances in front of the same two nodes, both servers UP on both. */
async function pair(): Promise<[RunningHaproxy, RunningHaproxy]> {
  const nodes = [
    { name: "a", port: nodeA.port },
    { name: "b", port: nodeB.port },
  ];
  const both = (await Promise.all([startHaproxy({ nodes }), startHaproxy({ nodes, adminSocket: "unix" })])) as [RunningHaproxy, RunningHaproxy];
  running.push(...both);
  for (const h of both) await expect.poll(async () => (await getServerState(h.adminAddress, "app", "a")).status, { timeout: 5_000 }).toBe("UP");
  return both;
}

const balancers = (one: RunningHaproxy, two: RunningHaproxy): TJobBalancer[] => [
  { kind: "HAPROXY", name: "haproxy-1", address: one.adminAddress, backend: "app", server: "a" },
  { kind: "HAPROXY", name: "haproxy-2", address: two.adminAddress, backend: "app", server: "a" },
];

const options = (logs: string[]) => ({
  onLog: (l: string) => logs.push(l),
  runCommand: async () => {},
  drainTimeoutSeconds: 5,
  upTimeoutSeconds: 5,
  unreachableRetrySeconds: 1,
  pollIntervalMs: 50,
});

/** Where each HAProxy holds server a, read through its second socket (which the test never takes away). */
const states = (...hs: RunningHaproxy[]) => Promise.all(hs.map(async (h) => (await getServerState(h.observerAddress, "app", "a")).adminState));

describe("a node behind two HAProxy instances", () => {
  it("is drained on both and put back on both, with zero failed requests through either balancer", async () => {
    const [one, two] = await pair();
    const loads = [startOpenLoad({ url: one.url, ratePerSecond: 50 }), startOpenLoad({ url: two.url, ratePerSecond: 50 })];
    const logs: string[] = [];
    const lb = createLoadBalancers(balancers(one, two), options(logs));
    await lb.takeOut();
    expect(await states(one, two)).toEqual(["MAINT", "MAINT"]);
    await lb.putBack();
    expect(await states(one, two)).toEqual(["READY", "READY"]);
    const results = await Promise.all(loads.map((l) => l.stop()));
    for (const r of results) {
      expect(r.sent).toBeGreaterThan(0);
      expect(r.failed, JSON.stringify(r.failures.slice(0, 3))).toBe(0);
    }
    expect(logs[0]).toBe("Taking the node out of 2 load balancers: haproxy-1 (app/a), haproxy-2 (app/a)");
  });

  it("that cannot be taken out of one is put back on the other: it serves on both or on none", async () => {
    const [one] = await pair();
    const nowhere = `127.0.0.1:${await freePort()}`;
    const lb = createLoadBalancers(
      [balancers(one, one)[0]!, { kind: "HAPROXY", name: "haproxy-2", address: nowhere, backend: "app", server: "a" }],
      options([]),
    );
    const error = await lb.takeOut().then(() => null, (e: Error) => e);
    expect(error?.message).toMatch(
      new RegExp(`^Could not take the node out of haproxy-2: HAProxy's runtime API at ${nowhere} could not be reached for 1 s \\(ECONNREFUSED\\); the state of app/a is unknown\\. It was put back in haproxy-1, so it serves as before on every balancer that answers\\.$`),
    );
    expect(await states(one)).toEqual(["READY"]);
    expect((await getServerState(one.observerAddress, "app", "a")).status).toBe("UP");
  });

  it("that cannot be put back on one is taken out of the other again, and the failure says so", async () => {
    const [one, two] = await pair();
    const lb = createLoadBalancers(balancers(one, two), options([]));
    await lb.takeOut();
    await two.stop();
    const error = await lb.putBack().then(() => null, (e: Error) => e);
    expect(error?.message).toMatch(/^Could not put the node back in haproxy-2: HAProxy's runtime API at .* could not be reached for 1 s \(ENOENT\); the state of app\/a is unknown\. It was taken out of haproxy-1 again, so it serves on no balancer rather than on some\.$/);
    expect(await states(one)).toEqual(["MAINT"]);
    expect(lb.describeState()).toMatch(/^haproxy-1: HAProxy: app\/a was last seen in MAINT \(no traffic\); haproxy-2: HAProxy: app\/a was last seen in MAINT \(no traffic\)$/);
  });
});
