"use server";

import { createApplication, ZCreateApplicationRequestSchema } from "@/lib/applications/create-application";
import { createCustomer, ZCreateCustomerRequestSchema } from "@/lib/customers/create-customer";
import { runAction } from "@/lib/entry/action";

export async function createCustomerAction(formData: FormData) {
  return runAction({ name: "create-customer" }, ZCreateCustomerRequestSchema, formData, async (input, actor) => {
    const c = await createCustomer(actor, input);
    return { message: `Customer ${c.name} created.` };
  });
}

export async function createApplicationAction(formData: FormData) {
  return runAction({ name: "create-application" }, ZCreateApplicationRequestSchema, formData, async (input, actor) => {
    const a = await createApplication(actor, input);
    return { message: `Application ${a.name} created with QA, Acceptance and Production.` };
  });
}
