import "server-only";
import { hashCredential } from "../agents/credentials";
import type { ApiTokenActor, RequestContext } from "../auth/actor";
import { db } from "../db/client";
import type { Role } from "../db/generated/enums";
import { AppError } from "../errors";
import { API_TOKEN_PATTERN, tokenLabel } from "./token";

// lastUsedAt tells people whether a token is still in use; it is not a security control, so it is refreshed at most
// this often instead of on every call.
const LAST_USED_RESOLUTION_MS = 60_000;

const refuse = (message: string) => new AppError("UNAUTHENTICATED", message);

/**
 * The pipeline behind an `Authorization: Bearer rgt_...` header, or UNAUTHENTICATED. Checked in full on every call:
 * a revoked or expired token, or one whose creator was disabled, is refused at once. The token acts with the roles
 * it was given that its creator holds on the application now (the administrator flag counts for nothing here, as at
 * creation), so taking a role from a person takes it from their tokens on their very next call.
 */
export async function authenticateApiToken(authorization: string | null, ctx: RequestContext): Promise<ApiTokenActor> {
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "")?.[1];
  if (!bearer || !API_TOKEN_PATTERN.test(bearer)) {
    throw refuse("This API takes an API token: send Authorization: Bearer rgt_… (create one in the application's settings). A browser session does not count.");
  }
  const token = await db.apiToken.findUnique({
    where: { tokenHash: hashCredential(bearer) },
    include: {
      application: { select: { name: true } },
      createdBy: { select: { status: true, memberships: { select: { applicationId: true, role: true } } } },
    },
  });
  if (!token) throw refuse("This API token is not valid.");
  if (token.revokedAt) throw refuse(`This API token (${token.name}) was revoked. Create a new one in the application's settings.`);
  const now = new Date();
  if (token.expiresAt && token.expiresAt <= now) {
    throw refuse(`This API token (${token.name}) expired on ${token.expiresAt.toISOString().slice(0, 10)}. Create a new one in the application's settings.`);
  }
  if (token.createdBy.status !== "ACTIVE") throw refuse(`The account that created this API token (${token.name}) is disabled, so the token no longer works.`);
  const held = new Set(token.createdBy.memberships.filter((m) => m.applicationId === token.applicationId).map((m) => m.role));
  const roles = token.roles.filter((r) => held.has(r));
  if (roles.length === 0) {
    throw refuse(`The person who created this API token (${token.name}) no longer holds its roles on ${token.application.name}, so the token no longer works.`);
  }
  if (!token.lastUsedAt || now.getTime() - token.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
    // Conditional, so a burst of calls writes once.
    await db.apiToken.updateMany({
      where: { id: token.id, OR: [{ lastUsedAt: null }, { lastUsedAt: { lt: new Date(now.getTime() - LAST_USED_RESOLUTION_MS) } }] },
      data: { lastUsedAt: now },
    });
  }
  return {
    type: "API_TOKEN",
    tokenId: token.id,
    createdById: token.createdById,
    applicationId: token.applicationId,
    label: tokenLabel(token.name, token.prefix),
    isPlatformAdmin: false,
    roles: new Map<string, ReadonlySet<Role>>([[token.applicationId, new Set(roles)]]),
    ctx,
  };
}
