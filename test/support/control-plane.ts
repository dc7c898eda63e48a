// Control-plane instances as their own processes for the fault tests (see control-plane-main.ts for what runs in
// them). Several may share one database and one artifact directory, as a highly available installation does; each
// gets its own DATA_DIR, and the settings every instance must share (session secret, audit signing key) are shared.
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { freePort } from "./haproxy";

const root = path.resolve(import.meta.dirname, "../..");

export interface ControlPlaneSettings {
  databaseUrl: string;
  /** Shared by every instance (ARTIFACT_DIR). */
  artifactDir: string;
  /** Shared by every instance (AUDIT_SIGNING_KEY_PATH); the first instance creates it. */
  signingKeyPath: string;
  /** Shared by every instance (NEXTAUTH_SECRET). */
  secret: string;
  /** Where each instance's DATA_DIR and log file go. */
  workDir: string;
}

export interface ControlPlaneProcess {
  name: string;
  url: string;
  port: number;
  pid: number;
  logFile: string;
  running(): boolean;
  /** SIGKILL, as a crash or an OOM kill would; resolves once the process is gone. */
  kill(): Promise<void>;
  /** Starts the instance again on the same port and directories; resolves once it answers. */
  start(): Promise<void>;
  /** SIGTERM, then SIGKILL after 5 s. */
  stop(): Promise<void>;
}

export async function startControlPlaneProcess(name: string, settings: ControlPlaneSettings): Promise<ControlPlaneProcess> {
  const port = await freePort();
  const dataDir = path.join(settings.workDir, name);
  await fs.mkdir(dataDir, { recursive: true });
  const logFile = path.join(settings.workDir, `${name}.log`);
  let child: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();

  const start = async () => {
    // A restart appends to the same log: only what this start writes counts as its "ready" line.
    const from = (await fs.stat(logFile).catch(() => null))?.size ?? 0;
    const out = createWriteStream(logFile, { flags: "a" });
    const c = spawn(process.execPath, ["--import", "tsx", path.join(root, "test/support/control-plane-main.ts")], {
      cwd: root,
      env: {
        ...process.env,
        NODE_OPTIONS: "",
        DATABASE_URL: settings.databaseUrl,
        DATA_DIR: dataDir,
        ARTIFACT_DIR: settings.artifactDir,
        AUDIT_SIGNING_KEY_PATH: settings.signingKeyPath,
        NEXTAUTH_SECRET: settings.secret,
        NEXTAUTH_URL: `http://127.0.0.1:${port}`,
        PORT: String(port),
        HOST: "127.0.0.1",
        LOG_LEVEL: "info",
        NODE_ENV: "production",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child = c;
    c.stdout?.pipe(out);
    c.stderr?.pipe(out);
    exited = new Promise<void>((resolve) => c.once("exit", () => resolve()));
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (c.exitCode !== null || c.signalCode !== null) {
        throw new Error(`control plane ${name} exited during start (${c.exitCode ?? c.signalCode}); its log: ${logFile}\n${(await fs.readFile(logFile, "utf8")).slice(-3000)}`);
      }
      if ((await fs.readFile(logFile, "utf8").catch(() => "")).slice(from).includes(`ready: http://127.0.0.1:${port}`)) return;
      if (Date.now() > deadline) throw new Error(`control plane ${name} did not start within 60 s; its log: ${logFile}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const running = () => child !== null && child.exitCode === null && child.signalCode === null;
  await start();
  return {
    name,
    url: `http://127.0.0.1:${port}`,
    port,
    get pid() {
      return child?.pid ?? -1;
    },
    logFile,
    running,
    start,
    async kill() {
      if (!running()) return;
      child!.kill("SIGKILL");
      await exited;
    },
    async stop() {
      if (!running()) return;
      child!.kill("SIGTERM");
      const timer = setTimeout(() => child?.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
