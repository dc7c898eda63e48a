// The project's own commands run as a user runs them (`npm start`, `npm run demo`), for the specs that test those
// commands themselves: a data directory they may use, their output, and their exit.
import { type ChildProcess, spawn } from "node:child_process";
import { chmod, mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "../..");

/**
 * A new temporary directory that the embedded PostgreSQL can use: when the suite runs as root, PostgreSQL runs as
 * the `postgres` user, which must be able to reach its data dir (mkdtemp makes a 0700 directory).
 */
export async function reachableTempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  await chmod(dir, 0o755);
  return dir;
}

export interface RunningCommand {
  child: ChildProcess;
  /** Everything it printed so far, stdout and stderr interleaved as they arrived. */
  output: () => string;
  /**
   * Its exit code, once it has exited and all it printed has been read: 'close', not 'exit', which may come before
   * the last output does.
   */
  closed: Promise<number | null>;
}

/**
 * `cmd args` from the project root, with `env` over the suite's environment. `detached`: in a process group of its
 * own, as a command started in a terminal is, so that Ctrl-C can be sent to the whole group.
 */
export function runCommand(cmd: string, args: string[], env: Record<string, string>, o: { detached?: boolean } = {}): RunningCommand {
  let out = "";
  const child = spawn(cmd, args, { cwd: root, detached: o.detached ?? false, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  const closed = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));
  return { child, output: () => out, closed };
}

/** `node <nodeArgs>` from the project root (see runCommand). */
export function runNode(nodeArgs: string[], env: Record<string, string>, o: { detached?: boolean } = {}): RunningCommand {
  return runCommand(process.execPath, nodeArgs, env, o);
}

/** `npm run <script>`, exactly as the README tells a user to type it (see runCommand). */
export function runNpm(script: string, env: Record<string, string>, o: { detached?: boolean } = {}): RunningCommand {
  return runCommand("npm", ["run", script], env, o);
}

/** Its exit code once it has exited and its output is read, or "still running" after `ms`. */
export function exitWithin(run: RunningCommand, ms: number): Promise<number | null | "still running"> {
  return Promise.race([run.closed, new Promise<"still running">((resolve) => setTimeout(() => resolve("still running"), ms))]);
}
