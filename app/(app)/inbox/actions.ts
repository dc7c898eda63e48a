"use server";

import { runAction } from "@/lib/entry/action";
import { markNotificationsRead, ZMarkNotificationsReadRequestSchema } from "@/lib/notifications/mark-notifications-read";

export async function markNotificationsReadAction(formData: FormData) {
  return runAction({ name: "mark-notifications-read" }, ZMarkNotificationsReadRequestSchema, formData, async (input, actor) => {
    const { marked } = await markNotificationsRead(actor, input);
    return { message: input.notificationId ? undefined : marked === 0 ? "Nothing unread." : `${marked} marked read.` };
  });
}
