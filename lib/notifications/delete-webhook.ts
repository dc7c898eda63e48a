import "server-only";
import { z } from "zod";
import { recordAuditEvent } from "../audit/record-audit-event";
import type { UserActor } from "../auth/actor";
import { assertCan, can } from "../auth/permissions";
import { db } from "../db/client";
import { parseInput } from "../validation";
import { conflict, notFound } from "../errors";

export const ZDeleteWebhookRequestSchema = z.object({ webhookId: z.uuid() });
export type TDeleteWebhookRequest = z.infer<typeof ZDeleteWebhookRequestSchema>;

/** Removes a webhook and its delivery history; pending retries stop. The audit record keeps that it existed. */
export async function deleteWebhook(actor: UserActor, raw: TDeleteWebhookRequest) {
  const input = parseInput(ZDeleteWebhookRequestSchema, raw);
  const hook = await db.webhook.findUnique({ where: { id: input.webhookId }, include: { application: true } });
  if (!hook || !can(actor, "application.view", hook.applicationId)) throw notFound("Webhook");
  assertCan(actor, "webhook.manage", hook.applicationId);
  await db.$transaction(async (tx) => {
    const { count } = await tx.webhook.deleteMany({ where: { id: hook.id } });
    if (count !== 1) throw conflict("This webhook was already removed.");
    await recordAuditEvent(tx, actor, {
      type: "WEBHOOK_DELETED",
      object: { type: "Webhook", id: hook.id },
      scope: { customerId: hook.application.customerId, applicationId: hook.applicationId },
      summary: `removed the webhook to ${new URL(hook.url).host} from ${hook.application.name}`,
      before: { url: hook.url, events: hook.events },
    });
  });
  return { url: hook.url };
}
