// The real control plane as its own process, for the agent-facing benchmarks (dispatch, fleet): exactly what
// `npm start` runs (scripts/start.ts), against a scratch database, on loopback, with its CPU and memory sampled
// from /proc every second.
//
// It runs from a private copy of the checkout (BENCH_TREE_DIR, default $TMPDIR/releasegate-bench-tree): start.ts
// builds `.next` when it is stale, and building in the working checkout while other people run the app there
// breaks them. The copy is refreshed with rsync (mtimes kept, so an unchanged tree is not rebuilt) and gets the
// checkout's node_modules as hard links (instant; a symlinked node_modules breaks Turbopack).
// BENCH_TREE_SYNC=0 reuses the copy as it is (the same build for several invocations).
import { execFileSync, spawn } from "node:child_process";
import { createWriteStream, existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { SERVER_NODE_ARGS } from "../../scripts/lib/server-node-args";

const root = path.resolve(import.meta.dirname, "../..");
const say = (m: string) => console.log(`  [bench] ${m}`);

/** Copies the checkout to a private tree (see the header) and returns its path. */
export async function prepareTree(): Promise<string> {
  const tree = process.env.BENCH_TREE_DIR ?? path.join(os.tmpdir(), "releasegate-bench-tree");
  if (process.env.BENCH_TREE_SYNC === "0" && existsSync(path.join(tree, "scripts/start.ts"))) {
    say(`using the existing copy ${tree} as it is (BENCH_TREE_SYNC=0)`);
    return tree;
  }
  await mkdir(tree, { recursive: true });
  const t = performance.now();
  // Excluded paths are also protected from --delete: the copy keeps its own .next and node_modules.
  execFileSync("rsync", ["-a", "--delete", ...["/node_modules", "/.next", "/.data", "/.git", "/test-results", "/playwright-report", "/tsconfig.tsbuildinfo"].flatMap((p) => ["--exclude", p]), `${root}/`, `${tree}/`]);
  // Hard links of node_modules, refreshed when the checkout's installation changed.
  const stampOf = (dir: string) => {
    const lock = path.join(dir, "node_modules/.package-lock.json");
    return existsSync(lock) ? String(statSync(lock).mtimeMs) : "none";
  };
  const stampFile = path.join(tree, ".bench-node-modules-stamp");
  const wanted = stampOf(root);
  const have = existsSync(stampFile) ? (await readFile(stampFile, "utf8")).trim() : "";
  if (have !== wanted || !existsSync(path.join(tree, "node_modules"))) {
    await rm(path.join(tree, "node_modules"), { recursive: true, force: true });
    execFileSync("cp", ["-al", path.join(root, "node_modules"), path.join(tree, "node_modules")]);
    await writeFile(stampFile, `${wanted}\n`);
  }
  say(`private copy of the checkout in ${tree} (${((performance.now() - t) / 1000).toFixed(1)} s)`);
  return tree;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

// ── /proc sampling ────────────────────────────────────────────────────────────────────────────────────────────

const CLK_TCK = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

interface ProcStat {
  ppid: number;
  /** utime + stime + cutime + cstime, in seconds (reaped children count towards their parent). */
  cpu: number;
}

function readStat(pid: number): ProcStat | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name may contain spaces and parentheses: fields start after the last ')'.
    const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
    // f[0] = state (field 3), so field n is f[n - 3].
    const n = (field: number) => Number(f[field - 3]);
    return { ppid: n(4), cpu: (n(14) + n(15) + n(16) + n(17)) / CLK_TCK };
  } catch {
    return null;
  }
}

function readRss(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** The process and all its descendants (one scan of /proc). */
function processTree(rootPid: number): number[] {
  const children = new Map<number, number[]>();
  for (const e of readdirSync("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    const st = readStat(Number(e));
    if (!st) continue;
    const list = children.get(st.ppid);
    if (list) list.push(Number(e));
    else children.set(st.ppid, [Number(e)]);
  }
  const out: number[] = [];
  const todo = [rootPid];
  while (todo.length) {
    const pid = todo.pop()!;
    out.push(pid);
    todo.push(...(children.get(pid) ?? []));
  }
  return out;
}

export interface Sample {
  /** performance.now() of the sample. */
  at: number;
  /** CPU cores used by the server's process tree since the previous sample. */
  cores: number;
  /** RSS summed over the server's process tree, bytes. */
  rss: number;
  /** RSS of the server's main node process alone. */
  rssMain: number;
  /** CPU cores used by the PostgreSQL backends serving the scratch database since the previous sample. */
  pgCores: number;
  /** CPU cores used by this (benchmark) process since the previous sample. */
  benchCores: number;
  /** CPU cores busy on the whole machine (/proc/stat) since the previous sample: shows what else competed. */
  machineCores: number;
}

/** Busy CPU seconds of the whole machine since boot (all cores; idle and iowait excluded). */
function machineBusySeconds(): number {
  const f = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  return (total - f[3]! - f[4]!) / CLK_TCK;
}

/**
 * Samples the server's process tree every second: CPU from utime+stime of /proc/<pid>/stat, RSS from VmRSS of
 * /proc/<pid>/status, summed over the tree. Also the PostgreSQL backends of the scratch database (pids from
 * pg_stat_activity; they include this process's own few connections) and this process, for context.
 */
export class ResourceSampler {
  readonly samples: Sample[] = [];
  private timer: NodeJS.Timeout | null = null;
  private prevCpu = new Map<number, number>();
  private prevPg = new Map<number, number>();
  private prevAt = 0;
  private prevBench = process.cpuUsage();
  private prevMachine = machineBusySeconds();
  private pgPids: number[] = [];
  private pgClient: pg.Client | null = null;
  private ticking = false;

  constructor(
    private readonly pid: number,
    private readonly databaseUrl: string | null,
  ) {}

  async start(): Promise<void> {
    if (this.databaseUrl) {
      this.pgClient = new pg.Client({ connectionString: this.databaseUrl, application_name: "releasegate-bench-sampler" });
      await this.pgClient.connect();
    }
    await this.tick(true);
    this.timer = setInterval(() => {
      if (this.ticking) return; // a slow pg_stat_activity query: skip rather than overlap (the next delta covers it)
      this.ticking = true;
      void this.tick(false).finally(() => (this.ticking = false));
    }, 1000);
  }

  private async tick(first: boolean): Promise<void> {
    const at = performance.now();
    const pids = processTree(this.pid);
    let cpuDelta = 0;
    let rss = 0;
    const cpuNow = new Map<number, number>();
    for (const p of pids) {
      const st = readStat(p);
      if (!st) continue;
      cpuNow.set(p, st.cpu);
      cpuDelta += st.cpu - (this.prevCpu.get(p) ?? (first ? st.cpu : 0));
      rss += readRss(p);
    }
    this.prevCpu = cpuNow;
    if (this.pgClient) {
      try {
        const r = await this.pgClient.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`);
        this.pgPids = r.rows.map((x) => x.pid);
      } catch {
        /* keep the previous list */
      }
    }
    let pgDelta = 0;
    const pgNow = new Map<number, number>();
    for (const p of this.pgPids) {
      const st = readStat(p);
      if (!st) continue;
      pgNow.set(p, st.cpu);
      const prev = this.prevPg.get(p);
      pgDelta += prev === undefined ? 0 : st.cpu - prev;
    }
    this.prevPg = pgNow;
    const bench = process.cpuUsage(this.prevBench);
    this.prevBench = process.cpuUsage();
    const machine = machineBusySeconds();
    const machineDelta = machine - this.prevMachine;
    this.prevMachine = machine;
    if (!first) {
      const seconds = (at - this.prevAt) / 1000;
      this.samples.push({ at, cores: cpuDelta / seconds, rss, rssMain: readRss(this.pid), pgCores: pgDelta / seconds, benchCores: (bench.user + bench.system) / 1e6 / seconds, machineCores: machineDelta / seconds });
    }
    this.prevAt = at;
  }

  /** CPU seconds used so far by the server's process tree (for per-request costs: read before and after). */
  cpuSeconds(): number {
    return processTree(this.pid).reduce((sum, p) => sum + (readStat(p)?.cpu ?? 0), 0);
  }

  /** CPU seconds of each PostgreSQL backend serving the scratch database now (pid -> seconds), for pgCpuSince. */
  async pgCpuSnapshot(): Promise<Map<number, number>> {
    const out = new Map<number, number>();
    if (!this.pgClient) return out;
    const r = await this.pgClient.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`);
    for (const { pid } of r.rows) {
      const cpu = readStat(pid)?.cpu;
      if (cpu !== undefined) out.set(pid, cpu);
    }
    return out;
  }

  /**
   * CPU seconds the scratch database's backends used since `snapshot` (read before and after a stretch of requests):
   * those still connected, new ones from their start. A backend that exits in between (the pool closes idle
   * connections) takes its share with it, so this is a lower bound.
   */
  async pgCpuSince(snapshot: Map<number, number>): Promise<number> {
    let sum = 0;
    for (const [pid, cpu] of await this.pgCpuSnapshot()) sum += cpu - (snapshot.get(pid) ?? 0);
    return sum;
  }

  /** Samples taken between two performance.now() instants. */
  between(from: number, to: number): Sample[] {
    return this.samples.filter((s) => s.at > from && s.at <= to + 1);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.pgClient?.end().catch(() => undefined);
    this.pgClient = null;
  }
}

// ── the process ───────────────────────────────────────────────────────────────────────────────────────────────

export interface ControlPlane {
  url: string;
  port: number;
  pid: number;
  tree: string;
  dataDir: string;
  logFile: string;
  sampler: ResourceSampler;
  /** Directory of the server's V8 CPU profile (BENCH_CPU_PROF=1), written when it stops. */
  cpuProfileDir: string | null;
  stop(): Promise<void>;
}

/**
 * Starts `node <SERVER_NODE_ARGS> --import tsx scripts/start.ts` (what `npm start` runs) from the private tree against `databaseUrl` (a scratch database:
 * start.ts applies the migrations and creates the first administrator), waits until /signin
 * answers, and starts sampling its resources. BENCH_CPU_PROF=1 runs it under --cpu-prof (the profile is written
 * when it stops, into <data dir>/cpu-profile, which is then kept).
 */
export async function startControlPlane(options: { databaseUrl: string; startTimeoutMs?: number }): Promise<ControlPlane> {
  const tree = await prepareTree();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "releasegate-bench-data-"));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const logFile = path.join(dataDir, "server.log");
  const cpuProfileDir = process.env.BENCH_CPU_PROF === "1" ? path.join(dataDir, "cpu-profile") : null;
  // BENCH_SERVER_NODE_ARGS: extra flags for the server's node (diagnostics, e.g. --max-old-space-size=256).
  const nodeArgs = [...(cpuProfileDir ? ["--cpu-prof", "--cpu-prof-dir", cpuProfileDir] : []), ...(process.env.BENCH_SERVER_NODE_ARGS ?? "").split(" ").filter(Boolean)];
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: options.databaseUrl,
    DATA_DIR: dataDir,
    PORT: String(port),
    HOST: "127.0.0.1",
    LOG_LEVEL: "warn",
    NEXTAUTH_URL: url,
    NEXT_TELEMETRY_DISABLED: "1",
  };
  delete env.NODE_OPTIONS;
  const child = spawn(process.execPath, [...SERVER_NODE_ARGS, ...nodeArgs, "--import", "tsx", "scripts/start.ts"], { cwd: tree, env, stdio: ["ignore", "pipe", "pipe"] });
  const out = createWriteStream(logFile);
  let tail = "";
  const onData = (chunk: Buffer) => {
    out.write(chunk);
    const text = chunk.toString("utf8");
    tail = (tail + text).slice(-4000);
    for (const line of text.split("\n")) if (line.startsWith("[releasegate]") && !line.includes("password")) say(`server: ${line.slice(14)}`);
  };
  child.stdout.on("data", onData);
  child.stderr.on("data", onData);
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once("exit", () => ((exited = true), resolve())));

  const stop = async () => {
    if (!exited) {
      child.kill("SIGTERM");
      const killed = setTimeout(() => child.kill("SIGKILL"), 15_000);
      await exit;
      clearTimeout(killed);
    }
    out.end();
  };

  const deadline = Date.now() + (options.startTimeoutMs ?? 20 * 60_000);
  for (;;) {
    if (exited) throw new Error(`the control plane exited before it was ready; its output (${logFile}) ends with:\n${tail}`);
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the control plane was not ready in time; its output (${logFile}) ends with:\n${tail}`);
    }
    const ok = await fetch(`${url}/signin`).then(
      (r) => r.status < 500,
      () => false,
    );
    if (ok) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  const sampler = new ResourceSampler(child.pid!, options.databaseUrl);
  await sampler.start();
  say(`control plane ready at ${url} (pid ${child.pid}, data in ${dataDir})`);
  return {
    url,
    port,
    pid: child.pid!,
    tree,
    dataDir,
    logFile,
    sampler,
    cpuProfileDir,
    async stop() {
      await sampler.stop();
      await stop();
    },
  };
}

/** Lines of the server's log at warn level or above (pino JSON), for the report. */
export async function serverWarnings(logFile: string): Promise<string[]> {
  const text = await readFile(logFile, "utf8").catch(() => "");
  return text.split("\n").filter((l) => l.startsWith("{") && /"level":(40|50|60)/.test(l));
}

// ── seeding through the domain ────────────────────────────────────────────────────────────────────────────────

export interface SeededApplication {
  applicationId: string;
  /** Production, gates relaxed (no previous stage, acceptance or approvals needed). */
  environmentId: string;
  targets: { name: string; token: string }[];
}

/**
 * Seeds, in this process, through the domain functions (every step audited, as an administrator and ops would in
 * the UI): `customers` customers with `applications` applications in all, Production of each relaxed with
 * updateEnvironment as the administrator, one ops person granted OPS on every application, and
 * `targetsPerApplication` production servers per application (addTarget) with their one-time tokens, plus one
 * probe server in the first application's QA (for requests that must not disturb the measured agents).
 * The database must be the one the control plane serves (it created the first administrator). Call after
 * process.env.DATABASE_URL points at it: domain modules read the environment when first imported.
 */
export async function seedProductionFleet(o: { customers: number; applications: number; targetsPerApplication: number; onProgress?: (m: string) => void }) {
  const { randomUUID } = await import("node:crypto");
  const { db } = await import("../../lib/db/client");
  const { toUserActor } = await import("../../lib/auth/session");
  const { createCustomer } = await import("../../lib/customers/create-customer");
  const { createApplication } = await import("../../lib/applications/create-application");
  const { updateEnvironment } = await import("../../lib/environments/update-environment");
  const { createUser } = await import("../../lib/users/create-user");
  const { changeOwnPassword } = await import("../../lib/users/change-own-password");
  const { grantRole } = await import("../../lib/memberships/grant-role");
  const { addTarget } = await import("../../lib/targets/add-target");

  const ctx = () => ({ requestId: randomUUID().slice(0, 16), ip: null, userAgent: "releasegate bench seed" });
  const actorOf = async (userId: string) => toUserActor(await db.user.findUniqueOrThrow({ where: { id: userId }, include: { memberships: true } }), null, ctx());
  // The first-run administrator the control plane created when it started (server/lifecycle.ts).
  const adminRow = await db.user.findFirstOrThrow({ where: { isPlatformAdmin: true, status: "ACTIVE" }, orderBy: { createdAt: "asc" } });
  const admin = await actorOf(adminRow.id);
  const password = `bench-${randomUUID()}`;
  const { user: opsUser, oneTimePassword } = await createUser(admin, { name: "Bench Ops", email: "ops@bench.releasegate.local", customerId: null, isPlatformAdmin: false });
  await changeOwnPassword(await actorOf(opsUser.id), { currentPassword: oneTimePassword, newPassword: password, confirmPassword: password });

  const apps: SeededApplication[] = [];
  let probeEnvironmentId = "";
  const perCustomer = Math.ceil(o.applications / o.customers);
  for (let c = 0; c < o.customers && apps.length < o.applications; c++) {
    const customer = await createCustomer(admin, { name: `Bench customer ${c + 1}` });
    for (let a = 0; a < perCustomer && apps.length < o.applications; a++) {
      const app = await createApplication(admin, { customerId: customer.id, name: `Bench app ${c + 1}-${a + 1}`, description: "" });
      const envs = await db.environment.findMany({ where: { applicationId: app.id }, orderBy: { position: "asc" } });
      const prod = envs.find((e) => e.isProduction) ?? envs.at(-1)!;
      if (!probeEnvironmentId) probeEnvironmentId = envs[0]!.id;
      await updateEnvironment(admin, {
        environmentId: prod.id,
        name: prod.name,
        url: prod.url,
        isProduction: prod.isProduction,
        requiresPreviousSuccess: false,
        requiresAcceptance: false,
        requiredApprovals: 0,
        approverRoles: prod.approverRoles,
        deployerRoles: prod.deployerRoles,
        strategy: prod.strategy,
        batchSize: prod.batchSize,
      });
      await grantRole(admin, { applicationId: app.id, userId: opsUser.id, role: "OPS" });
      apps.push({ applicationId: app.id, environmentId: prod.id, targets: [] });
    }
    o.onProgress?.(`${apps.length} applications`);
  }
  const ops = await actorOf(opsUser.id);
  // Servers: a few at a time (each is an audited transaction; the audit chain serialises their commits anyway).
  const work = apps.flatMap((app) => Array.from({ length: o.targetsPerApplication }, (_, i) => ({ app, name: `web-${i + 1}` })));
  let next = 0;
  let done = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next < work.length) {
        const w = work[next++]!;
        const { enrollmentToken } = await addTarget(ops, { environmentId: w.app.environmentId, name: w.name });
        w.app.targets.push({ name: w.name, token: enrollmentToken });
        if (++done % 500 === 0) o.onProgress?.(`${done} servers added`);
      }
    }),
  );
  for (const app of apps) app.targets.sort((x, y) => x.name.localeCompare(y.name, "en", { numeric: true }));
  const probe = await addTarget(ops, { environmentId: probeEnvironmentId, name: "probe-1" });
  return { admin, ops, opsUserId: opsUser.id, apps, probe: { name: "probe-1", token: probe.enrollmentToken } };
}
