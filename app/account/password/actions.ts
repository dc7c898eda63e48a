"use server";

import { runAction } from "@/lib/entry/action";
import { changeOwnPassword, ZChangeOwnPasswordRequestSchema } from "@/lib/users/change-own-password";

export async function changePasswordAction(formData: FormData) {
  return runAction({ name: "change-password", allowPasswordChange: true }, ZChangeOwnPasswordRequestSchema, formData, async (input, actor) => {
    await changeOwnPassword(actor, input);
    return { message: "Password changed. Your other sessions were signed out." };
  });
}
