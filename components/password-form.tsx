"use client";

import { ActionForm, Field } from "./form";
import type { ActionResult } from "@/lib/entry/action-result";

/** The change-password form; on success it goes home with a full navigation (the session may have changed). */
export function PasswordForm({ action }: { action: (fd: FormData) => Promise<ActionResult> }) {
  async function submit(fd: FormData) {
    const result = await action(fd);
    if (result.ok) window.location.assign("/");
    return result;
  }
  return (
    <ActionForm action={submit} submitLabel="Save password" pendingLabel="Saving…">
      <Field name="currentPassword" label="Current password" type="password" autoComplete="current-password" />
      <Field name="newPassword" label="New password" type="password" autoComplete="new-password" hint="At least 12 characters." />
      <Field name="confirmPassword" label="New password again" type="password" autoComplete="new-password" />
    </ActionForm>
  );
}
