// Against a real HAProxy 2.6 in front of two real sample-app nodes, each run through its start/stop hooks (ctl.sh).
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, haproxyAvailable, startHaproxy, type RunningHaproxy } from "../../../test/support/haproxy";
import { startOpenLoad } from "../../../test/support/open-load";
import { installSampleRelease, startSampleNode, type SampleNode } from "../../../test/support/sample-node";
import { drainServer, getServerState, haproxyCommand, readyServer, setServerAdminState } from "./haproxy";
import { createLoadBalancer } from "./load-balancer";

const POLL_MS = 50;
let root: string;
let haproxy: RunningHaproxy;
let nodeA: SampleNode;
let nodeB: SampleNode;

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${haproxy.output()}`);
    await sleep(POLL_MS);
  }
}

const state = (server: string) => getServerState(haproxy.adminAddress, "app", server);
const target = (server: string, logs: string[] = []) => ({
  address: haproxy.adminAddress,
  backend: "app",
  server,
  pollIntervalMs: POLL_MS,
  onLog: (line: string) => logs.push(line),
});

/** Sends /slow through HAProxy while `other` is in MAINT, so the request lands on the other node. */
async function slowRequestOn(server: "a" | "b", ms: number): Promise<{ response: Promise<{ status: number; endedAt: number }> }> {
  const other = server === "a" ? "b" : "a";
  await setServerAdminState(haproxy.adminAddress, "app", other, "maint");
  const response = fetch(`${haproxy.url}/slow?ms=${ms}`).then(async (res) => {
    await res.text();
    return { status: res.status, endedAt: Date.now() };
  });
  await waitUntil(`the slow request on ${server}`, async () => (await state(server)).currentSessions === 1);
  await readyServer({ ...target(other), upTimeoutSeconds: 5 });
  return { response };
}

beforeAll(async () => {
  if (!(await haproxyAvailable())) throw new Error("haproxy is not installed (apt-get install haproxy; .ci/run installs it)");
  root = await fs.mkdtemp(path.join(os.tmpdir(), "rg-lb-int-"));
  [nodeA, nodeB] = await Promise.all([
    startSampleNode({ dir: path.join(root, "a"), port: await freePort(), version: "1.0.0" }),
    startSampleNode({ dir: path.join(root, "b"), port: await freePort(), version: "1.0.0" }),
  ]);
  haproxy = await startHaproxy({
    nodes: [
      { name: "a", port: nodeA.port },
      { name: "b", port: nodeB.port },
    ],
  });
  await waitUntil("both servers UP", async () => (await state("a")).status === "UP" && (await state("b")).status === "UP");
});

afterAll(async () => {
  await haproxy?.stop();
  await Promise.allSettled([nodeA?.stop(), nodeB?.stop()]);
  if (root) await fs.rm(root, { recursive: true, force: true });
});

describe("HAProxy runtime API", () => {
  it("reads a server's admin state, health and sessions", async () => {
    expect(await state("a")).toEqual({
      backend: "app",
      server: "a",
      adminState: "READY",
      operationalState: "UP",
      status: "UP",
      currentSessions: 0,
      queued: 0,
      healthChecked: true,
      checkStatus: "L7OK",
      checkCode: 200,
      checkDescription: "Layer7 check passed",
      checkHealth: 2, // rise 1 + fall 2 - 1: fully up
      checkRise: 1,
      checkFall: 2,
      // Counters from HAProxy's own traffic to the node so far (health checks are not responses).
      responses: expect.any(Number),
      http5xx: 0,
      rtimeMs: expect.any(Number),
    });
    await setServerAdminState(haproxy.adminAddress, "app", "b", "drain");
    expect(await state("b")).toMatchObject({ adminState: "DRAIN", operationalState: "UP", status: "DRAIN" });
    await setServerAdminState(haproxy.adminAddress, "app", "b", "ready");
    expect(await state("b")).toMatchObject({ adminState: "READY", status: "UP" });
  });

  it("passes on HAProxy's own error for an unknown server or backend", async () => {
    await expect(setServerAdminState(haproxy.adminAddress, "app", "nope", "drain")).rejects.toThrow(
      'HAProxy refused "set server app/nope state drain": No such server.',
    );
    await expect(drainServer({ ...target("nope"), drainTimeoutSeconds: 1 })).rejects.toThrow(/No such server\./);
    await expect(readyServer({ ...target("a"), backend: "nope", upTimeoutSeconds: 1 })).rejects.toThrow(/Can't find backend\./);
    await expect(setServerAdminState(haproxy.adminAddress, "nope", "a", "maint")).rejects.toThrow(/No such backend\./);
  });

  it("works over a unix socket too, and says clearly when nothing listens", async () => {
    const viaUnix = await startHaproxy({ nodes: [{ name: "a", port: nodeA.port }], adminSocket: "unix", backend: "web" });
    try {
      expect(viaUnix.adminAddress).toMatch(/admin\.sock$/);
      expect(await haproxyCommand(viaUnix.adminAddress, "show info")).toMatch(/^Name: HAProxy/m);
      const web = await getServerState(viaUnix.adminAddress, "web", "a");
      expect(web).toMatchObject({ backend: "web", server: "a", adminState: "READY" });
    } finally {
      await viaUnix.stop();
    }
    await expect(haproxyCommand(viaUnix.adminAddress, "show info")).rejects.toThrow(/runtime API at .*admin\.sock is unreachable \(ENOENT\)/);
    const closedPort = await freePort();
    await expect(getServerState(`127.0.0.1:${closedPort}`, "app", "a")).rejects.toThrow(/unreachable \(ECONNREFUSED\)/);
  });
});

describe("when the runtime API cannot be reached", () => {
  // A second HAProxy in front of node b with its runtime API on a unix socket, which the test moves away (as when
  // /run is cleaned or a broken reload leaves no socket) and back.
  let viaUnix: RunningHaproxy;
  beforeAll(async () => {
    viaUnix = await startHaproxy({ nodes: [{ name: "b", port: nodeB.port }], adminSocket: "unix", backend: "web" });
    await waitUntil("web/b UP", async () => (await getServerState(viaUnix.adminAddress, "web", "b")).status === "UP");
  });
  afterAll(async () => {
    await fs.rename(`${viaUnix.adminAddress}.gone`, viaUnix.adminAddress).catch(() => undefined);
    await viaUnix?.stop();
  });
  const gone = () => fs.rename(viaUnix.adminAddress, `${viaUnix.adminAddress}.gone`);
  const back = () => fs.rename(`${viaUnix.adminAddress}.gone`, viaUnix.adminAddress);
  const web = (logs: string[], onState?: (s: string) => void) => ({
    address: viaUnix.adminAddress,
    backend: "web",
    server: "b",
    pollIntervalMs: POLL_MS,
    onLog: (line: string) => logs.push(line),
    ...(onState ? { onState } : {}),
  });

  it("rides out a runtime API that is gone for a moment mid-drain, and carries on once it answers again", async () => {
    const slow = fetch(`${viaUnix.url}/slow?ms=1500`).then((r) => r.status);
    await waitUntil("the slow request on web/b", async () => (await getServerState(viaUnix.adminAddress, "web", "b")).currentSessions === 1);
    const logs: string[] = [];
    let movedAway = false;
    const draining = drainServer({
      ...web(logs, (s) => {
        if (s === "DRAIN" && !movedAway) {
          movedAway = true;
          void gone().then(() => setTimeout(() => void back(), 1_000));
        }
      }),
      drainTimeoutSeconds: 10,
      unreachableRetrySeconds: 5,
    });
    expect(await draining).toMatchObject({ drained: true });
    expect(await slow).toBe(200);
    expect(logs.join("\n")).toMatch(/unreachable \(ENOENT\); retrying for up to 5 s[\s\S]*answers again[\s\S]*set to MAINT/);
    await readyServer({ ...web([]), upTimeoutSeconds: 5 });
    expect(await getServerState(viaUnix.adminAddress, "web", "b")).toMatchObject({ adminState: "READY", operationalState: "UP" });
  });

  it("gives up after the retry window and says where it left the server", async () => {
    const slow = fetch(`${viaUnix.url}/slow?ms=2500`).then((r) => r.status);
    await waitUntil("the slow request on web/b", async () => (await getServerState(viaUnix.adminAddress, "web", "b")).currentSessions === 1);
    let movedAway = false;
    const draining = drainServer({
      ...web([], (s) => {
        if (s === "DRAIN" && !movedAway) {
          movedAway = true;
          void gone();
        }
      }),
      drainTimeoutSeconds: 10,
      unreachableRetrySeconds: 1,
    });
    await expect(draining).rejects.toThrow(
      /^HAProxy's runtime API at .*admin\.sock could not be reached for 1 s \(ENOENT\); web\/b was last seen in DRAIN \(no new requests; HAProxy still checks it\)$/,
    );
    expect(await slow).toBe(200);
    await back();
    // Putting it back works as soon as HAProxy answers again; DRAIN never stopped its checks.
    await readyServer({ ...web([]), upTimeoutSeconds: 5 });
    expect(await getServerState(viaUnix.adminAddress, "web", "b")).toMatchObject({ adminState: "READY", operationalState: "UP" });
  });
});

describe("drainServer", () => {
  it("waits for the request in flight to finish before putting the server in MAINT", async () => {
    const { response } = await slowRequestOn("a", 1500);
    const logs: string[] = [];
    const result = await drainServer({ ...target("a", logs), drainTimeoutSeconds: 10 });
    const drainedAt = Date.now();

    const slow = await response;
    expect(slow.status).toBe(200);
    expect(slow.endedAt).toBeLessThanOrEqual(drainedAt);
    expect(result.drained).toBe(true);
    expect(result.waitedMs).toBeGreaterThan(500);
    expect(logs.join("\n")).toMatch(/DRAIN \(1 session,[\s\S]*waiting for 1 session and[\s\S]*drained in \d+ ms[\s\S]*MAINT/);
    expect(await state("a")).toMatchObject({ adminState: "MAINT", currentSessions: 0 });

    await readyServer({ ...target("a"), upTimeoutSeconds: 5 });
    expect(await state("a")).toMatchObject({ adminState: "READY", operationalState: "UP" });
  });

  it("gives up waiting after the timeout, logs it, and still goes to MAINT", async () => {
    const { response } = await slowRequestOn("a", 2500);
    const logs: string[] = [];
    const result = await drainServer({ ...target("a", logs), drainTimeoutSeconds: 1 });
    expect(result).toMatchObject({ drained: false, remaining: 1 });
    expect(logs.join("\n")).toMatch(/still has 1 session after 1 s; continuing/);
    expect(await state("a")).toMatchObject({ adminState: "MAINT" });
    // MAINT sends no new requests; the one in flight still completes while the app runs.
    expect((await response).status).toBe(200);
    await readyServer({ ...target("a"), upTimeoutSeconds: 5 });
  });
});

describe("a rolling update through the load balancer", () => {
  it("drops no request of an open-model load at 100 req/s while both nodes are replaced", async () => {
    const logs: string[] = [];
    const lbFor = (server: string) =>
      createLoadBalancer(
        { kind: "HAPROXY", address: haproxy.adminAddress, backend: "app", server },
        { onLog: (line) => logs.push(line), runCommand: async () => {}, drainTimeoutSeconds: 10, upTimeoutSeconds: 10, pollIntervalMs: POLL_MS },
      );
    const load = startOpenLoad({ url: haproxy.url, ratePerSecond: 100, paths: ["/version", "/", "/slow?ms=300", "/version"] });
    await sleep(1_000);

    for (const [server, node] of [
      ["a", nodeA],
      ["b", nodeB],
    ] as const) {
      const lb = lbFor(server);
      await lb.takeOut();
      await node.stop();
      await installSampleRelease(node.dir, "2.0.0");
      await node.start();
      await lb.putBack();
      await sleep(500);
    }
    await sleep(1_000);
    const summary = await load.stop();

    expect(summary.failures).toEqual([]);
    // 1 s before, the rollout, 1.5 s after: at least 3 s of load at 100/s.
    expect(summary.sent).toBeGreaterThanOrEqual(300);
    expect(summary.ok).toBe(summary.sent);
    expect(Object.keys(summary.versionsSeen).sort()).toEqual(["1.0.0", "2.0.0"]);
    const lastVersions = load
      .results()
      .slice(-30)
      .filter((r) => r.version)
      .map((r) => r.version);
    expect(new Set(lastVersions)).toEqual(new Set(["2.0.0"]));
    console.info(`rolling update under load: ${JSON.stringify({ ...summary, failures: summary.failures.length })}`);
  });

  it("(control) the same load does see the requests cut when a node dies without draining", async () => {
    // Only slow requests, so whatever b serves when it dies is cut mid-request.
    const load = startOpenLoad({ url: haproxy.url, ratePerSecond: 100, paths: ["/slow?ms=300"] });
    await waitUntil("requests in flight on b", async () => (await state("b")).currentSessions >= 2);
    const pid = await nodeB.pid();
    if (!pid) throw new Error("node b has no pid");
    process.kill(pid, "SIGKILL");
    await sleep(1_000);
    await nodeB.start(); // over the stale pidfile the killed app left
    await waitUntil("b UP again", async () => (await state("b")).status === "UP");
    const summary = await load.stop();

    expect(summary.failed).toBeGreaterThan(0);
    // HAProxy answers 502, or closes a reused client connection without a response (ECONNRESET here).
    expect(summary.failures.every((f) => f.status === 502 || f.error === "ECONNRESET")).toBe(true);
  });
});

describe("readyServer", () => {
  it("fails clearly, leaving the server in MAINT, when the node is down", async () => {
    await drainServer({ ...target("a"), drainTimeoutSeconds: 5 });
    await nodeA.stop();
    await expect(readyServer({ ...target("a"), upTimeoutSeconds: 1.5 })).rejects.toThrow(
      /^HAProxy did not report app\/a UP within 1\.5 s: status DOWN, last health check L4CON \(Connection refused\); the server is left in MAINT$/,
    );
    expect(await state("a")).toMatchObject({ adminState: "MAINT" });
    const served = await fetch(`${haproxy.url}/version`);
    expect(served.status).toBe(200);
  });

  it("fails when the new build's health check answers 500, and succeeds once a good build runs", async () => {
    await installSampleRelease(nodeA.dir, "3.0.0-broken", { brokenHealth: true });
    await nodeA.start();
    await expect(readyServer({ ...target("a"), upTimeoutSeconds: 1.5 })).rejects.toThrow(/status DOWN, last health check L7STS 500 \(Internal Server Error\); the server is left in MAINT$/);
    expect(await state("a")).toMatchObject({ adminState: "MAINT" });

    await nodeA.stop();
    await installSampleRelease(nodeA.dir, "3.0.0");
    await nodeA.start();
    const { waitedMs } = await readyServer({ ...target("a"), upTimeoutSeconds: 5 });
    expect(waitedMs).toBeLessThan(5_000);
    expect(await state("a")).toMatchObject({ adminState: "READY", operationalState: "UP", checkStatus: "L7OK" });
  });
});
