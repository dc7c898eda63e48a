// A "node" of a test environment on this machine: a deploy directory run the way an agent's hooks run it.
//
//   DIR/app.env            PORT=<port>  (per-node settings; the hook commands are the same on every node)
//   DIR/releases/<version> unpacked releases
//   DIR/current            symlink to the active release
//   DIR/run/app.pid|.log   written by ctl.sh
//
// The start/stop hook commands (SAMPLE_APP_HOOKS) run with cwd = DIR, as the agent runs hooks.
import { spawn } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { writeSampleRelease } from "./sample-artifact";

/** The environment's hook commands for the sample app. They assume only that the working directory is DIR. */
export const SAMPLE_APP_HOOKS = {
  start: "sh current/ctl.sh start",
  // On a node's first install there is no current release, hence nothing to stop.
  stop: "if [ -f current/ctl.sh ]; then sh current/ctl.sh stop; fi",
} as const;

export interface ShellResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a shell command in `cwd` the way a hook runner would (sh -c, inherited env plus `env`), bounded. */
export async function runShell(command: string, options: { cwd: string; env?: Record<string, string>; timeoutMs?: number }): Promise<ShellResult> {
  return await new Promise((resolve, reject) => {
    const child = spawn("sh", ["-c", command], { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 60_000);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    // "close", not "exit": it fires once the pipes are closed too, which proves the started app did not keep them.
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Writes DIR/app.env and creates the directory skeleton. */
export async function prepareSampleNodeDir(dir: string, port: number): Promise<void> {
  await fs.mkdir(path.join(dir, "releases"), { recursive: true });
  await fs.mkdir(path.join(dir, "run"), { recursive: true });
  await fs.writeFile(path.join(dir, "app.env"), `PORT=${port}\n`);
}

/**
 * Unpacks the sample app as DIR/releases/<version> and points DIR/current at it (atomically: a new symlink renamed
 * over the old one). What the agent's stage + switch do, for tests that do not run the agent.
 */
export async function installSampleRelease(dir: string, version: string, options: { brokenHealth?: boolean } = {}): Promise<string> {
  const releaseDir = path.join(dir, "releases", version);
  await writeSampleRelease(releaseDir, version, options.brokenHealth ?? false);
  const tmpLink = path.join(dir, `.current-${process.pid}-${Date.now()}`);
  await fs.symlink(path.relative(dir, releaseDir), tmpLink);
  await fs.rename(tmpLink, path.join(dir, "current"));
  return releaseDir;
}

async function runHook(dir: string, which: keyof typeof SAMPLE_APP_HOOKS): Promise<ShellResult> {
  const result = await runShell(SAMPLE_APP_HOOKS[which], { cwd: dir });
  if (result.code !== 0) throw new Error(`${which} hook failed in ${dir} (exit ${result.code}):\n${result.stdout}${result.stderr}`);
  return result;
}

export interface SampleNode {
  dir: string;
  port: number;
  url: string;
  /** Runs the start hook (ctl.sh start). */
  start(): Promise<ShellResult>;
  /** Runs the stop hook (ctl.sh stop: graceful, waits for in-flight requests). */
  stop(): Promise<ShellResult>;
  /** Installs `version`, switches current, starts it (stop first if it runs). */
  deploy(version: string, options?: { brokenHealth?: boolean }): Promise<void>;
  /** The pid in DIR/run/app.pid, or null. */
  pid(): Promise<number | null>;
}

/** A node in `dir` listening on `port`; with `version`, that release is installed and started. */
export async function startSampleNode(options: { dir: string; port: number; version?: string; brokenHealth?: boolean }): Promise<SampleNode> {
  const { dir, port } = options;
  await prepareSampleNodeDir(dir, port);
  const node: SampleNode = {
    dir,
    port,
    url: `http://127.0.0.1:${port}`,
    start: () => runHook(dir, "start"),
    stop: () => runHook(dir, "stop"),
    deploy: async (version, deployOptions) => {
      await runHook(dir, "stop");
      await installSampleRelease(dir, version, deployOptions);
      await runHook(dir, "start");
    },
    pid: async () => {
      const text = await fs.readFile(path.join(dir, "run", "app.pid"), "utf8").catch(() => "");
      const pid = Number(text.trim());
      return Number.isInteger(pid) && pid > 0 ? pid : null;
    },
  };
  if (options.version) await node.deploy(options.version, { brokenHealth: options.brokenHealth });
  return node;
}
