// Fleet capacity (issue: agents and rollouts): what does one control-plane process spend to keep 2,000 agents
// connected, heartbeating every 15 s and long-polling for work?
//
// The real control plane runs as its own process (bench/lib/control-plane.ts) on a scratch database. Seeded through
// the domain functions: 20 customers x 10 applications = 200 applications, each Production with 10 servers =
// 2,000 servers, each with a simulated agent enrolled over HTTP (bench/lib/sim-agent.ts). Baseline: the idle server
// for BENCH_IDLE_SECONDS (default 20) before any agent connects. Then the agents start over BENCH_RAMP_SECONDS
// (default 15: first heartbeats spread over it, as a fleet's are in steady state; every agent long-polls at once,
// its first wait drawn in 5..25 s so the fleet does not poll in lockstep), and once every agent has heartbeated and
// holds a long-poll, the server is measured for BENCH_FLEET_SECONDS (default 120): CPU (1-s samples of its process
// tree), RSS, errors by kind, heartbeat latency, claim cycles (long-polls that ran out without work).
// No deployments run: this is the standing cost of a connected fleet.
// Run: npm run bench -- fleet      Prints figures; asserts nothing.
import { execFileSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fmt, percentile, row } from "./lib/stats";
import { type Sample, serverWarnings, seedProductionFleet, startControlPlane } from "./lib/control-plane";
import { createHttpClient, enrollAgents, SimAgent, SimStats } from "./lib/sim-agent";
import { AGENT_API_PATHS, ZClaimResponseSchema, ZHeartbeatResponseSchema } from "../lib/contracts/agent-api";
import { startTestServer } from "../scripts/lib/test-database";

const APPLICATIONS = Number(process.env.BENCH_APPLICATIONS ?? 200);
const TARGETS = Number(process.env.BENCH_TARGETS_PER_APP ?? 10);
const HEARTBEAT_SECONDS = Number(process.env.BENCH_HEARTBEAT_SECONDS ?? 15);
const CLAIM_WAIT_SECONDS = 25;
const IDLE_SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? 20);
const RAMP_SECONDS = Number(process.env.BENCH_RAMP_SECONDS ?? 15);
const FLEET_SECONDS = Number(process.env.BENCH_FLEET_SECONDS ?? 120);
const DB_NAME = "releasegate_test_bench_fleet";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function summary(s: Sample[]) {
  const cores = s.map((x) => x.cores);
  return {
    mean: cores.reduce((a, b) => a + b, 0) / Math.max(1, cores.length),
    p95: percentile(cores, 95),
    rssMax: Math.max(...s.map((x) => x.rss)),
    rssEnd: s.at(-1)?.rss ?? NaN,
    rssMainEnd: s.at(-1)?.rssMain ?? NaN,
    pg: s.reduce((a, x) => a + x.pgCores, 0) / Math.max(1, s.length),
    bench: s.reduce((a, x) => a + x.benchCores, 0) / Math.max(1, s.length),
    machine: s.reduce((a, x) => a + x.machineCores, 0) / Math.max(1, s.length),
  };
}

function fdLimit(): string {
  try {
    const soft = execFileSync("sh", ["-c", "ulimit -Sn"], { encoding: "utf8" }).trim();
    const hard = execFileSync("sh", ["-c", "ulimit -Hn"], { encoding: "utf8" }).trim();
    return `${soft} soft / ${hard} hard`;
  } catch {
    return "unknown";
  }
}

async function main(): Promise<void> {
  const agentsWanted = APPLICATIONS * TARGETS;
  // Each agent holds up to two sockets (long-poll + heartbeat) on each side; the server adds its database pool.
  const fds = fdLimit();
  const soft = Number(fds.split(" ")[0]);
  if (Number.isFinite(soft) && soft < 2 * agentsWanted + 200) {
    console.error(`file-descriptor limit ${fds} is too low for ${agentsWanted} agents (needs about ${2 * agentsWanted + 200} per process): raise it with \`ulimit -n\` first`);
    process.exit(2);
  }
  const testServer = await startTestServer();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "releasegate-bench-"));
  let controlPlane: Awaited<ReturnType<typeof startControlPlane>> | null = null;
  let client: ReturnType<typeof createHttpClient> | null = null;
  const agents: SimAgent[] = [];
  let ok = false;
  try {
    console.log(
      `\nfleet benchmark: ${APPLICATIONS} applications x ${TARGETS} servers = ${agentsWanted} agents, heartbeat every ${HEARTBEAT_SECONDS} s, long-poll ${CLAIM_WAIT_SECONDS} s, ` +
        `${FLEET_SECONDS} s measured; ${os.cpus().length} cores, node ${process.version}, fd limit ${fds}, ${testServer.description}`,
    );
    const url = await testServer.createDatabase(DB_NAME);
    controlPlane = await startControlPlane({ databaseUrl: url });
    process.env.DATABASE_URL = url;
    process.env.DATA_DIR = dataDir;
    process.env.LOG_LEVEL = "silent";
    const { db } = await import("../lib/db/client");

    let t = performance.now();
    const seeded = await seedProductionFleet({ customers: 20, applications: APPLICATIONS, targetsPerApplication: TARGETS, onProgress: (m) => console.log(`  [bench] seeding: ${m}`) });
    row("seeded through the domain in", `${fmt((performance.now() - t) / 1000)} s`);
    client = createHttpClient(controlPlane.url);
    t = performance.now();
    const nodes = seeded.apps.flatMap((a, i) => a.targets.map((x) => ({ token: x.token, hostname: `app${i + 1}-${x.name}` })));
    const enrolled = await enrollAgents(client, nodes, 8, (n) => console.log(`  [bench] enrolled ${n}`));
    row("enrolled over HTTP in", `${fmt((performance.now() - t) / 1000)} s`, `${enrolled.length} agents`);
    await db.$disconnect(); // this process stays off the database from here on

    // ── what one request costs the server, measured alone (sequential requests from one agent, idle server)
    await sleep(3_000); // let enrollment's tail settle
    const one = enrolled[0]!;
    const costs: { label: string; cpuMs: number; p50: number }[] = [];
    const cost = async (label: string, call: () => Promise<unknown>) => {
      for (let i = 0; i < 20; i++) await call(); // warm-up
      const n = 300;
      const lat: number[] = [];
      const cpu0 = controlPlane!.sampler.cpuSeconds();
      for (let i = 0; i < n; i++) {
        const t0 = performance.now();
        await call();
        lat.push(performance.now() - t0);
      }
      costs.push({ label, cpuMs: ((controlPlane!.sampler.cpuSeconds() - cpu0) * 1000) / n, p50: percentile(lat, 50) });
    };
    const hb = { agentVersion: "bench", hostname: "cost-probe", liveReleaseId: null, stagedReleaseIds: [] };
    await cost("refused before the database (no bearer: 401)", () => client!.post(AGENT_API_PATHS.heartbeat, hb, ZHeartbeatResponseSchema, { timeoutMs: 10_000 }));
    await cost("heartbeat", () => client!.post(AGENT_API_PATHS.heartbeat, hb, ZHeartbeatResponseSchema, { secret: one.agentSecret, timeoutMs: 10_000 }));
    await cost("claim, waitSeconds 0, no work", () => client!.post(AGENT_API_PATHS.claim, { waitSeconds: 0 }, ZClaimResponseSchema, { secret: one.agentSecret, timeoutMs: 10_000 }));
    {
      // A claim cycle with nothing to do: a long-poll that waits 1 s and runs out (50 agents at a time, 300 in all).
      const cpu0 = controlPlane.sampler.cpuSeconds();
      const lat: number[] = [];
      for (let b = 0; b < 6; b++) {
        await Promise.all(
          enrolled.slice(1 + b * 50, 1 + (b + 1) * 50).map(async (e) => {
            const t0 = performance.now();
            await client!.post(AGENT_API_PATHS.claim, { waitSeconds: 1 }, ZClaimResponseSchema, { secret: e.agentSecret, timeoutMs: 20_000 });
            lat.push(performance.now() - t0);
          }),
        );
      }
      costs.push({ label: "claim cycle: long-poll of 1 s that runs out", cpuMs: ((controlPlane.sampler.cpuSeconds() - cpu0) * 1000) / 300, p50: percentile(lat, 50) });
    }
    await sleep(2_000);

    // ── baseline: the idle server
    const idleFrom = performance.now();
    await sleep(IDLE_SECONDS * 1000);
    const idle = summary(controlPlane.sampler.between(idleFrom, performance.now()));

    // ── connect the fleet
    const stats = new SimStats();
    for (const [i, e] of enrolled.entries()) {
      agents.push(
        new SimAgent({
          client, stats, secret: e.agentSecret, targetId: e.targetId, hostname: nodes[i]!.hostname, heartbeatSeconds: HEARTBEAT_SECONDS,
          firstHeartbeatWithinMs: RAMP_SECONDS * 1000, claimWaitSeconds: CLAIM_WAIT_SECONDS, firstClaimWaitSeconds: 5 + Math.floor(Math.random() * 21),
        }),
      );
    }
    const rampFrom = performance.now();
    for (const a of agents) a.start();
    while (!agents.every((a) => a.polling && a.heartbeatsOk > 0)) {
      if (performance.now() - rampFrom > 180_000) throw new Error(`only ${agents.filter((a) => a.heartbeatsOk > 0).length} agents connected within 3 minutes; errors: ${[...stats.errors].map(([k, n]) => `${k} ${n}`).join(", ")}`);
      await sleep(100);
    }
    const rampSeconds = (performance.now() - rampFrom) / 1000;
    const ramp = summary(controlPlane.sampler.between(rampFrom, performance.now()));
    const rampErrors = stats.snapshot();

    // ── the measured window
    const before = stats.snapshot();
    stats.record = true;
    const from = performance.now();
    const monoFrom = process.hrtime.bigint() / 1000n; // the clock of V8's CPU profiles (BENCH_CPU_PROF=1), in µs
    const sockets: number[] = [];
    while (performance.now() - from < FLEET_SECONDS * 1000) {
      await sleep(1_000);
      sockets.push(client.sockets());
    }
    stats.record = false;
    const to = performance.now();
    const monoTo = process.hrtime.bigint() / 1000n;
    const after = stats.snapshot();
    const win = summary(controlPlane.sampler.between(from, to));
    if (process.env.BENCH_HEAP_SNAPSHOT === "1") {
      // Diagnostics: needs BENCH_SERVER_NODE_ARGS=--heapsnapshot-signal=SIGUSR2; the snapshot lands in the tree.
      process.kill(controlPlane.pid, "SIGUSR2");
      console.log(`  [bench] heap snapshot requested (pid ${controlPlane.pid}, written into ${controlPlane.tree})`);
      await sleep(90_000);
    }
    const seconds = (to - from) / 1000;
    const errors = new Map<string, number>();
    for (const [k, n] of after.errors) if (n - (before.errors.get(k) ?? 0) > 0) errors.set(k, n - (before.errors.get(k) ?? 0));
    const errorCount = [...errors.values()].reduce((a, b) => a + b, 0);
    const kinds = (m: Map<string, number>) => [...m.entries()].map(([k, n]) => `${k} ${n}`).join(", ");

    console.log("\nserver CPU per request, one at a time on the idle server (300 each)");
    for (const c of costs) row(c.label, `${fmt(c.cpuMs, 2)} ms CPU`, `latency p50 ${fmt(c.p50, 1)} ms`);
    console.log(`\nbaseline: idle server, no agent connected (${IDLE_SECONDS} s)`);
    row("CPU (cores), mean / p95 of 1-s samples", `${fmt(idle.mean, 3)} / ${fmt(idle.p95, 3)}`, `PostgreSQL backends ${fmt(idle.pg, 3)}; whole machine ${fmt(idle.machine, 2)}`);
    row("RSS (process tree / node server alone)", `${fmt(idle.rssEnd / 1e6, 0)} / ${fmt(idle.rssMainEnd / 1e6, 0)} MB`);
    console.log(`\nconnecting ${agentsWanted} agents (first heartbeats over ${RAMP_SECONDS} s, every agent long-polls at once)`);
    row("all heartbeating and long-polling after", `${fmt(rampSeconds)} s`);
    row("CPU mean / p95 (cores) while connecting", `${fmt(ramp.mean, 2)} / ${fmt(ramp.p95, 2)}`, `PostgreSQL ${fmt(ramp.pg, 2)}`);
    row("errors while connecting", String([...rampErrors.errors.values()].reduce((a, b) => a + b, 0)), kinds(rampErrors.errors));
    console.log(`\n${agentsWanted} agents connected, ${fmt(seconds, 0)} s measured`);
    row("server CPU (cores), mean (target < 0.5)", fmt(win.mean, 3), `p95 ${fmt(win.p95, 3)}`);
    row("PostgreSQL backends CPU (cores), mean", fmt(win.pg, 3), `bench process (2,000 agents) ${fmt(win.bench, 3)}`);
    row("whole machine busy (cores of 2), mean", fmt(win.machine, 2), `everything else: ${fmt(win.machine - win.mean - win.pg - win.bench, 2)}; load average ${os.loadavg().map((l) => fmt(l, 1)).join(" ")}`);
    row("server RSS max / at end (target <= 400 MB)", `${fmt(win.rssMax / 1e6, 0)} / ${fmt(win.rssEnd / 1e6, 0)} MB`, `node server alone at end ${fmt(win.rssMainEnd / 1e6, 0)} MB`);
    row("errors (target 0)", String(errorCount), kinds(errors));
    row("heartbeats (expected ~ agents x s / interval)", fmt(after.heartbeats - before.heartbeats, 0), `expected ${fmt((agentsWanted * seconds) / HEARTBEAT_SECONDS, 0)}`);
    row("heartbeat latency p50 / p99 / max (ms)", `${fmt(percentile(stats.heartbeatMs, 50))} / ${fmt(percentile(stats.heartbeatMs, 99))} / ${fmt(Math.max(...stats.heartbeatMs))}`);
    row("claim cycles completed (long-polls run out)", fmt(after.claimCycles - before.claimCycles, 0), `expected ~${fmt((agentsWanted * seconds) / CLAIM_WAIT_SECONDS, 0)}`);
    row("client sockets open (min / max)", `${Math.min(...sockets)} / ${Math.max(...sockets)}`);
    row("requests per second (heartbeats + claims)", fmt((after.heartbeats - before.heartbeats + after.claimCycles - before.claimCycles) / seconds, 0));
    const warnings = await serverWarnings(controlPlane.logFile);
    row("server warnings/errors logged", String(warnings.length), warnings[0]?.slice(0, 160) ?? "");
    console.log(
      `RESULT ${JSON.stringify({
        bench: "fleet", costs, idle, ramp: { seconds: rampSeconds, ...ramp, errors: Object.fromEntries(rampErrors.errors) }, window: { seconds, ...win },
        errors: Object.fromEntries(errors), heartbeats: after.heartbeats - before.heartbeats, hb50: percentile(stats.heartbeatMs, 50), hb99: percentile(stats.heartbeatMs, 99),
        claimCycles: after.claimCycles - before.claimCycles, profileWindowUs: [String(monoFrom), String(monoTo)],
      })}`,
    );
    ok = true;
  } finally {
    for (const a of agents) a.stop();
    client?.close();
    await controlPlane?.stop();
    if (controlPlane?.cpuProfileDir) console.log(`  [bench] server CPU profile in ${controlPlane.cpuProfileDir}`);
    if (controlPlane && !ok) console.log(`  [bench] server log kept: ${controlPlane.logFile}`);
    else if (controlPlane && !controlPlane.cpuProfileDir) await rm(controlPlane.dataDir, { recursive: true, force: true });
    await testServer.dropDatabase(DB_NAME).catch(() => undefined);
    await testServer.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
