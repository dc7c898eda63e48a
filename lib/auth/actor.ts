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

/**
 * A build pipeline calling the API with a token. It acts on one application with the roles the token was given
 * (never more than its creator held); `roles` has the same shape as a user's so the permission matrix applies as is.
 */
export interface ApiTokenActor {
  type: "API_TOKEN";
  tokenId: string;
  /** The person who created the token: releases it uploads are theirs for separation of duties. */
  createdById: string;
  applicationId: string;
  /** e.g. "API token ci-main (ab12cd)". */
  label: string;
  isPlatformAdmin: false;
  roles: ReadonlyMap<string, ReadonlySet<Role>>;
  ctx: RequestContext;
}

export type Actor = UserActor | SystemActor | AgentActor | ApiTokenActor;

export function systemActor(label: string, ctx?: Partial<RequestContext>): SystemActor {
  return {
    type: "SYSTEM",
    label,
    ctx: { requestId: ctx?.requestId ?? crypto.randomUUID(), ip: ctx?.ip ?? null, userAgent: ctx?.userAgent ?? null },
  };
}

export function actorLabel(actor: Actor): string {
  if (actor.type === "USER") return actor.email;
  if (actor.type === "AGENT" || actor.type === "API_TOKEN") return actor.label;
  return `system: ${actor.label}`;
}
