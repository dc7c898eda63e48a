// releasegate-agent: what ops install on each server.
//   releasegate-agent enroll --server URL --token TOKEN --dir /srv/app [--var APP_PORT=8081]... [--config FILE]
//   releasegate-agent run --dir /srv/app [--config FILE]
// Enrollment exchanges the one-time token for the agent's own secret and writes the config (0600). `run` connects
// out to the control plane (no inbound port), heartbeats, long-polls for jobs and runs them.
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { AgentApi } from "./api-client";
import { defaultConfigPath, readConfig, writeConfig } from "./config";
import { runAgent } from "./agent-loop";
import { createLogger } from "./logger";
import { AGENT_VERSION } from "./version";

const USAGE = `releasegate-agent ${AGENT_VERSION}

Usage:
  releasegate-agent enroll --server URL --token TOKEN --dir DIR [--var NAME=VALUE]... [--config FILE]
  releasegate-agent run --dir DIR [--config FILE]
  releasegate-agent version

  --dir     the deploy directory this agent manages (releases/, shared/, current)
  --var     a node-local setting passed to hooks and expanded as \${NAME} in the health-check URL
  --config  where the agent keeps its settings and secret (default DIR/.releasegate/agent.json, mode 0600)
`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const log = createLogger();
  if (command === "version" || command === "--version") {
    console.log(AGENT_VERSION);
    return 0;
  }
  if (command !== "enroll" && command !== "run") {
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

  if (command === "enroll") {
    if (!values.server || !values.token || !dir) {
      process.stderr.write(`enroll needs --server, --token and --dir.\n\n${USAGE}`);
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
    const r = await api.enroll({ token: values.token, hostname: os.hostname(), agentVersion: AGENT_VERSION });
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

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`releasegate-agent: ${(err as Error).message}\n`);
    process.exit(1);
  },
);
