// The README's first command on a fresh machine: `npm start` with no DATABASE_URL. It starts an embedded
// PostgreSQL with its data under DATA_DIR, applies the migrations, prints a one-time administrator, and serves; the
// administrator signs in with what it printed; SIGTERM stops it cleanly, database included, with exit code 0, whether
// it reaches the whole process group (systemd's default, a terminal's Ctrl-C) or this process only (`kill`); started
// again on the same DATA_DIR it keeps everything.
import type { ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile, rm } from "node:fs/promises";
import path from "node:path";
import { choosePassword, expect, newPassword, submitSignIn, test } from "./fixtures";
import { freePort } from "../test/support/haproxy";
import { SERVER_NODE_ARGS } from "../scripts/lib/server-node-args";
import { exitWithin, reachableTempDir, type RunningCommand, runNode, runNpm } from "./support/processes";

let parent = "";
let running: ChildProcess | null = null;

/**
 * The control plane on `port` with its data in `dataDir`, started as `npm start` (in a process group of its own, as
 * from a terminal), or as package.json's start command run directly (`node …`, as a systemd unit's ExecStart could);
 * resolves once it says it is ready.
 */
async function npmStart(dataDir: string, port: number, how: "npm" | "node" = "npm"): Promise<RunningCommand> {
  const env = { DATABASE_URL: "", DATA_DIR: dataDir, PORT: String(port), HOST: "127.0.0.1", NEXTAUTH_URL: "", NEXTAUTH_SECRET: "", LOG_LEVEL: "warn" };
  const run = how === "npm" ? runNpm("start", env, { detached: true }) : runNode([...SERVER_NODE_ARGS, "--import", "tsx", "scripts/start.ts"], env);
  running = run.child;
  await expect.poll(run.output, { timeout: 120_000, message: "npm start says it is ready" }).toMatch(/\[releasegate\] ready: /);
  return run;
}

async function stopWithSigterm(run: RunningCommand, to: "group" | "process"): Promise<number | null | "still running"> {
  if (to === "group") process.kill(-run.child.pid!, "SIGTERM");
  else run.child.kill("SIGTERM");
  return exitWithin(run, 30_000);
}

/** What a clean stop leaves behind: no error logged by us, nothing PostgreSQL had to cut off or refuse. */
async function expectCleanStop(run: RunningCommand, pgDir: string): Promise<void> {
  const out = run.output();
  expect(out).toContain("[releasegate] SIGTERM: stopping");
  expect(out).toContain("[releasegate] PostgreSQL stopped");
  expect(out, "no error was logged").not.toMatch(/"level":(50|60)/);
  expect(out).not.toMatch(/terminating connection|the database system is shutting down|Connection terminated/);
  expect(existsSync(path.join(pgDir, "postmaster.pid")), "PostgreSQL shut down cleanly (its lock file is gone)").toBe(false);
  // PostgreSQL's own log: the pool was closed before it stopped, so it ended no session of ours and refused none.
  const pgLog = await readFile(path.join(pgDir, "server.log"), "utf8");
  expect(pgLog).toContain("database system is shut down");
  expect(pgLog).not.toMatch(/terminating connection due to administrator command|the database system is shutting down/);
}

test.afterAll(async () => {
  if (running && running.exitCode === null) running.kill("SIGKILL");
  if (parent) await rm(parent, { recursive: true, force: true, maxRetries: 3 });
});

test("npm start on a fresh machine: embedded PostgreSQL, a printed first administrator, a clean stop on SIGTERM, data kept across restarts", async ({ page }) => {
  test.setTimeout(240_000);
  parent = await reachableTempDir("releasegate-quick-start-");
  const dataDir = path.join(parent, "data");
  const port = await freePort();
  const url = `http://localhost:${port}`;

  const first = await npmStart(dataDir, port);
  const printed = first.output();
  expect(printed.indexOf("First run: an administrator account was created"), "the credentials are printed before it says it is ready").toBeLessThan(printed.indexOf("[releasegate] ready: "));
  expect(printed).toMatch(/\[releasegate\] PostgreSQL \(embedded, port \d+\): data in /);
  expect(printed).toMatch(/applied migration \d+_\w+/);
  expect(printed).toContain("First run: an administrator account was created");
  expect(printed).toContain(`sign in at  ${url}/signin`);
  const email = /│  email\s+(\S+)/.exec(printed)![1]!;
  const oneTime = /│  password\s+(\S+)/.exec(printed)![1]!;
  expect(existsSync(path.join(dataDir, "initial-admin.txt")), "the credentials are also kept in the data dir until used").toBe(true);

  // The printed credentials work, and the administrator must choose their own password first.
  await page.goto(`${url}/signin`);
  await submitSignIn(page, { email, password: oneTime });
  await expect(page).toHaveURL(/\/account\/password$/);
  const chosen = newPassword();
  await choosePassword(page, oneTime, chosen);
  await expect.poll(() => existsSync(path.join(dataDir, "initial-admin.txt")), { message: "the one-time credentials are removed once used" }).toBe(false);

  // SIGTERM to the whole process group (npm, the server; PostgreSQL runs in a session of its own): it stops serving,
  // stops its background work, closes its pool, then stops its PostgreSQL, and exits 0.
  expect(await stopWithSigterm(first, "group")).toBe(0);
  await expectCleanStop(first, path.join(dataDir, "postgres"));

  // Started again on the same data: no new administrator, the chosen password still signs in.
  const second = await npmStart(dataDir, port, "node");
  expect(second.output()).not.toContain("First run");
  expect(second.output()).not.toMatch(/applied migration/);
  await page.context().clearCookies();
  await page.goto(`${url}/signin`);
  await submitSignIn(page, { email, password: chosen });
  await expect(page).toHaveURL(`${url}/`);
  await expect(page.getByRole("heading", { level: 1 })).toContainText("Hello,");
  // SIGTERM to the server process alone: the same clean stop.
  expect(await stopWithSigterm(second, "process")).toBe(0);
  await expectCleanStop(second, path.join(dataDir, "postgres"));
});
