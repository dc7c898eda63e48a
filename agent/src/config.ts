// The agent's own configuration: where the control plane is, the agent's secret, and the directory it manages.
// Written once by `enroll`, readable by the agent's user only (0600 in a 0700 directory): it holds the secret.
import { chmod, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { AGENT_SECRET_PREFIX } from "../../lib/contracts/agent-api";

export const ZAgentConfigSchema = z.object({
  server: z.url(),
  targetId: z.uuid(),
  agentSecret: z.string().startsWith(AGENT_SECRET_PREFIX),
  /** The deploy directory: releases/, shared/, current. */
  dir: z.string().min(1),
  /** Node-local settings (e.g. APP_PORT=8081): passed to hooks as environment variables and expanded as ${NAME}
   * in the health-check URL, so one environment's settings fit nodes that differ in port or path. */
  vars: z.record(z.string().regex(/^[A-Z_][A-Z0-9_]*$/), z.string()).default({}),
  target: z.object({ name: z.string(), environment: z.string(), application: z.string(), customer: z.string() }),
});
export type AgentConfig = z.infer<typeof ZAgentConfigSchema>;

/** `DIR/.releasegate/agent.json` unless the operator chose another path. */
export const defaultConfigPath = (dir: string) => path.join(dir, ".releasegate", "agent.json");
/** Where the agent keeps its in-progress marker and other state (next to the config). */
export const stateDir = (dir: string) => path.join(dir, ".releasegate");

export async function writeConfig(file: string, config: AgentConfig): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  await chmod(tmp, 0o600); // the umask may have narrowed the mode; never widened, but be explicit
  await rename(tmp, file);
}

export async function readConfig(file: string): Promise<AgentConfig> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch {
    throw new Error(`No agent configuration at ${file}. Run \`RELEASEGATE_ENROLL_TOKEN=rge_… releasegate-agent enroll --server URL --dir DIR\` first.`);
  }
  const parsed = ZAgentConfigSchema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error(`${file} is not a valid agent configuration: ${parsed.error.issues[0]?.message ?? "invalid"}`);
  return parsed.data;
}

/** Replaces ${NAME} with the node's variable; an unknown name is left as is so the error shows what was missing. */
export function expandVars(text: string, vars: Record<string, string>): string {
  return text.replace(/\$\{([A-Z_][A-Z0-9_]*)\}/g, (whole, name: string) => vars[name] ?? whole);
}
