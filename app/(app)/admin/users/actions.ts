"use server";

import { runAction } from "@/lib/entry/action";
import { createUser, ZCreateUserRequestSchema } from "@/lib/users/create-user";
import { resetUserPassword, ZResetUserPasswordRequestSchema } from "@/lib/users/reset-user-password";
import { setUserStatus, ZSetUserStatusRequestSchema } from "@/lib/users/set-user-status";

export async function createUserAction(formData: FormData) {
  return runAction({ name: "create-user" }, ZCreateUserRequestSchema, formData, async (input, actor) => {
    const { user, oneTimePassword } = await createUser(actor, input);
    return {
      message: `${user.email} created.`,
      data: { shownOnce: { label: `One-time password for ${user.email}`, value: oneTimePassword, note: "Give it to them securely. They choose their own password at first sign-in; it will not be shown again." } },
    };
  });
}

export async function setUserStatusAction(formData: FormData) {
  return runAction({ name: "set-user-status" }, ZSetUserStatusRequestSchema, formData, async (input, actor) => {
    await setUserStatus(actor, input);
    return { message: input.status === "DISABLED" ? "Disabled and signed out." : "Enabled." };
  });
}

export async function resetUserPasswordAction(formData: FormData) {
  return runAction({ name: "reset-user-password" }, ZResetUserPasswordRequestSchema, formData, async (input, actor) => {
    const { user, oneTimePassword } = await resetUserPassword(actor, input);
    return { message: "Password reset.", data: { shownOnce: { label: `New one-time password for ${user.email}`, value: oneTimePassword } } };
  });
}
