"use server";

import { createFreeze, ZCreateFreezeRequestSchema } from "@/lib/approvals/create-freeze";
import { endFreeze, ZEndFreezeRequestSchema } from "@/lib/approvals/end-freeze";
import { runAction } from "@/lib/entry/action";

const utc = (d: Date) => `${d.toISOString().slice(0, 16).replace("T", " ")} UTC`;

export async function createFreezeAction(formData: FormData) {
  return runAction({ name: "create-freeze" }, ZCreateFreezeRequestSchema, formData, async (input, actor) => {
    const freeze = await createFreeze(actor, input);
    return { message: `${freeze.environment.name} is frozen from ${utc(freeze.startsAt)} until ${utc(freeze.endsAt)}.` };
  });
}

export async function endFreezeAction(formData: FormData) {
  return runAction({ name: "end-freeze" }, ZEndFreezeRequestSchema, formData, async (input, actor) => {
    const { environment } = await endFreeze(actor, input);
    return { message: `The freeze of ${environment.name} is over.` };
  });
}
