// One interface over the job's `loadBalancer` field, so the activate/revert steps read the same for every kind:
// takeOut() -> stop, switch, start, local health check -> putBack().
import type { TJobBalancer, TJobLoadBalancer } from "../../../lib/contracts/agent-api";
import { describeServerState, drainServer, type HaproxyAdminState, readyServer } from "./haproxy";
import { drainWithHook, undrainWithHook, type RunHookCommand } from "./hook-balancer";

export interface LoadBalancerControl {
  readonly kind: TJobLoadBalancer["kind"];
  /** Resolves once the node gets no new requests and its in-flight requests are done (bounded by the drain timeout). */
  takeOut(): Promise<void>;
  /** Resolves once the balancer sends the node traffic again; rejects if it does not within the up timeout. */
  putBack(): Promise<void>;
  /**
   * Where the balancer holds the node as far as the agent knows, for a failure message ("app/web-2 was last seen in
   * DRAIN (...)"); null before takeOut, or when there is nothing to say.
   */
  describeState(): string | null;
}

export interface LoadBalancerOptions {
  onLog: (line: string) => void;
  /** Runs the HOOK kind's drain/undrain commands (the agent's hook runner). */
  runCommand: RunHookCommand;
  signal?: AbortSignal;
  /** Longest wait for in-flight requests to finish; past it the node is taken out anyway. */
  drainTimeoutSeconds: number;
  /** Longest wait for the balancer's health checks to pass after putting the node back. */
  upTimeoutSeconds: number;
  /** How long an unreachable HAProxy runtime API is retried before the step fails. */
  unreachableRetrySeconds?: number;
  /** HAProxy polling interval (tests use a short one). */
  pollIntervalMs?: number;
  /** HOOK: the balancer's name in hook names ("drain haproxy-b") when the node is behind several, and the hook's environment. */
  hookName?: string;
  hookEnv?: Record<string, string>;
}

export function createLoadBalancer(lb: TJobLoadBalancer, options: LoadBalancerOptions): LoadBalancerControl {
  switch (lb.kind) {
    case "NONE":
      return {
        kind: lb.kind,
        takeOut: async () => options.onLog("No load balancer configured: requests reaching this node during the update may fail"),
        putBack: async () => {},
        describeState: () => null,
      };
    case "HAPROXY": {
      let seen: HaproxyAdminState | null = null;
      const target = {
        address: lb.address,
        backend: lb.backend,
        server: lb.server,
        onLog: options.onLog,
        onState: (state: HaproxyAdminState) => (seen = state),
        signal: options.signal,
        pollIntervalMs: options.pollIntervalMs,
        ...(options.unreachableRetrySeconds !== undefined ? { unreachableRetrySeconds: options.unreachableRetrySeconds } : {}),
      };
      return {
        kind: lb.kind,
        takeOut: async () => {
          await drainServer({ ...target, drainTimeoutSeconds: options.drainTimeoutSeconds });
        },
        putBack: async () => {
          await readyServer({ ...target, upTimeoutSeconds: options.upTimeoutSeconds });
        },
        describeState: () => (seen ? `HAProxy: ${describeServerState(lb.backend, lb.server, seen)}` : null),
      };
    }
    case "HOOK": {
      const hook = { drainCommand: lb.drainCommand, undrainCommand: lb.undrainCommand, runCommand: options.runCommand, onLog: options.onLog, name: options.hookName, env: options.hookEnv };
      let state: "out" | "back" | null = null;
      return {
        kind: lb.kind,
        takeOut: async () => {
          state = "out";
          await drainWithHook(hook);
        },
        putBack: async () => {
          await undrainWithHook(hook);
          state = "back";
        },
        describeState: () => (state === "out" ? "the balancer: taken out by the drain command; the undrain command has not succeeded" : null),
      };
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Several balancers

/** The balancers of a job: `loadBalancers` from control planes that send it, else the one `loadBalancer`. */
export function balancersOfJob(job: { loadBalancer: TJobLoadBalancer; loadBalancers?: TJobBalancer[] | undefined }): TJobBalancer[] {
  if (job.loadBalancers) return job.loadBalancers;
  const lb = job.loadBalancer;
  if (lb.kind === "HAPROXY") return [{ kind: "HAPROXY", name: "HAProxy", address: lb.address, backend: lb.backend, server: lb.server }];
  if (lb.kind === "HOOK") return [{ kind: "HOOK", name: "commands", drainCommand: lb.drainCommand, undrainCommand: lb.undrainCommand, backend: "", server: "" }];
  return [];
}

/**
 * Every balancer the node is behind, as one: takeOut() resolves once the node is out of all of them, putBack() once
 * it is back in all of them. The node never stays serving on some and out of others: if it cannot be taken out of
 * one, it is put back where it was taken out, and if it cannot be put back on one, it is taken out again everywhere
 * (the step then fails, and the rollback starts from a node that is out of rotation everywhere).
 */
export function createLoadBalancers(list: readonly TJobBalancer[], options: LoadBalancerOptions): LoadBalancerControl {
  if (list.length === 0) return createLoadBalancer({ kind: "NONE" }, options);
  const several = list.length > 1;
  const members = list.map((b) => {
    const label = `${b.name}${b.kind === "HAPROXY" ? ` (${b.backend}/${b.server})` : ""}`;
    const single: TJobLoadBalancer =
      b.kind === "HAPROXY" ? { kind: "HAPROXY", address: b.address, backend: b.backend, server: b.server } : { kind: "HOOK", drainCommand: b.drainCommand, undrainCommand: b.undrainCommand };
    const env = { RELEASEGATE_LB_NAME: b.name, RELEASEGATE_LB_BACKEND: b.backend, RELEASEGATE_LB_SERVER: b.server };
    return { label, name: b.name, create: (signal: AbortSignal | undefined) => createLoadBalancer(single, { ...options, signal, hookName: several ? b.name : undefined, hookEnv: env }) };
  });
  if (!several) {
    const only = members[0]!.create(options.signal);
    return { ...only, describeState: () => only.describeState() };
  }
  // One control per balancer for the whole step, so describeState knows where each one was last seen.
  let controls = members.map((m) => ({ ...m, lb: m.create(options.signal) }));
  const describeState = () => {
    const states = controls.map((c) => ({ c, state: c.lb.describeState() })).filter((x) => x.state !== null);
    return states.length ? states.map((x) => `${x.c.name}: ${x.state}`).join("; ") : null;
  };
  const reason = (e: unknown) => (e instanceof Error ? e.message : String(e)).replace(/\.+$/, "");

  return {
    kind: list[0]!.kind,
    takeOut: async () => {
      options.onLog(`Taking the node out of ${list.length} load balancers: ${members.map((m) => m.label).join(", ")}`);
      // A balancer that refuses stops the others at once: the node goes back where it was taken out.
      const stop = new AbortController();
      const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
      controls = members.map((m) => ({ ...m, lb: m.create(signal) }));
      let first: { c: (typeof controls)[number]; error: unknown } | null = null;
      const results = await Promise.allSettled(
        controls.map((c) =>
          c.lb.takeOut().catch((error) => {
            // The first refusal says why; the others were only stopped because of it.
            if (!first) {
              first = { c, error };
              stop.abort(new Error(`taking the node out of ${c.name} failed`));
            }
            throw error;
          }),
        ),
      );
      options.signal?.throwIfAborted();
      if (!first) return;
      const { c: failedAt, error } = first as { c: (typeof controls)[number]; error: unknown };
      // Back in rotation wherever it left (or may have left) it; a balancer never touched is left alone.
      const touched = controls.filter((c) => c.lb.describeState() !== null || results[controls.indexOf(c)]!.status === "fulfilled");
      controls = members.map((m) => ({ ...m, lb: m.create(options.signal) }));
      const undo = await Promise.allSettled(touched.map((t) => controls.find((c) => c.name === t.name)!.lb.putBack()));
      const notBack = touched.filter((_, i) => undo[i]!.status === "rejected").map((t) => t.name);
      const back = touched.filter((_, i) => undo[i]!.status === "fulfilled").map((t) => t.name);
      throw new Error(
        `Could not take the node out of ${failedAt.name}: ${reason(error)}. ` +
          (back.length ? `It was put back in ${back.join(", ")}, so it serves as before on every balancer that answers` : "It was not taken out of any other balancer") +
          (notBack.length ? `; it could not be put back in ${notBack.join(", ")}` : "") +
          ".",
      );
    },
    putBack: async () => {
      const results = await Promise.allSettled(controls.map((c) => c.lb.putBack()));
      const failed = controls.flatMap((c, i) => (results[i]!.status === "rejected" ? [{ c, error: (results[i] as PromiseRejectedResult).reason }] : []));
      if (failed.length === 0) return;
      options.signal?.throwIfAborted();
      // Serving on some balancers only would split traffic unevenly and hide the failure: out of all of them again.
      const serving = controls.filter((c, i) => results[i]!.status === "fulfilled");
      const again = await Promise.allSettled(serving.map((c) => c.lb.takeOut()));
      const stillIn = serving.filter((_, i) => again[i]!.status === "rejected").map((c) => c.name);
      const first = failed[0]!;
      throw new Error(
        `Could not put the node back in ${first.c.name}: ${reason(first.error)}. ` +
          (serving.length
            ? stillIn.length
              ? `It could not be taken out of ${stillIn.join(", ")} again either`
              : `It was taken out of ${serving.map((c) => c.name).join(", ")} again, so it serves on no balancer rather than on some`
            : "It serves on no balancer") +
          ".",
      );
    },
    describeState,
  };
}
