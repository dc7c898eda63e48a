import "server-only";
import { z } from "zod";
import { recordAuditEvent } from "../audit/record-audit-event";
import type { UserActor } from "../auth/actor";
import { assertCan, can } from "../auth/permissions";
import { db } from "../db/client";
import { conflict, notFound } from "../errors";

export const ZRevokeApiTokenRequestSchema = z.object({ tokenId: z.uuid() });
export type TRevokeApiTokenRequest = z.infer<typeof ZRevokeApiTokenRequestSchema>;

/**
 * Revokes a token: its next call is refused. Anyone who manages the application's tokens may revoke any of them,
 * so a teammate can stop a leaked token without waiting for its creator.
 */
export async function revokeApiToken(actor: UserActor, input: TRevokeApiTokenRequest) {
  const token = await db.apiToken.findUnique({ where: { id: input.tokenId }, include: { application: true } });
  if (!token || !can(actor, "application.view", token.applicationId)) throw notFound("API token");
  assertCan(actor, "api-token.manage", token.applicationId);
  const revokedAt = new Date();
  await db.$transaction(async (tx) => {
    // Conditional, so two clicks cannot both revoke (and both be audited).
    const updated = await tx.apiToken.updateMany({ where: { id: token.id, revokedAt: null }, data: { revokedAt } });
    if (updated.count === 0) throw conflict(`The token ${token.name} is already revoked.`);
    await recordAuditEvent(tx, actor, {
      type: "API_TOKEN_REVOKED",
      object: { type: "ApiToken", id: token.id },
      scope: { customerId: token.application.customerId, applicationId: token.applicationId },
      summary: `revoked API token ${token.name} (${token.prefix}…) on ${token.application.name}`,
      before: { name: token.name, prefix: token.prefix, roles: token.roles, revokedAt: null },
      after: { revokedAt: revokedAt.toISOString() },
    });
  });
  return { name: token.name };
}
