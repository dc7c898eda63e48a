"use server";

import { runAction } from "@/lib/entry/action";
import { createWebhook, ZCreateWebhookRequestSchema } from "@/lib/notifications/create-webhook";
import { deleteWebhook, ZDeleteWebhookRequestSchema } from "@/lib/notifications/delete-webhook";

export async function createWebhookAction(formData: FormData) {
  return runAction({ name: "create-webhook" }, ZCreateWebhookRequestSchema, formData, async (input, actor) => {
    const { webhook, secret } = await createWebhook(actor, input);
    return {
      message: `Webhook to ${new URL(webhook.url).host} added.`,
      data: {
        shownOnce: {
          label: "Signing secret",
          value: secret,
          note: "Copy it now into the receiver's configuration: it verifies the X-Releasegate-Signature header with it. It will not be shown again.",
        },
      },
    };
  });
}

export async function deleteWebhookAction(formData: FormData) {
  return runAction({ name: "delete-webhook" }, ZDeleteWebhookRequestSchema, formData, async (input, actor) => {
    const { url } = await deleteWebhook(actor, input);
    return { message: `Webhook to ${new URL(url).host} removed.` };
  });
}
