// A local fleet on loopback, as the demo and the real-parts tests run it: for each node a deploy directory and a
// real agent process (the bundled agent/dist/releasegate-agent.mjs, exactly what ops install), enrolled with a
// one-time token from the control plane; optionally a real HAProxy in front of the nodes that are balanced.
// The sample app on each node is started and stopped by the environment's hooks (demo/sample-app/ctl.sh), i.e.
// by the agent during a deployment, never by this harness, except that stop() cleans everything up.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { AGENT_BUNDLE, buildAgent } from "../../agent/build";
import { type RunningHaproxy, startHaproxy } from "./haproxy";
import { runShell } from "./sample-node";

const exec = promisify(execFile);

export interface FleetNodeSpec {
  /** The server's name in Releasegate, also its HAProxy server name. */
  name: string;
  /** One-time enrollment token from "Add server". */
  token: string;
  /** The sample app's port on this node. */
  port: number;
  /** Behind the fleet's HAProxy (production nodes). */
  balanced?: boolean;
}

export interface FleetAgent {
  name: string;
  dir: string;
  port: number;
  /** The agent's own log (JSON lines). */
  logFile: string;
  running(): boolean;
  /** SIGKILL, as a crash or an OOM kill would. */
  kill(): Promise<void>;
  /** Starts `releasegate-agent run` again on the same directory. */
  start(): void;
}

export interface Fleet {
  agents: FleetAgent[];
  haproxy: RunningHaproxy | null;
  stop(): Promise<void>;
}

/** Builds the agent bundle if it is missing or older than its sources. */
export async function ensureAgentBundle(): Promise<string> {
  const srcDir = path.join(path.dirname(AGENT_BUNDLE), "..", "src");
  const bundle = await fs.stat(AGENT_BUNDLE).catch(() => null);
  const newest = await newestMtime([srcDir, path.resolve(srcDir, "../../lib/contracts")]);
  if (!bundle || bundle.mtimeMs < newest) await buildAgent();
  return AGENT_BUNDLE;
}

async function newestMtime(dirs: string[]): Promise<number> {
  let newest = 0;
  for (const dir of dirs) {
    for (const f of await fs.readdir(dir, { recursive: true })) {
      const s = await fs.stat(path.join(dir, f));
      if (s.isFile()) newest = Math.max(newest, s.mtimeMs);
    }
  }
  return newest;
}

/** HAProxy in front of the balanced nodes (started first: the servers' load-balancer settings name its address). */
export function startFleetHaproxy(nodes: { name: string; port: number }[], check?: { interMs?: number; fall?: number; rise?: number }): Promise<RunningHaproxy> {
  return startHaproxy({ nodes, ...(check ? { check } : {}) });
}

/** Enrolls and starts one agent per node. `haproxy` (from startFleetHaproxy) is stopped with the fleet. */
export async function startFleet(options: { server: string; workDir: string; nodes: FleetNodeSpec[]; haproxy?: RunningHaproxy | null }): Promise<Fleet> {
  const bundle = await ensureAgentBundle();
  await fs.mkdir(options.workDir, { recursive: true });
  const haproxy = options.haproxy ?? null;

  const agents: FleetAgent[] = [];
  const children = new Set<ChildProcess>();
  try {
    for (const node of options.nodes) {
      const dir = path.join(options.workDir, node.name);
      await fs.mkdir(dir, { recursive: true });
      // The token in the environment, as README tells ops: never on a command line, where ps shows it.
      await exec(process.execPath, [bundle, "enroll", "--server", options.server, "--dir", dir, "--var", `PORT=${node.port}`], {
        env: { ...process.env, RELEASEGATE_ENROLL_TOKEN: node.token },
      });
      const logFile = path.join(options.workDir, `${node.name}.agent.log`);
      let child: ChildProcess | null = null;
      const agent: FleetAgent = {
        name: node.name,
        dir,
        port: node.port,
        logFile,
        running: () => child !== null && child.exitCode === null && child.signalCode === null,
        start() {
          const out = createWriteStream(logFile, { flags: "a" });
          child = spawn(process.execPath, [bundle, "run", "--dir", dir], { stdio: ["ignore", "pipe", "pipe"] });
          child.stdout?.pipe(out);
          child.stderr?.pipe(out);
          children.add(child);
          const c = child;
          c.once("exit", () => children.delete(c));
        },
        async kill() {
          const c = child;
          if (!c || c.exitCode !== null || c.signalCode !== null) return;
          const exited = new Promise((r) => c.once("exit", r));
          c.kill("SIGKILL");
          await exited;
        },
      };
      agent.start();
      agents.push(agent);
    }
  } catch (err) {
    for (const c of children) c.kill("SIGKILL");
    await haproxy?.stop();
    throw err;
  }

  return {
    agents,
    haproxy,
    async stop() {
      await Promise.all(
        [...children].map(async (c) => {
          const exited = new Promise((r) => c.once("exit", r));
          c.kill("SIGTERM");
          await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
          if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
        }),
      );
      // The apps were started by hooks, detached from the agents: stop them through the same script.
      await Promise.all(
        agents.map((a) =>
          runShell("if [ -f current/ctl.sh ]; then sh current/ctl.sh stop; fi", { cwd: a.dir, env: { PORT: String(a.port) }, timeoutMs: 15_000 }).catch(() => undefined),
        ),
      );
      await haproxy?.stop();
    },
  };
}

/** Waits until `check` holds, asking every `pollMs` (short to catch a passing state, such as a node in DRAIN). */
export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 30_000, pollMs = 200): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, pollMs));
  }
  throw new Error(`timed out waiting for ${what}`);
}
