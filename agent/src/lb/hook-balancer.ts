// Load balancers other than HAProxy (cloud LBs, nginx with a config edit, F5...): the environment configures a
// drain command and an undrain command, and the agent runs them like any other hook. This module only decides
// when; running a command (shell, cwd, env, timeout, log streaming) is the hook runner's job, passed in.

/**
 * Runs one hook command and resolves when it succeeded; rejects when it failed or timed out. `env` is added to the
 * hook's environment (which balancer, backend and server name the command is about).
 */
export type RunHookCommand = (name: string, command: string, env?: Record<string, string>) => Promise<void>;

export interface HookBalancerOptions {
  drainCommand: string | null;
  undrainCommand: string | null;
  runCommand: RunHookCommand;
  onLog?: (line: string) => void;
  /** Hook name suffix and environment when the node is behind several balancers. */
  name?: string;
  env?: Record<string, string>;
}

/** Hook names as the step log shows them. */
export const DRAIN_HOOK = "drain";
export const UNDRAIN_HOOK = "undrain";

/**
 * Takes the node out of the balancer's rotation. The command must only return once the balancer sends it no new
 * requests and the ones in flight are done (e.g. deregister, then wait for the deregistration delay).
 */
export async function drainWithHook(options: HookBalancerOptions): Promise<void> {
  if (!options.drainCommand?.trim()) {
    options.onLog?.("No drain command configured: the node keeps receiving traffic while it is updated");
    return;
  }
  await options.runCommand(options.name ? `${DRAIN_HOOK} ${options.name}` : DRAIN_HOOK, options.drainCommand, options.env);
}

/** Puts the node back. The command should return once the balancer sends it traffic again (its health check passed). */
export async function undrainWithHook(options: HookBalancerOptions): Promise<void> {
  if (!options.undrainCommand?.trim()) {
    options.onLog?.("No undrain command configured: nothing to do to put the node back");
    return;
  }
  await options.runCommand(options.name ? `${UNDRAIN_HOOK} ${options.name}` : UNDRAIN_HOOK, options.undrainCommand, options.env);
}
