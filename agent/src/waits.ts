// Where an activation's time went that was not Releasegate's own: hooks, the load balancer and health checks. One
// readable line in the step's log; bench/rollout.ts reads its total back to measure Releasegate's overhead per node.

const LABELS: Record<string, string> = {
  "balancer:take-out": "out of the load balancer",
  "balancer:put-back": "back into the load balancer",
  "health-check": "health check",
  bake: "post-deploy analysis",
};

const label = (name: string) => LABELS[name] ?? (name.startsWith("hook:") ? `${name.slice(5)} hook` : name);

/**
 * "Waited 2184 ms on the app and the load balancer: out of the load balancer 412 ms, stop hook 301 ms, …", in the
 * order they happened; `totalMs` counts time once where one wait ran inside another (a drain hook inside taking the
 * node out). Null when nothing was waited for.
 */
export function describeWaits(waits: Readonly<Record<string, number>>, totalMs: number): string | null {
  const parts = Object.entries(waits).map(([name, ms]) => `${label(name)} ${ms} ms`);
  return parts.length ? `Waited ${totalMs} ms on the app and the load balancer: ${parts.join(", ")}.` : null;
}

/** The total of describeWaits' line in a step's log, if it has one. */
export function waitedMsIn(log: string): number | null {
  const m = /^Waited (\d+) ms on the app and the load balancer: /m.exec(log);
  return m ? Number(m[1]) : null;
}
