import "server-only";
import { randomBytes } from "node:crypto";
import { z } from "zod";
import { recordAuditEvent } from "../audit/record-audit-event";
import type { UserActor } from "../auth/actor";
import { assertCan, can } from "../auth/permissions";
import { db } from "../db/client";
import { parseInput } from "../validation";
import { plural } from "../util/text";
import { AppError, notFound } from "../errors";
import { NOTIFICATION_EVENT_TYPES } from "./event-types";
import { ForbiddenDestination, resolveWebhookDestination } from "./webhook-destination";

export const ZCreateWebhookRequestSchema = z.object({
  applicationId: z.uuid(),
  url: z
    .string()
    .trim()
    .min(1, "Enter the URL that receives the events.")
    .max(2000, "Use at most 2,000 characters.")
    .pipe(z.url({ protocol: /^https?$/, error: "Enter an http:// or https:// URL, like https://ci.example.com/hooks/releasegate." })),
  // A checkbox group: absent when none is ticked, a string for one, an array for several.
  events: z.preprocess(
    (v) => (v === undefined ? [] : Array.isArray(v) ? v : [v]),
    z.array(z.enum(NOTIFICATION_EVENT_TYPES, "Choose events from the list.")).min(1, "Choose at least one event to send."),
  ),
});
export type TCreateWebhookRequest = z.input<typeof ZCreateWebhookRequestSchema>;

/** How long adding a webhook waits for its host name to resolve before accepting it unchecked (deliveries check). */
const RESOLVE_TIMEOUT_MS = 5_000;

/**
 * Refuses, on the URL field, a destination webhooks may not reach (webhook-destination.ts). A name that does not
 * resolve (yet, or not from here within a few seconds) is accepted: every delivery resolves and checks it again.
 */
async function assertDestinationAllowed(url: string): Promise<void> {
  const timeout = new Promise<null>((resolve) => setTimeout(resolve, RESOLVE_TIMEOUT_MS, null).unref());
  try {
    await Promise.race([resolveWebhookDestination(new URL(url)), timeout]);
  } catch (e) {
    if (e instanceof ForbiddenDestination) throw new AppError("INVALID_INPUT", e.explanation, { fieldErrors: { url: [e.explanation] } });
  }
}

/** 256 random bits, recognisable in a secrets store. */
const newWebhookSecret = () => `rgw_${randomBytes(32).toString("base64url")}`;

/**
 * Adds an outgoing webhook to an application. Its secret signs every delivery (HMAC-SHA256); it is returned this
 * once for the receiver's configuration and kept to sign with, never shown or recorded again.
 */
export async function createWebhook(actor: UserActor, raw: TCreateWebhookRequest) {
  const input = parseInput(ZCreateWebhookRequestSchema, raw);
  const app = await db.application.findUnique({ where: { id: input.applicationId } });
  if (!app || !can(actor, "application.view", app.id)) throw notFound("Application");
  assertCan(actor, "webhook.manage", app.id);
  await assertDestinationAllowed(input.url);
  const secret = newWebhookSecret();
  const events = [...new Set(input.events)];
  const webhook = await db.$transaction(async (tx) => {
    const w = await tx.webhook.create({ data: { applicationId: app.id, url: input.url, secret, events }, select: { id: true, url: true, events: true, createdAt: true } });
    await recordAuditEvent(tx, actor, {
      type: "WEBHOOK_CREATED",
      object: { type: "Webhook", id: w.id },
      scope: { customerId: app.customerId, applicationId: app.id },
      summary: `added a webhook to ${app.name} sending ${plural(events.length, "event type")} to ${new URL(input.url).host}`,
      after: { url: input.url, events },
    });
    return w;
  });
  return { webhook, secret };
}
