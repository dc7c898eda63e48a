// Putting a node back with HAProxy's production-like check timings (rise 3 here, to make the difference plain): after
// the agent's own health check, one passing check by HAProxy itself, run after the node left MAINT, is what puts it
// back; HAProxy's log shows it UP, never DOWN, for a healthy node.
import http from "node:http";
import { afterAll, beforeAll, expect, it } from "vitest";
import { freePort, haproxyAvailable, startHaproxy, type RunningHaproxy } from "../../../test/support/haproxy";
import { getServerState, readyServer, setServerAdminState } from "./haproxy";

const INTER_MS = 700;
let haproxy: RunningHaproxy;
let node: http.Server;
let healthy = true;

beforeAll(async () => {
  if (!(await haproxyAvailable())) throw new Error("haproxy is not installed (apt-get install haproxy; .ci/run installs it)");
  const port = await freePort();
  node = http.createServer((_req, res) => res.writeHead(healthy ? 200 : 503).end(healthy ? "ok" : "down")).listen(port, "127.0.0.1");
  haproxy = await startHaproxy({ nodes: [{ name: "a", port }], check: { interMs: INTER_MS, rise: 3, fall: 2 } });
  for (let i = 0; i < 50 && (await getServerState(haproxy.adminAddress, "app", "a")).operationalState !== "UP"; i++) await new Promise((r) => setTimeout(r, 100));
});

afterAll(async () => {
  await haproxy?.stop();
  node?.close();
});

const target = () => ({ address: haproxy.adminAddress, backend: "app", server: "a", pollIntervalMs: 25 });

it("marks the node UP after one passing check of HAProxy's own, well before rise checks", async () => {
  await setServerAdminState(haproxy.adminAddress, "app", "a", "maint");
  const started = Date.now();
  await readyServer({ ...target(), upTimeoutSeconds: 10 });
  const took = Date.now() - started;
  expect(await getServerState(haproxy.adminAddress, "app", "a")).toMatchObject({ adminState: "READY", operationalState: "UP", checkStatus: "L7OK" });
  expect(took).toBeLessThan(2 * INTER_MS + 300); // rise 3 would need at least 2 more intervals after the first check
});

it("puts the node back into rotation without HAProxy ever logging it DOWN (ops alert on DOWN events)", async () => {
  const logFrom = haproxy.log().length;
  await setServerAdminState(haproxy.adminAddress, "app", "a", "drain");
  await setServerAdminState(haproxy.adminAddress, "app", "a", "maint");
  await readyServer({ ...target(), upTimeoutSeconds: 10 });
  expect(await getServerState(haproxy.adminAddress, "app", "a")).toMatchObject({ adminState: "READY", operationalState: "UP" });
  const log = haproxy.log().slice(logFrom);
  expect(log).toContain("Server app/a is UP");
  expect(log).not.toMatch(/is DOWN/);
});

it("never marks a node UP that HAProxy's own check finds unhealthy, even if one check passed before", async () => {
  await setServerAdminState(haproxy.adminAddress, "app", "a", "maint");
  healthy = false;
  await expect(readyServer({ ...target(), upTimeoutSeconds: 2 })).rejects.toThrow(/did not report app\/a UP within 2 s.*left in MAINT$/);
  healthy = true;
});

it("with fall 1, where a passing check leaves no trace, waits one default check interval in DRAIN, and never puts back a node whose check fails", async () => {
  const fallOne = await startHaproxy({ nodes: [{ name: "a", port: (node.address() as { port: number }).port }], check: { interMs: 500, rise: 1, fall: 1 } });
  try {
    const at = { address: fallOne.adminAddress, backend: "app", server: "a", pollIntervalMs: 25 };
    for (let i = 0; i < 50 && (await getServerState(fallOne.adminAddress, "app", "a")).operationalState !== "UP"; i++) await new Promise((r) => setTimeout(r, 100));
    const logFrom = fallOne.log().length;
    await setServerAdminState(fallOne.adminAddress, "app", "a", "maint");
    const started = Date.now();
    await readyServer({ ...at, upTimeoutSeconds: 10 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_000);
    expect(await getServerState(fallOne.adminAddress, "app", "a")).toMatchObject({ adminState: "READY", operationalState: "UP" });
    expect(fallOne.log().slice(logFrom)).not.toMatch(/is DOWN/);

    await setServerAdminState(fallOne.adminAddress, "app", "a", "maint");
    healthy = false;
    await expect(readyServer({ ...at, upTimeoutSeconds: 3 })).rejects.toThrow(/did not report app\/a UP within 3 s.*left in MAINT$/);
    expect(await getServerState(fallOne.adminAddress, "app", "a")).toMatchObject({ adminState: "MAINT" });
  } finally {
    healthy = true;
    await fallOne.stop();
  }
});
