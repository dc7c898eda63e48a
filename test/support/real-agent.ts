// One real agent (the bundled agent/dist/releasegate-agent.mjs, what ops install) on a deploy directory, for
// integration tests that run whole jobs against the agent API: enrolled with its one-time token in the environment,
// started and stopped like a service, its own log (JSON lines) readable to wait for what it says.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { createReadStream, createWriteStream } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import type { UserActor } from "../../lib/auth/actor";
import { createRelease } from "../../lib/releases/create-release";
import { ensureAgentBundle, waitFor } from "./fleet";
import { buildSampleArtifact } from "./sample-artifact";

const exec = promisify(execFile);

export class RealAgent {
  private child: ChildProcess | null = null;
  logFile = "";

  private constructor(
    private readonly bundle: string,
    readonly dir: string,
  ) {}

  /** Enrolls an agent for `dir` with the token from "Add server", as README tells ops (token in the environment). */
  static async enroll(options: { server: string; token: string; dir: string }): Promise<RealAgent> {
    const bundle = await ensureAgentBundle();
    await fs.mkdir(options.dir, { recursive: true });
    await exec(process.execPath, [bundle, "enroll", "--server", options.server, "--dir", options.dir], {
      env: { ...process.env, RELEASEGATE_ENROLL_TOKEN: options.token },
    });
    return new RealAgent(bundle, options.dir);
  }

  /** `releasegate-agent run`, until it says it waits for work (it has heartbeated once). */
  async start(env: Record<string, string> = {}): Promise<void> {
    this.logFile = path.join(path.dirname(this.dir), `${path.basename(this.dir)}-agent-${Date.now()}.log`);
    const out = createWriteStream(this.logFile);
    this.child = spawn(process.execPath, [this.bundle, "run", "--dir", this.dir], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    this.child.stdout!.pipe(out);
    this.child.stderr!.pipe(out);
    await waitFor("the agent to connect", this.says("waiting for work"));
  }

  async stop(): Promise<void> {
    const c = this.child;
    this.child = null;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((r) => c.once("exit", r));
    c.kill("SIGTERM");
    await exited;
  }

  /** A check for waitFor: the agent's own log contains `text`. */
  says(text: string): () => Promise<boolean> {
    return async () => (await fs.readFile(this.logFile, "utf8").catch(() => "")).includes(text);
  }

  /** Every line the agent wrote to a step's log (it logs each one itself too, time-stamped), in order. */
  async stepLines(stepId: string): Promise<string[]> {
    return (await fs.readFile(this.logFile, "utf8"))
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { msg: string; step?: string })
      .filter((l) => l.step === stepId && /^\d\d:\d\d:\d\d\.\d{3} /.test(l.msg)) // its own notes are not step lines
      .map((l) => l.msg);
  }
}

/** The sample app as `version`, uploaded as a release by `uploader` (into ARTIFACT_DIR, as the upload API stores it). */
export async function uploadSample(uploader: UserActor, applicationId: string, version: string, workDir: string) {
  const artifact = await buildSampleArtifact(version, path.join(workDir, `sample-${version}.tar.gz`));
  return createRelease(uploader, { applicationId, version, notes: "", needsMigration: false, migrationInstructions: "" }, { fileName: "app.tar.gz", stream: createReadStream(artifact.file) });
}
