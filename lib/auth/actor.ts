// Who is acting, established once per request by an entry-point wrapper and passed explicitly to every domain
// function. Domain functions decide what the actor may do (lib/auth/permissions.ts); wrappers never do.
import type { Role } from "../db/generated/enums";

export interface RequestContext {
  requestId: string;
  ip: string | null;
  userAgent: string | null;
}

export interface UserActor {
  type: "USER";
  id: string;
  email: string;
  name: string;
  isPlatformAdmin: boolean;
  /** The customer organisation of a customer-side user; null for the hosting company's staff. */
  customerId: string | null;
  sessionId: string | null;
  mustChangePassword: boolean;
  /** Roles per application id, read from the database on this request (role changes apply at once). */
  roles: ReadonlyMap<string, ReadonlySet<Role>>;
  ctx: RequestContext;
}

export interface SystemActor {
  type: "SYSTEM";
  /** What is acting, e.g. "first-run setup" or "rollout engine". */
  label: string;
  ctx: RequestContext;
}

/** An enrolled agent, authenticated by its secret, acting for the server (target) it runs on. */
export interface AgentActor {
  type: "AGENT";
  targetId: string;
  /** e.g. "agent web-1 (Webshop / Production)". */
  label: string;
  ctx: RequestContext;
}

export type Actor = UserActor | SystemActor | AgentActor;

export function systemActor(label: string, ctx?: Partial<RequestContext>): SystemActor {
  return {
    type: "SYSTEM",
    label,
    ctx: { requestId: ctx?.requestId ?? crypto.randomUUID(), ip: ctx?.ip ?? null, userAgent: ctx?.userAgent ?? null },
  };
}

export function actorLabel(actor: Actor): string {
  if (actor.type === "USER") return actor.email;
  return actor.type === "AGENT" ? actor.label : `system: ${actor.label}`;
}
