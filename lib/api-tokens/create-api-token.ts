import "server-only";
import { z } from "zod";
import { hashCredential } from "../agents/credentials";
import { recordAuditEvent } from "../audit/record-audit-event";
import type { UserActor } from "../auth/actor";
import { assertCan, can } from "../auth/permissions";
import { db } from "../db/client";
import { AppError, conflict, notFound } from "../errors";
import { displayPrefix, newApiToken, TOKEN_ROLES } from "./token";

const ROLE_NAMES: Record<(typeof TOKEN_ROLES)[number], string> = { DEVELOPER: "Developer", OPS: "Ops", AUDITOR: "Auditor" };

export const ZCreateApiTokenRequestSchema = z.object({
  applicationId: z.uuid(),
  name: z
    .string()
    .trim()
    .min(1, "Name the token after what uses it, like github-actions.")
    .max(64, "Use at most 64 characters.")
    .regex(/^[A-Za-z0-9][A-Za-z0-9 ._-]*$/, "Use letters, digits, spaces, dots, dashes and underscores, like ci-main."),
  // A checkbox group: absent when none is ticked, a string for one, an array for several.
  roles: z.preprocess(
    (v) => (v === undefined ? [] : Array.isArray(v) ? v : [v]),
    z.array(z.enum(TOKEN_ROLES, "A token can carry the Developer, Ops or Auditor role.")).min(1, "Choose at least one role for the token."),
  ),
  /** Days until the token stops working; empty = never. */
  expiresInDays: z.preprocess(
    (v) => (v === "" || v === "never" || v === null ? undefined : v),
    z.coerce.number().int("Choose a whole number of days.").min(1, "At least one day.").max(365, "At most a year; create a new token then.").optional(),
  ),
});
export type TCreateApiTokenRequest = z.infer<typeof ZCreateApiTokenRequestSchema>;

/**
 * Creates a token a build pipeline uses to call /api/v1 on one application. It carries at most the roles its creator
 * holds there, and when it is used the creator must still hold them (lib/api-tokens/authenticate-api-token.ts). No
 * exception for platform administrators: the permission matrix keeps them out of the release procedure (they may not
 * upload or deploy), and a token must not be the way around it. An administrator who runs a pipeline grants
 * themselves the role first, in the open (ROLE_GRANTED is audited). The plaintext is returned this once; only its
 * hash is stored.
 */
export async function createApiToken(actor: UserActor, input: TCreateApiTokenRequest) {
  const app = await db.application.findUnique({ where: { id: input.applicationId } });
  if (!app || !can(actor, "application.view", input.applicationId)) throw notFound("Application");
  assertCan(actor, "api-token.manage", app.id);
  const roles = [...new Set(input.roles)];
  const held = actor.roles.get(app.id) ?? new Set();
  const missing = roles.filter((r) => !held.has(r));
  if (missing.length > 0) {
    const names = missing.map((r) => ROLE_NAMES[r]).join(" and ");
    throw new AppError("FORBIDDEN", `A token can only carry roles you hold on ${app.name}, and you are not ${names} there.`, {
      fieldErrors: { roles: [`You do not hold ${names} on ${app.name}.`] },
      scope: { applicationId: app.id },
    });
  }
  const plaintext = newApiToken();
  const prefix = displayPrefix(plaintext);
  const expiresAt = input.expiresInDays === undefined ? null : new Date(Date.now() + input.expiresInDays * 24 * 60 * 60_000);
  const token = await db.$transaction(async (tx) => {
    // Serialises token creation per application, so the name check below cannot race a twin request.
    await tx.$queryRaw`SELECT id FROM "Application" WHERE id = ${app.id}::uuid FOR UPDATE`;
    const twin = await tx.apiToken.findFirst({
      where: { applicationId: app.id, name: input.name, revokedAt: null, OR: [{ expiresAt: null }, { expiresAt: { gt: new Date() } }] },
      select: { id: true },
    });
    if (twin) throw conflict(`${app.name} already has an active token named ${input.name}. Revoke it first, or choose another name.`);
    const t = await tx.apiToken.create({
      data: { applicationId: app.id, name: input.name, prefix, tokenHash: hashCredential(plaintext), roles, createdById: actor.id, expiresAt },
      select: { id: true, name: true, prefix: true, roles: true, expiresAt: true, createdAt: true },
    });
    await recordAuditEvent(tx, actor, {
      type: "API_TOKEN_CREATED",
      object: { type: "ApiToken", id: t.id },
      scope: { customerId: app.customerId, applicationId: app.id },
      summary: `created API token ${t.name} (${t.prefix}…) with ${roles.join(", ")} on ${app.name}`,
      after: { name: t.name, prefix: t.prefix, roles, expiresAt: expiresAt?.toISOString() ?? null },
    });
    return t;
  });
  return { token, plaintext };
}
