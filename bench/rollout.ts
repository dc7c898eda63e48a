// Rollout and revert benchmarks with real parts (issue: agents and zero-downtime rollouts). The real control plane
// (its own process), HAProxy with its DEFAULT health-check timings (inter 2 s, rise 2, fall 3), 3 sample-app nodes,
// each with the real bundled agent. Each run, under a 200 req/s open-model load through HAProxy:
//   - a rolling deploy of a new release (batch 1): failed requests, total time (request to finished), and
//     Releasegate's own overhead per node = the activation step's time minus the time spent in hooks, balancer
//     waits (drain, HAProxy's check) and the health check, as the agent reports them ("Waited … ms on the app and
//     the load balancer: …" in its log, agent/src/waits.ts);
//   - a revert to the previous release (still staged on every node): failed requests, total time.
// Baseline, measured in the same run on the same nodes: the same per-node sequence (drain, stop, switch, start,
// health, ready) run directly by this script with the agent's own modules, no control plane: the floor a rollout
// of these nodes cannot go under.
// Run: npm run bench -- rollout       Prints figures; asserts nothing. BENCH_RUNS (default 5).
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { checkHealth, runHook } from "../agent/src/install/hooks";
import { ReleaseStore } from "../agent/src/install/release-store";
import { drainServer, readyServer } from "../agent/src/lb/haproxy";
import { waitedMsIn } from "../agent/src/waits";
import { migrateDatabase } from "../lib/db/migrate";
import { startTestServer } from "../scripts/lib/test-database";
import { type Fleet, startFleet, startFleetHaproxy, waitFor } from "../test/support/fleet";
import { freePort } from "../test/support/haproxy";
import { startOpenLoad } from "../test/support/open-load";
import { buildSampleArtifact } from "../test/support/sample-artifact";
import { startControlPlane } from "./lib/control-plane";
import { fmt, median, row } from "./lib/stats";

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const RATE = 200;
const DEFAULT_CHECKS = { interMs: 2000, rise: 2, fall: 3 };

async function main(): Promise<void> {
  const server = await startTestServer();
  const work = await fs.mkdtemp(path.join(os.tmpdir(), "releasegate-bench-rollout-"));
  let fleet: Fleet | null = null;
  let cp: Awaited<ReturnType<typeof startControlPlane>> | null = null;
  try {
    const url = await server.createDatabase("releasegate_test_bench_rollout");
    await migrateDatabase(url);
    process.env.DATABASE_URL = url;
    process.env.LOG_LEVEL = "silent";
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    cp = await startControlPlane({ databaseUrl: url });

    const ports = { qa: await freePort(), acceptance: await freePort(), production: [await freePort(), await freePort(), await freePort()] };
    const haproxy = await startFleetHaproxy(ports.production.map((port, i) => ({ name: `web-${i + 1}`, port })), DEFAULT_CHECKS);
    const { seedFleet } = await import("../scripts/lib/seed-fleet");
    const seeded = await seedFleet({
      customerName: "Bench",
      applicationName: "Bench shop",
      password: "bench-password-123",
      ports,
      haproxy: { url: haproxy.url, adminAddress: haproxy.adminAddress, backend: haproxy.backend },
      gates: false,
      emailDomain: "bench.example.test",
    });
    const prodNodes = seeded.nodes.filter((n) => n.environment === "production");
    fleet = await startFleet({ server: cp.url, workDir: path.join(work, "fleet"), haproxy, nodes: prodNodes.map((n) => ({ name: n.name, token: n.token, port: n.port, balanced: true })) });
    for (const a of fleet.agents) await waitFor(`${a.name} online`, async () => (await fs.readFile(a.logFile, "utf8").catch(() => "")).includes("waiting for work"));

    const api = async <T>(p: string, init: RequestInit = {}): Promise<T> => {
      const res = await fetch(`${cp!.url}${p}`, { ...init, headers: { authorization: `Bearer ${seeded.apiToken}`, ...init.headers } });
      if (!res.ok) throw new Error(`${init.method ?? "GET"} ${p}: ${res.status} ${await res.text()}`);
      return (await res.json()) as T;
    };
    const upload = async (version: string) => {
      const file = path.join(work, `app-${version}.tar.gz`);
      const a = await buildSampleArtifact(version, file);
      const form = new FormData();
      form.set("version", version);
      form.set("sha256", a.sha256);
      form.set("artifact", new Blob([await fs.readFile(file)]), path.basename(file));
      await api(`/api/v1/applications/${seeded.applicationId}/releases`, { method: "POST", body: form });
    };
    const finish = async (id: string) => {
      for (;;) {
        const { deployment: d } = await api<{ deployment: { finished: boolean; status: string; failureReason: string | null } }>(`/api/v1/deployments/${id}`);
        if (d.finished) {
          if (d.status !== "SUCCEEDED") throw new Error(`deployment ${id} ${d.status}: ${d.failureReason}`);
          return;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    const post = async (p: string, body: unknown) =>
      (await api<{ deployment: { id: string } }>(p, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) })).deployment.id;
    const deploy = (version: string) => post(`/api/v1/applications/${seeded.applicationId}/deployments`, { environment: "production", release: version });
    const revert = () => post(`/api/v1/applications/${seeded.applicationId}/reverts`, { environment: "production", reason: "benchmark" });

    /** The deployment's wall time and, per activated node, the time not spent waiting on hooks, balancer or health. */
    const analyse = async (id: string) => {
      const d = (await client.query<{ created: Date; finished: Date }>(`SELECT "createdAt" AS created, "finishedAt" AS finished FROM "Deployment" WHERE id = $1`, [id])).rows[0]!;
      const steps = await client.query<{ id: string; created: Date; finished: Date; action: string }>(
        `SELECT id, "createdAt" AS created, "finishedAt" AS finished, action::text FROM "DeploymentStep" WHERE "deploymentId" = $1 AND action = 'ACTIVATE'`,
        [id],
      );
      const overhead: number[] = [];
      for (const s of steps.rows) {
        const logs = (await client.query<{ content: string }>(`SELECT content FROM "StepLog" WHERE "stepId" = $1 ORDER BY seq`, [s.id])).rows.map((r) => r.content).join("");
        overhead.push(s.finished.getTime() - s.created.getTime() - (waitedMsIn(logs) ?? 0));
      }
      return { totalMs: d.finished.getTime() - d.created.getTime(), overheadMs: overhead };
    };

    const versions = Array.from({ length: RUNS + 1 }, (_, i) => `1.${i}.0`);
    for (const v of versions) await upload(v);
    await finish(await deploy(versions[0]!));

    console.log(`\nrollout benchmarks: 3 nodes behind HAProxy 2.6 (checks inter ${DEFAULT_CHECKS.interMs} ms, rise ${DEFAULT_CHECKS.rise}, fall ${DEFAULT_CHECKS.fall}), ${RATE} req/s open-model load, ${RUNS} runs, ${os.cpus().length} cores, node ${process.version}`);
    const results: { deploy: number; deployFailed: number; sent: number; overhead: number[]; revert: number; revertFailed: number; baseline: number }[] = [];
    for (let run = 1; run <= RUNS; run++) {
      const load = startOpenLoad({ url: haproxy.url, ratePerSecond: RATE, paths: ["/version", "/version", "/slow?ms=200"], maxDurationMs: 120_000 });
      await new Promise((r) => setTimeout(r, 500));
      const id = await deploy(versions[run]!);
      await finish(id);
      await new Promise((r) => setTimeout(r, 500));
      const deployLoad = await load.stop();
      const a = await analyse(id);

      const load2 = startOpenLoad({ url: haproxy.url, ratePerSecond: RATE, paths: ["/version", "/version", "/slow?ms=200"], maxDurationMs: 120_000 });
      await new Promise((r) => setTimeout(r, 500));
      const rid = await revert();
      await finish(rid);
      await new Promise((r) => setTimeout(r, 500));
      const revertLoad = await load2.stop();
      const r = await analyse(rid);

      // Baseline: the same node sequence by a plain script, back to the release the revert left.
      const load3 = startOpenLoad({ url: haproxy.url, ratePerSecond: RATE, paths: ["/version", "/version", "/slow?ms=200"], maxDurationMs: 120_000 });
      const t0 = performance.now();
      for (const [i, agent] of fleet.agents.entries()) {
        const store = new ReleaseStore(agent.dir);
        const staged = await store.listStaged();
        const target = staged.find((s) => s.version === versions[run]!)!;
        const b = { address: haproxy.adminAddress, backend: haproxy.backend, server: `web-${i + 1}` };
        await drainServer({ ...b, drainTimeoutSeconds: 10 });
        await runHook({ name: "stop", command: "if [ -f current/ctl.sh ]; then sh current/ctl.sh stop; fi", cwd: agent.dir, env: { PORT: String(agent.port) }, timeoutSeconds: 10 });
        await store.activateRelease(target.name);
        await runHook({ name: "start", command: "sh current/ctl.sh start", cwd: agent.dir, env: { PORT: String(agent.port) }, timeoutSeconds: 10 });
        await checkHealth({ url: `http://127.0.0.1:${agent.port}/health`, expectVersion: target.version, timeoutSeconds: 10, intervalMs: 100 });
        await readyServer({ ...b, upTimeoutSeconds: 10 });
      }
      const baseline = performance.now() - t0;
      const baseLoad = await load3.stop();
      // Put the environment's record straight again: the script changed the nodes behind the control plane's back.
      await finish(await deploy(versions[run]!));

      results.push({ deploy: a.totalMs, deployFailed: deployLoad.failed, sent: deployLoad.sent, overhead: a.overheadMs, revert: r.totalMs, revertFailed: revertLoad.failed, baseline });
      row(
        `run ${run}`,
        `deploy ${fmt(a.totalMs / 1000)} s, ${deployLoad.failed} failed of ${deployLoad.sent}; overhead/node ${a.overheadMs.map((x) => fmt(x, 0)).join(", ")} ms; revert ${fmt(r.totalMs / 1000)} s, ${revertLoad.failed} failed of ${revertLoad.sent}; baseline script ${fmt(baseline / 1000)} s (${baseLoad.failed} failed)`,
      );
    }
    console.log("");
    row("rolling deploy of 3 nodes, median", `${fmt(median(results.map((r) => r.deploy)) / 1000)} s`, "target <= 10 s (Ansible serial + HAProxy drain: about 30 s)");
    row("failed requests during deploys", `${results.reduce((a, r) => a + r.deployFailed, 0)} of ${results.reduce((a, r) => a + r.sent, 0)}`, "target 0");
    row("Releasegate's overhead per node, median", `${fmt(median(results.flatMap((r) => r.overhead)), 0)} ms (max ${fmt(Math.max(...results.flatMap((r) => r.overhead)), 0)} ms)`, "target <= 300 ms");
    row("revert of 3 nodes, median", `${fmt(median(results.map((r) => r.revert)) / 1000)} s`, "target <= 8 s (Ansible: about 25 s)");
    row("failed requests during reverts", `${results.reduce((a, r) => a + r.revertFailed, 0)}`, "target 0");
    row("baseline: the node sequence by a plain script, median", `${fmt(median(results.map((r) => r.baseline)) / 1000)} s`, "the floor for these nodes and checks");
    await client.end();
  } finally {
    await fleet?.stop().catch(() => undefined);
    await cp?.stop().catch(() => undefined);
    await server.stop();
    await fs.rm(work, { recursive: true, force: true });
  }
}

await main();
process.exit(0);
