// One interface over the job's `loadBalancer` field, so the activate/revert steps read the same for every kind:
// takeOut() -> stop, switch, start, local health check -> putBack().
import type { TJobLoadBalancer } from "../../../lib/contracts/agent-api";
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
      const hook = { drainCommand: lb.drainCommand, undrainCommand: lb.undrainCommand, runCommand: options.runCommand, onLog: options.onLog };
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
