// Dispatch latency (issue: agents and rollouts): how long after ops request a deployment do the agents concerned
// hold their job, with 1,000 agents connected to one control plane?
//
// The real control plane runs as its own process (bench/lib/control-plane.ts) on a scratch database. Seeded through
// the domain functions: 10 customers x 10 applications = 100 applications, each Production (gates relaxed, rolling,
// batch 1) with 10 servers = 1,000 servers, each with a simulated agent enrolled over HTTP (bench/lib/sim-agent.ts)
// that heartbeats every BENCH_HEARTBEAT_SECONDS (default 10, the server's interval) and long-polls
// POST /jobs/claim {waitSeconds: 25}; a job is a no-op (RUNNING, then SUCCEEDED at once).
// Once all 1,000 are long-polling: BENCH_RUNS (default 3) runs of BENCH_DEPLOYMENTS (default 50) deployments, one
// environment at a time, each waiting for its deployment to finish (10 STAGE jobs at once, then 10 ACTIVATE one
// after the other). Per deployment, t0 = just before requestDeployment (the domain function, in this process, as
// ops); each of the 10 agents records when its claim answer carrying the STAGE job arrived. The figure is
// from the request's commit: requestDeployment commits the request together with the engine's first move (the
// STAGE jobs) and returns right after that commit, so "commit -> job" is measured from its return (at most a few
// ms late when this process's event loop is busy, which makes the figure slightly optimistic; "request -> job",
// from before the call, is the upper bound and is reported beside it).
// Baseline in the same run: an immediate claim (waitSeconds 0, no work) by a probe agent, i.e. what one agent API
// request costs at all. Also: the server's CPU and RSS, step-to-step hand-off, whole-deployment time.
// Run: npm run bench -- dispatch      Prints figures; asserts nothing.
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fmt, median, percentile, row } from "./lib/stats";
import { type Sample, serverWarnings, seedProductionFleet, startControlPlane } from "./lib/control-plane";
import { createHttpClient, enrollAgents, SimAgent, SimStats } from "./lib/sim-agent";
import { AGENT_API_PATHS, type TJob, ZClaimResponseSchema } from "../lib/contracts/agent-api";
import { startTestServer } from "../scripts/lib/test-database";

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const DEPLOYMENTS = Number(process.env.BENCH_DEPLOYMENTS ?? 50);
const APPLICATIONS = Number(process.env.BENCH_APPLICATIONS ?? 100);
const TARGETS = Number(process.env.BENCH_TARGETS_PER_APP ?? 10);
const HEARTBEAT_SECONDS = Number(process.env.BENCH_HEARTBEAT_SECONDS ?? 10);
const BASELINE_REQUESTS = 100;
const DB_NAME = "releasegate_test_bench_dispatch";

const ms = (n: number) => `${fmt(n, 1)} ms`;
const dist = (s: number[]) => `p50 ${fmt(percentile(s, 50))}  p90 ${fmt(percentile(s, 90))}  p99 ${fmt(percentile(s, 99))}  max ${fmt(Math.max(...s))}`;
const cpuOf = (s: Sample[]) => ({
  mean: s.reduce((a, x) => a + x.cores, 0) / Math.max(1, s.length),
  p95: percentile(s.map((x) => x.cores), 95),
  rssMax: Math.max(...s.map((x) => x.rss)),
  rssMainMax: Math.max(...s.map((x) => x.rssMain)),
  pg: s.reduce((a, x) => a + x.pgCores, 0) / Math.max(1, s.length),
  bench: s.reduce((a, x) => a + x.benchCores, 0) / Math.max(1, s.length),
  machine: s.reduce((a, x) => a + x.machineCores, 0) / Math.max(1, s.length),
});

async function main(): Promise<void> {
  const testServer = await startTestServer();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "releasegate-bench-"));
  let controlPlane: Awaited<ReturnType<typeof startControlPlane>> | null = null;
  let client: ReturnType<typeof createHttpClient> | null = null;
  const agents: SimAgent[] = [];
  let ok = false;
  try {
    console.log(`\ndispatch benchmark: ${APPLICATIONS} applications x ${TARGETS} production servers = ${APPLICATIONS * TARGETS} agents, ${RUNS} runs of ${DEPLOYMENTS} deployments, ${os.cpus().length} cores, node ${process.version}, ${testServer.description}`);
    const url = await testServer.createDatabase(DB_NAME);
    controlPlane = await startControlPlane({ databaseUrl: url });
    process.env.DATABASE_URL = url;
    process.env.DATA_DIR = dataDir;
    process.env.LOG_LEVEL = "silent";
    const { db } = await import("../lib/db/client");
    const { requestDeployment } = await import("../lib/deployments/request-deployment");

    let t = performance.now();
    const seeded = await seedProductionFleet({ customers: 10, applications: APPLICATIONS, targetsPerApplication: TARGETS, onProgress: (m) => console.log(`  [bench] seeding: ${m}`) });
    row("seeded through the domain in", `${fmt((performance.now() - t) / 1000)} s`);

    client = createHttpClient(controlPlane.url);
    t = performance.now();
    const nodes = seeded.apps.flatMap((a, i) => a.targets.map((x) => ({ token: x.token, hostname: `app${i + 1}-${x.name}` })));
    const enrolled = await enrollAgents(client, nodes, 8, (n) => console.log(`  [bench] enrolled ${n}`));
    const [probe] = await enrollAgents(client, [{ token: seeded.probe.token, hostname: "probe-1" }]);
    row("enrolled over HTTP in", `${fmt((performance.now() - t) / 1000)} s`, `${enrolled.length + 1} agents`);

    // One release row per deployment, as the upload flow leaves it (uploading 150 artifacts is not what is measured).
    const plan = Array.from({ length: RUNS * DEPLOYMENTS }, (_, k) => seeded.apps[k % seeded.apps.length]!);
    const releases: string[] = [];
    for (const [k, app] of plan.entries()) {
      const version = `1.${k}.0`;
      const r = await db.release.create({
        data: {
          applicationId: app.applicationId, uploadedById: seeded.admin.id, version, status: "CANDIDATE", artifactSha256: randomBytes(32).toString("hex"),
          artifactSize: 1024n, artifactFileName: `app-${version}.tar.gz`, artifactStorageKey: `artifacts/${randomUUID()}`,
        },
      });
      releases.push(r.id);
    }

    // ── the fleet
    const stats = new SimStats();
    let current: { deploymentId: string | null; stage: { targetId: string; deploymentId: string; at: number }[]; handoffs: number[]; lastDoneAt: number; done: () => void } | null = null;
    const onJob = (_agent: SimAgent, job: TJob, at: number) => {
      if (!current) return;
      if (job.action === "STAGE") current.stage.push({ targetId: job.target.id, deploymentId: job.deployment.id, at });
      else if (current.deploymentId === job.deployment.id) current.handoffs.push(at - current.lastDoneAt);
    };
    const onSucceededSent = (_agent: SimAgent, _job: TJob, sentAt: number) => {
      if (current) current.lastDoneAt = Math.max(current.lastDoneAt, sentAt);
    };
    // Activations per deployment id: a late event of an earlier (stalled) deployment never ends the current one.
    const activatedBy = new Map<string, number>();
    const onJobDone = (_agent: SimAgent, job: TJob) => {
      if (job.action !== "ACTIVATE") return;
      activatedBy.set(job.deployment.id, (activatedBy.get(job.deployment.id) ?? 0) + 1);
      if (current?.deploymentId === job.deployment.id && activatedBy.get(job.deployment.id) === TARGETS) current.done();
    };
    for (const [i, e] of enrolled.entries()) {
      agents.push(
        new SimAgent({
          client, stats, secret: e.agentSecret, targetId: e.targetId, hostname: nodes[i]!.hostname, heartbeatSeconds: HEARTBEAT_SECONDS,
          firstHeartbeatWithinMs: 2_000, claimWaitSeconds: 25, firstClaimWaitSeconds: 5 + Math.floor(Math.random() * 21), onJob, onSucceededSent, onJobDone,
        }),
      );
    }
    t = performance.now();
    for (const a of agents) a.start();
    while (!agents.every((a) => a.polling && a.heartbeatsOk > 0)) {
      if (performance.now() - t > 120_000) throw new Error("the agents did not all connect within 2 minutes");
      await new Promise((r) => setTimeout(r, 100));
    }
    row("all agents heartbeating and long-polling after", `${fmt((performance.now() - t) / 1000)} s`, `${client.sockets()} sockets`);
    await new Promise((r) => setTimeout(r, 3_000)); // let the server settle into waiting

    // ── runs
    const results: { p50: number; p90: number; p99: number; max: number; c50: number; c90: number; c99: number; base50: number; base99: number; ret50: number; hand50: number; hand99: number; deploy50: number; cpu: ReturnType<typeof cpuOf> }[] = [];
    let k = 0;
    let reoffered = 0;
    const stalled: string[] = [];
    const errorsBeforeRuns = stats.snapshot().errors;
    const monoFrom = process.hrtime.bigint() / 1000n; // the clock of V8's CPU profiles (BENCH_CPU_PROF=1), in µs
    for (let run = 0; run < RUNS; run++) {
      const runStart = performance.now();
      const baseline: number[] = [];
      for (let i = 0; i < BASELINE_REQUESTS; i++) {
        const b = performance.now();
        const r = await client.post(AGENT_API_PATHS.claim, { waitSeconds: 0 }, ZClaimResponseSchema, { secret: probe!.agentSecret, timeoutMs: 10_000 });
        if (r.error || r.data?.job) throw new Error(`baseline claim: ${r.status} ${r.error?.code}`);
        baseline.push(performance.now() - b);
      }
      const dispatch: number[] = [];
      const fromCommit: number[] = [];
      const returned: number[] = [];
      const handoffs: number[] = [];
      const durations: number[] = [];
      const deployStart = performance.now();
      for (let d = 0; d < DEPLOYMENTS; d++, k++) {
        const app = plan[k]!;
        let done!: () => void;
        const finished = new Promise<void>((r) => (done = r));
        current = { deploymentId: null, stage: [], handoffs: [], lastDoneAt: 0, done };
        const t0 = performance.now();
        const { deployment } = await requestDeployment(seeded.ops, { environmentId: app.environmentId, releaseId: releases[k]! });
        const committed = performance.now();
        returned.push(committed - t0);
        current.deploymentId = deployment.id;
        if (activatedBy.get(deployment.id) === TARGETS) done();
        const timeout = setTimeout(() => done(), 60_000);
        await finished;
        clearTimeout(timeout);
        const end = performance.now();
        const c = current;
        current = null;
        const status = (await db.deployment.findUniqueOrThrow({ where: { id: deployment.id }, select: { status: true } })).status;
        // A STAGE job handed out again (its acknowledgement came later than ACK_SECONDS, so the sweep re-offered it)
        // counts once, at its first arrival; the re-offers are counted apart.
        const first = new Map<string, number>();
        for (const s of c.stage) if (s.deploymentId === deployment.id && !first.has(s.targetId)) first.set(s.targetId, s.at);
        reoffered += c.stage.length - first.size;
        const activated = activatedBy.get(deployment.id) ?? 0;
        if (status !== "SUCCEEDED" || activated !== TARGETS || first.size !== TARGETS) {
          // Not finished within 60 s (the server lost a report after the agent's retries): counted, left out of the figures.
          stalled.push(`run ${run + 1} #${d + 1}: ${status}, ${first.size}/${TARGETS} STAGE jobs, ${activated}/${TARGETS} activations`);
          continue;
        }
        dispatch.push(...[...first.values()].map((at) => at - t0));
        fromCommit.push(...[...first.values()].map((at) => Math.max(0, at - committed)));
        handoffs.push(...c.handoffs);
        durations.push(end - t0);
      }
      const runEnd = performance.now();
      const cpu = cpuOf(controlPlane.sampler.between(deployStart, runEnd));
      results.push({
        p50: percentile(dispatch, 50), p90: percentile(dispatch, 90), p99: percentile(dispatch, 99), max: Math.max(...dispatch),
        c50: percentile(fromCommit, 50), c90: percentile(fromCommit, 90), c99: percentile(fromCommit, 99),
        base50: percentile(baseline, 50), base99: percentile(baseline, 99), ret50: median(returned),
        hand50: percentile(handoffs, 50), hand99: percentile(handoffs, 99), deploy50: median(durations), cpu,
      });
      console.log(`\nrun ${run + 1}: ${DEPLOYMENTS} deployments x ${TARGETS} STAGE jobs in ${fmt((runEnd - runStart) / 1000)} s`);
      row("baseline: immediate claim, no work (ms)", `p50 ${fmt(percentile(baseline, 50))}  p99 ${fmt(percentile(baseline, 99))}`);
      row("dispatch: commit -> STAGE job at the agent (ms)", dist(fromCommit));
      row("dispatch: request -> STAGE job at the agent (ms)", dist(dispatch));
      row("  requestDeployment (request + first move, committed) (ms)", dist(returned));
      row("step hand-off: SUCCEEDED sent -> next job (ms)", dist(handoffs), `${handoffs.length} hand-offs`);
      row("whole deployment, 10 STAGE + 10 ACTIVATE (ms)", `p50 ${fmt(median(durations), 0)}  max ${fmt(Math.max(...durations), 0)}`);
      row("server CPU (cores), mean / p95 of 1-s samples", `${fmt(cpu.mean, 2)} / ${fmt(cpu.p95, 2)}`, `PostgreSQL backends ${fmt(cpu.pg, 2)}, bench process ${fmt(cpu.bench, 2)}, whole machine ${fmt(cpu.machine, 2)}`);
      row("server RSS max (process tree / node server alone)", `${fmt(cpu.rssMax / 1e6, 0)} / ${fmt(cpu.rssMainMax / 1e6, 0)} MB`);
    }

    const m = (f: (r: (typeof results)[number]) => number) => median(results.map(f));
    console.log(`\nmedian of ${RUNS} runs`);
    row("baseline: immediate claim p50 / p99", `${ms(m((r) => r.base50))} / ${ms(m((r) => r.base99))}`);
    row("dispatch from the commit p50 (target <= 50 ms)", ms(m((r) => r.c50)));
    row("dispatch from the commit p90", ms(m((r) => r.c90)));
    row("dispatch from the commit p99 (target <= 250 ms)", ms(m((r) => r.c99)));
    row("dispatch from before the request p50 / p90 / p99", `${ms(m((r) => r.p50))} / ${ms(m((r) => r.p90))} / ${ms(m((r) => r.p99))}`);
    row("dispatch from before the request max", ms(m((r) => r.max)));
    row("requestDeployment returned, p50", ms(m((r) => r.ret50)));
    row("step hand-off p50 / p99", `${ms(m((r) => r.hand50))} / ${ms(m((r) => r.hand99))}`);
    row("whole deployment p50", ms(m((r) => r.deploy50)));
    row("server CPU mean / p95 (cores)", `${fmt(m((r) => r.cpu.mean), 2)} / ${fmt(m((r) => r.cpu.p95), 2)}`, `PostgreSQL ${fmt(m((r) => r.cpu.pg), 2)}, whole machine ${fmt(m((r) => r.cpu.machine), 2)}`);
    row("server RSS max (tree / node server alone)", `${fmt(m((r) => r.cpu.rssMax) / 1e6, 0)} / ${fmt(m((r) => r.cpu.rssMainMax) / 1e6, 0)} MB`);
    const kinds = (m: Map<string, number>) => [...m.entries()].map(([kind, n]) => `${kind} ${n}`).join(", ");
    const during = new Map([...stats.errors].map(([k, n]) => [k, n - (errorsBeforeRuns.get(k) ?? 0)] as const).filter(([, n]) => n > 0));
    const count = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
    row("errors while the agents connected", String(count(errorsBeforeRuns)), kinds(errorsBeforeRuns));
    row("errors during the runs", String(count(during)), kinds(during) + (stats.leaseLost ? `; 409 LEASE_LOST ${stats.leaseLost}` : ""));
    row("STAGE jobs handed out again (late acknowledgement)", String(reoffered));
    row("deployments not finished within 60 s (left out)", String(stalled.length), stalled.slice(0, 3).join("; "));
    const warnings = await serverWarnings(controlPlane.logFile);
    row("server warnings/errors logged", String(warnings.length), warnings[0]?.slice(0, 160) ?? "");
    console.log(`RESULT ${JSON.stringify({ bench: "dispatch", results, errorsConnecting: Object.fromEntries(errorsBeforeRuns), errorsDuring: Object.fromEntries(during), reoffered, stalled, profileWindowUs: [String(monoFrom), String(process.hrtime.bigint() / 1000n)] })}`);
    await db.$disconnect();
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
