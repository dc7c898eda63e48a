// releasegate-agent: what ops install on each server.
//   RELEASEGATE_ENROLL_TOKEN=… releasegate-agent enroll --server URL --dir /srv/app [--var APP_PORT=8081]... [--config FILE]
//   releasegate-agent run --dir /srv/app [--config FILE]
//   releasegate-agent status --dir /srv/app [--config FILE]
// Enrollment exchanges the one-time token for the agent's own secret and writes the config (0600). `run` connects
// out to the control plane (no inbound port), heartbeats, long-polls for jobs and runs them. `status` says whether
// the agent is enrolled, can reach the control plane with its secret now, and which job it holds.
import { access } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { AgentApi, AgentApiError } from "./api-client";
import { defaultConfigPath, readConfig, stateDir, writeConfig } from "./config";
import { Journal } from "./journal";
import { runAgent } from "./agent-loop";
import { createLogger } from "./logger";
import { AGENT_VERSION } from "./version";

const USAGE = `releasegate-agent ${AGENT_VERSION}

Usage:
  RELEASEGATE_ENROLL_TOKEN=rge_… releasegate-agent enroll --server URL --dir DIR [--var NAME=VALUE]... [--config FILE]
  releasegate-agent enroll --server URL --token - --dir DIR ...     (the token on standard input)
  releasegate-agent run --dir DIR [--config FILE]
  releasegate-agent status --dir DIR [--config FILE]
  releasegate-agent version

  --token   the one-time enrollment token: "-" reads it from standard input (also read from a pipe when --token
            and RELEASEGATE_ENROLL_TOKEN are both absent). A token written on the command line works but shows in ps.
  --dir     the deploy directory this agent manages (releases/, shared/, current)
  --var     a node-local setting passed to hooks and expanded as \${NAME} in the health-check URL
  --config  where the agent keeps its settings and secret (default DIR/.releasegate/agent.json, mode 0600)

status exits 0 when the agent is enrolled and the control plane takes its secret now, 1 when it cannot be reached or
refuses the secret, 3 when the agent is not enrolled.
`;

/** The variable `enroll` reads the one-time token from (an environment is not visible to other users, unlike argv). */
export const ENROLL_TOKEN_VARIABLE = "RELEASEGATE_ENROLL_TOKEN";

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const log = createLogger();
  if (command === "version" || command === "--version") {
    console.log(AGENT_VERSION);
    return 0;
  }
  if (command !== "enroll" && command !== "run" && command !== "status") {
    process.stderr.write(USAGE);
    return command === "help" || command === "--help" ? 0 : 2;
  }
  let values;
  try {
    ({ values } = parseArgs({
      args: rest,
      options: { server: { type: "string" }, token: { type: "string" }, dir: { type: "string" }, config: { type: "string" }, var: { type: "string", multiple: true } },
    }));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (!values.dir && !values.config) {
    process.stderr.write(`--dir is required.\n\n${USAGE}`);
    return 2;
  }
  const dir = values.dir ? path.resolve(values.dir) : undefined;
  const configFile = values.config ? path.resolve(values.config) : defaultConfigPath(dir!);

  if (command === "status") return status(configFile);

  if (command === "enroll") {
    if (!values.server || !dir) {
      process.stderr.write(`enroll needs --server and --dir, and the token in ${ENROLL_TOKEN_VARIABLE} or on standard input.\n\n${USAGE}`);
      return 2;
    }
    const token = await enrollmentToken(values.token);
    if (!token) {
      process.stderr.write(`enroll needs the one-time token from "Add server": set ${ENROLL_TOKEN_VARIABLE}, or pass it on standard input (--token -).\n`);
      return 2;
    }
    const vars: Record<string, string> = {};
    for (const v of values.var ?? []) {
      const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(v);
      if (!m) {
        process.stderr.write(`--var ${v}: use NAME=VALUE with NAME in capitals, like APP_PORT=8081.\n`);
        return 2;
      }
      vars[m[1]!] = m[2]!;
    }
    const api = new AgentApi(values.server, null);
    const r = await api.enroll({ token, hostname: os.hostname(), agentVersion: AGENT_VERSION });
    await writeConfig(configFile, { server: values.server, targetId: r.targetId, agentSecret: r.agentSecret, dir, vars, target: r.target });
    console.log(`Enrolled as ${r.target.name} in ${r.target.application} / ${r.target.environment} (${r.target.customer}).`);
    console.log(`Settings and secret written to ${configFile} (mode 0600). Start the agent with: releasegate-agent run --dir ${dir}`);
    return 0;
  }

  const config = await readConfig(configFile);
  const controller = new AbortController();
  const stop = (signal: string) => {
    log.info(`${signal}: stopping after the current request (a running step is reported as interrupted on the next start)`);
    controller.abort();
    // A second signal, or a step that will not yield, must not keep the process alive forever.
    setTimeout(() => process.exit(0), 5_000).unref();
  };
  process.once("SIGTERM", () => stop("SIGTERM"));
  process.once("SIGINT", () => stop("SIGINT"));
  await runAgent({ config, log, signal: controller.signal });
  return 0;
}

/**
 * The one-time token: `--token -` reads standard input; `--token TOKEN` works but warns (argv is world-readable in
 * ps and /proc while the process runs); else RELEASEGATE_ENROLL_TOKEN; else standard input when it is a pipe.
 */
async function enrollmentToken(flag: string | undefined): Promise<string | null> {
  if (flag === "-") return readStdin();
  if (flag) {
    process.stderr.write(
      `releasegate-agent: warning: a token given with --token is visible to other users of this machine (ps, /proc/*/cmdline). ` +
        `Pass it in ${ENROLL_TOKEN_VARIABLE} or on standard input (--token -) instead.\n`,
    );
    return flag;
  }
  const fromEnv = process.env[ENROLL_TOKEN_VARIABLE]?.trim();
  if (fromEnv) return fromEnv;
  return process.stdin.isTTY ? null : readStdin();
}

/** Standard input up to its end (a pipe) or its first line (a terminal), trimmed; null when empty. */
async function readStdin(): Promise<string | null> {
  if (process.stdin.isTTY) process.stderr.write("Enrollment token: ");
  let text = "";
  for await (const chunk of process.stdin) {
    text += String(chunk);
    if (process.stdin.isTTY && text.includes("\n")) break;
  }
  return text.split("\n")[0]!.trim() || null;
}

/**
 * Prints three lines (enrolled, connected, job) a person or a monitoring check can read. Asking changes nothing on
 * the control plane. Exit: 0 enrolled and connected, 1 cannot connect or refused, 3 not enrolled.
 */
async function status(configFile: string): Promise<number> {
  if (!(await access(configFile).then(() => true, () => false))) {
    console.log(`enrolled: no, there is no agent configuration at ${configFile}. Enroll with: ${ENROLL_TOKEN_VARIABLE}=rge_… releasegate-agent enroll --server URL --dir DIR`);
    return 3;
  }
  let config;
  try {
    config = await readConfig(configFile);
  } catch (err) {
    console.log(`enrolled: no, ${(err as Error).message}`);
    return 3;
  }
  const t = config.target;
  console.log(`enrolled: yes, as ${t.name} in ${t.application} / ${t.environment} (${t.customer}); control plane ${config.server}; settings ${configFile}`);
  const local = await new Journal(stateDir(config.dir)).read();
  const here = local ? `; on this server: ${local.action.toLowerCase()} of ${local.version}, phase "${local.phase}" since ${local.startedAt}` : "";
  try {
    const who = await new AgentApi(config.server, config.agentSecret).whoami();
    console.log(`connected: yes, ${config.server} answered and accepted this agent's secret`);
    const j = who.job;
    console.log(j ? `job: holds ${j.action.toLowerCase()} of ${j.version} (${j.status.toLowerCase()}${j.phase ? `, phase "${j.phase}"` : ""}) in deployment ${j.deploymentId}${here}` : `job: idle${here}`);
    return 0;
  } catch (err) {
    if (err instanceof AgentApiError && err.status === 401) {
      console.log(`connected: no, the control plane refused this agent's secret (revoked or rotated): ${err.message}`);
    } else if (err instanceof AgentApiError && err.status === 404) {
      console.log(`connected: unknown, ${config.server} answers but is older than this agent and cannot confirm its secret`);
    } else {
      console.log(`connected: no, ${(err as Error).message}`);
    }
    console.log(`job: unknown to the control plane${here}`);
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`releasegate-agent: ${(err as Error).message}\n`);
    process.exit(1);
  },
);
