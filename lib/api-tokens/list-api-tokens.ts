import "server-only";
import type { UserActor } from "../auth/actor";
import { assertCan, can } from "../auth/permissions";
import { db } from "../db/client";
import { notFound } from "../errors";

export type ApiTokenState = "active" | "expired" | "revoked";

/** The application's API tokens, newest first, for the people who manage them. Never the hash. */
export async function listApiTokens(actor: UserActor, applicationId: string) {
  if (!can(actor, "application.view", applicationId)) throw notFound("Application");
  assertCan(actor, "api-token.manage", applicationId);
  const rows = await db.apiToken.findMany({
    where: { applicationId },
    orderBy: { createdAt: "desc" },
    take: 200,
    select: {
      id: true,
      name: true,
      prefix: true,
      roles: true,
      expiresAt: true,
      revokedAt: true,
      lastUsedAt: true,
      createdAt: true,
      createdBy: { select: { id: true, name: true, email: true } },
    },
  });
  const now = Date.now();
  return rows.map((t) => ({ ...t, state: stateOf(t, now) }));
}

function stateOf(t: { revokedAt: Date | null; expiresAt: Date | null }, now: number): ApiTokenState {
  if (t.revokedAt) return "revoked";
  if (t.expiresAt && t.expiresAt.getTime() <= now) return "expired";
  return "active";
}
