import "server-only";
import { recordAuditEvent } from "../audit/record-audit-event";
import { db } from "../db/client";
import type { Role } from "../db/generated/enums";
import type { RequestContext, UserActor } from "./actor";

/** What the signed session cookie (a next-auth JWT) carries. Everything else is read from the database. */
export interface SessionClaims {
  uid: string;
  sid: string;
  sv: number;
}

interface UserRow {
  id: string;
  email: string;
  name: string;
  isPlatformAdmin: boolean;
  customerId: string | null;
  mustChangePassword: boolean;
  memberships: { applicationId: string; role: Role }[];
}

export function toUserActor(user: UserRow, sessionId: string | null, ctx: RequestContext): UserActor {
  const roles = new Map<string, Set<Role>>();
  for (const m of user.memberships) {
    const set = roles.get(m.applicationId) ?? new Set<Role>();
    set.add(m.role);
    roles.set(m.applicationId, set);
  }
  return {
    type: "USER",
    id: user.id,
    email: user.email,
    name: user.name,
    isPlatformAdmin: user.isPlatformAdmin,
    customerId: user.customerId,
    mustChangePassword: user.mustChangePassword,
    sessionId,
    roles,
    ctx,
  };
}

// lastSeenAt is a hint for admins, not a security control: refresh it at most this often to spare writes.
const LAST_SEEN_RESOLUTION_MS = 5 * 60_000;

/**
 * Turns session claims into an actor, or null when the session no longer stands: revoked (signed out), expired,
 * the user disabled, or their session version bumped. Runs on every request, so disabling a user or changing
 * their roles applies on their very next click rather than when a cookie expires.
 */
export async function loadSessionActor(claims: SessionClaims, ctx: RequestContext): Promise<UserActor | null> {
  const session = await db.authSession.findUnique({
    where: { id: claims.sid },
    include: { user: { include: { memberships: { select: { applicationId: true, role: true } } } } },
  });
  const now = Date.now();
  if (
    !session ||
    session.userId !== claims.uid ||
    session.revokedAt !== null ||
    session.expiresAt.getTime() <= now ||
    session.user.status !== "ACTIVE" ||
    session.user.sessionVersion !== claims.sv
  ) {
    return null;
  }
  if (now - session.lastSeenAt.getTime() > LAST_SEEN_RESOLUTION_MS) {
    await db.authSession.update({ where: { id: session.id }, data: { lastSeenAt: new Date(now) } });
  }
  return toUserActor(session.user, session.id, ctx);
}

/** Signs one browser out: its session is revoked server-side, so a copied cookie stops working too. */
export async function revokeSession(claims: SessionClaims, ctx: RequestContext): Promise<void> {
  await db.$transaction(async (tx) => {
    const revoked = await tx.authSession.updateMany({
      where: { id: claims.sid, userId: claims.uid, revokedAt: null },
      data: { revokedAt: new Date() },
    });
    if (revoked.count === 0) return;
    const user = await tx.user.findUniqueOrThrow({ where: { id: claims.uid }, include: { memberships: true } });
    await recordAuditEvent(tx, toUserActor(user, claims.sid, ctx), {
      type: "USER_SIGNED_OUT",
      object: { type: "User", id: user.id },
      summary: `${user.email} signed out`,
      data: { sessionId: claims.sid },
    });
  });
}
