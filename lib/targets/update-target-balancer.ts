import "server-only";
import { z } from "zod";
import { recordAuditEvent } from "../audit/record-audit-event";
import type { UserActor } from "../auth/actor";
import { assertCan, can } from "../auth/permissions";
import { db } from "../db/client";
import { notFound } from "../errors";
import { parseInput, ZText } from "../validation";

// HAProxy accepts letters, digits, '-', '_', '.' and ':' in backend and server names; the agent interpolates them
// into runtime API commands (`set server <backend>/<server> state drain`), so anything else (a space, ';', '/') is
// refused here as well as on the node.
const ZHaproxyName = (what: string) =>
  z
    .string(`Enter the ${what} name.`)
    .trim()
    .min(1, `Enter the ${what} name as in haproxy.cfg.`)
    .max(128, "Use at most 128 characters.")
    .regex(/^[A-Za-z0-9_.:-]+$/, `Use the ${what} name exactly as in haproxy.cfg: letters, digits, '-', '_', '.' or ':', no spaces.`);

/** The runtime API ("stats socket ... level admin"): a unix socket path, or host:port. */
const ZHaproxyAddress = z
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

const ZCommand = (what: string) =>
  ZText({ missing: `Enter the ${what} command.` })
    .trim()
    .min(1, `Enter the ${what} command.`)
    .max(4000, "Use at most 4000 characters.");

const ZTargetId = z.uuid("Choose a server.");

export const ZUpdateTargetBalancerRequestSchema = z.discriminatedUnion(
  "lbKind",
  [
    z.object({ targetId: ZTargetId, lbKind: z.literal("NONE") }),
    z.object({ targetId: ZTargetId, lbKind: z.literal("HAPROXY"), lbAddress: ZHaproxyAddress, lbBackend: ZHaproxyName("backend"), lbServer: ZHaproxyName("server") }),
    z.object({ targetId: ZTargetId, lbKind: z.literal("HOOK"), drainCommand: ZCommand("drain"), undrainCommand: ZCommand("undrain") }),
  ],
  { error: "Choose how the server is taken out of rotation: none, HAProxy or commands." },
);
export type TUpdateTargetBalancerRequest = z.input<typeof ZUpdateTargetBalancerRequestSchema>;

type Balancer = { lbKind: "NONE" | "HAPROXY" | "HOOK"; lbAddress: string | null; lbBackend: string | null; lbServer: string | null; drainCommand: string | null; undrainCommand: string | null };

/** The row's full load-balancer settings for a request: fields of the other kinds are cleared, never left stale. */
function settingsOf(input: z.infer<typeof ZUpdateTargetBalancerRequestSchema>): Balancer {
  const none: Balancer = { lbKind: "NONE", lbAddress: null, lbBackend: null, lbServer: null, drainCommand: null, undrainCommand: null };
  if (input.lbKind === "HAPROXY") return { ...none, lbKind: "HAPROXY", lbAddress: input.lbAddress, lbBackend: input.lbBackend, lbServer: input.lbServer };
  if (input.lbKind === "HOOK") return { ...none, lbKind: "HOOK", drainCommand: input.drainCommand, undrainCommand: input.undrainCommand };
  return none;
}

const describeBalancer = (b: Balancer) =>
  b.lbKind === "HAPROXY" ? `HAProxy ${b.lbBackend}/${b.lbServer} via ${b.lbAddress}` : b.lbKind === "HOOK" ? "drain/undrain commands" : "no load balancer";

/**
 * Sets how a server is taken out of rotation while it is updated: not at all, through HAProxy's runtime API (the
 * agent drains `backend/server`, waits for its sessions to end, and puts it back once healthy), or with the
 * environment's own drain and undrain commands. Jobs carry the settings from the moment they are claimed.
 * Returns the fields that changed; saving the same settings again changes nothing and records nothing.
 */
export async function updateTargetBalancer(actor: UserActor, raw: TUpdateTargetBalancerRequest) {
  const input = parseInput(ZUpdateTargetBalancerRequestSchema, raw);
  const target = await db.target.findUnique({ where: { id: input.targetId }, include: { environment: { include: { application: true } } } });
  // Outside the actor's tenant the server does not exist for them; a member who may not manage servers is refused.
  if (!target || !can(actor, "application.view", target.environment.applicationId)) throw notFound("Server");
  assertCan(actor, "target.manage", target.environment.applicationId);
  const next = settingsOf(input);
  return db.$transaction(async (tx) => {
    // Read under the row lock: `before` is what this change really replaced, even with two people saving at once.
    await tx.$queryRaw`SELECT id FROM "Target" WHERE id = ${target.id}::uuid FOR UPDATE`;
    const current = await tx.target.findUniqueOrThrow({ where: { id: target.id } });
    const keys = Object.keys(next) as (keyof Balancer)[];
    const changed = keys.filter((k) => current[k] !== next[k]);
    if (changed.length === 0) return { target: current, changed };
    const updated = await tx.target.update({ where: { id: target.id }, data: next });
    const app = target.environment.application;
    await recordAuditEvent(tx, actor, {
      type: "TARGET_UPDATED",
      object: { type: "Target", id: target.id },
      scope: { customerId: app.customerId, applicationId: app.id, environmentId: target.environmentId },
      summary: `set the load balancer of ${target.name} (${app.name} / ${target.environment.name}) to ${describeBalancer(next)}`,
      before: Object.fromEntries(changed.map((k) => [k, current[k]])),
      after: Object.fromEntries(changed.map((k) => [k, next[k]])),
    });
    return { target: updated, changed };
  });
}
