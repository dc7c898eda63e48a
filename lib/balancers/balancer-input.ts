import "server-only";
import { z } from "zod";
import { ZText } from "../validation";

// What people type about balancers, checked the same way wherever it arrives (forms, the configuration file).

export const ZBalancerName = z
  .string("Enter the balancer's name.")
  .trim()
  .min(1, "Enter the balancer's name, like haproxy-a.")
  .max(63, "Use at most 63 characters.")
  .regex(/^[A-Za-z0-9][A-Za-z0-9 ._-]*$/, "Use letters, digits, spaces, dots, dashes and underscores, like haproxy-a.");

// HAProxy accepts letters, digits, '-', '_', '.' and ':' in backend and server names; the agent interpolates them
// into runtime API commands (`set server <backend>/<server> state drain`), so anything else (a space, ';', '/') is
// refused here as well as on the node.
export const ZHaproxyName = (what: "backend" | "server") =>
  z
    .string(`Enter the ${what} name.`)
    .trim()
    .min(1, `Enter the ${what} name as in haproxy.cfg.`)
    .max(128, "Use at most 128 characters.")
    .regex(/^[A-Za-z0-9_.:-]+$/, `Use the ${what} name exactly as in haproxy.cfg: letters, digits, '-', '_', '.' or ':', no spaces.`);

/** The runtime API ("stats socket ... level admin"): a unix socket path, or host:port, as the servers' agents reach it. */
export const ZHaproxyAddress = z
  .string("Enter the runtime API address.")
  .trim()
  .min(1, "Enter the runtime API address: a socket path like /run/haproxy/admin.sock, or host:port like 127.0.0.1:9999.")
  .max(255, "Use at most 255 characters.")
  .refine(
    (v) => /^(unix@)?\/[^\s;]*$/.test(v) || /^(ipv[46]@)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):([1-9]\d{0,4})$/.test(v),
    "Use a socket path like /run/haproxy/admin.sock, or host:port like 127.0.0.1:9999.",
  )
  .refine((v) => {
    const port = /:(\d+)$/.exec(v)?.[1];
    return v.includes("/") || (port !== undefined && Number(port) <= 65535);
  }, "The port must be between 1 and 65535.");

export const ZBalancerCommand = (what: "drain" | "undrain") =>
  ZText({ missing: `Enter the ${what} command.` })
    .trim()
    .min(1, `Enter the ${what} command.`)
    .max(4000, "Use at most 4000 characters.");

/** A balancer's own settings, by kind; the fields of the other kind are not kept. */
export const ZBalancerSettings = z.discriminatedUnion(
  "kind",
  [
    z.object({ name: ZBalancerName, kind: z.literal("HAPROXY"), address: ZHaproxyAddress }),
    z.object({ name: ZBalancerName, kind: z.literal("HOOK"), drainCommand: ZBalancerCommand("drain"), undrainCommand: ZBalancerCommand("undrain") }),
  ],
  { error: "Choose the kind of balancer: HAProxy (runtime API) or drain/undrain commands." },
);
export type TBalancerSettings = z.infer<typeof ZBalancerSettings>;

/** The balancer row's columns for settings: the other kind's fields cleared, never left stale. */
export function balancerColumns(s: TBalancerSettings) {
  return s.kind === "HAPROXY"
    ? { name: s.name, kind: s.kind, address: s.address, drainCommand: null, undrainCommand: null }
    : { name: s.name, kind: s.kind, address: null, drainCommand: s.drainCommand, undrainCommand: s.undrainCommand };
}

export function describeBalancer(b: { name: string; kind: "HAPROXY" | "HOOK"; address: string | null }): string {
  return b.kind === "HAPROXY" ? `${b.name} (HAProxy runtime API at ${b.address})` : `${b.name} (drain/undrain commands)`;
}
