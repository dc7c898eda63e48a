"use server";

import { createApiToken, ZCreateApiTokenRequestSchema } from "@/lib/api-tokens/create-api-token";
import { revokeApiToken, ZRevokeApiTokenRequestSchema } from "@/lib/api-tokens/revoke-api-token";
import { runAction } from "@/lib/entry/action";
import { createEnvironment, ZCreateEnvironmentRequestSchema } from "@/lib/environments/create-environment";
import { deleteEnvironment, ZDeleteEnvironmentRequestSchema } from "@/lib/environments/delete-environment";
import { reorderEnvironments, ZReorderEnvironmentsRequestSchema } from "@/lib/environments/reorder-environments";
import { updateEnvironment, ZUpdateEnvironmentRequestSchema } from "@/lib/environments/update-environment";
import { grantRole, ZGrantRoleRequestSchema } from "@/lib/memberships/grant-role";
import { revokeRole, ZRevokeRoleRequestSchema } from "@/lib/memberships/revoke-role";

export async function createEnvironmentAction(formData: FormData) {
  return runAction({ name: "create-environment" }, ZCreateEnvironmentRequestSchema, formData, async (input, actor) => {
    const e = await createEnvironment(actor, input);
    return { message: `${e.name} added at the end of the lifecycle.` };
  });
}

export async function updateEnvironmentAction(formData: FormData) {
  return runAction({ name: "update-environment" }, ZUpdateEnvironmentRequestSchema, formData, async (input, actor) => {
    const e = await updateEnvironment(actor, input);
    return { message: `${e.name} saved.` };
  });
}

export async function reorderEnvironmentsAction(formData: FormData) {
  return runAction({ name: "reorder-environments" }, ZReorderEnvironmentsRequestSchema, formData, async (input, actor) => {
    await reorderEnvironments(actor, input);
  });
}

export async function deleteEnvironmentAction(formData: FormData) {
  return runAction({ name: "delete-environment" }, ZDeleteEnvironmentRequestSchema, formData, async (input, actor) => {
    await deleteEnvironment(actor, input);
    return { message: "Environment removed." };
  });
}

export async function grantRoleAction(formData: FormData) {
  return runAction({ name: "grant-role" }, ZGrantRoleRequestSchema, formData, async (input, actor) => {
    await grantRole(actor, input);
    return { message: "Role granted." };
  });
}

export async function revokeRoleAction(formData: FormData) {
  return runAction({ name: "revoke-role" }, ZRevokeRoleRequestSchema, formData, async (input, actor) => {
    await revokeRole(actor, input);
  });
}

export async function createApiTokenAction(formData: FormData) {
  return runAction({ name: "create-api-token" }, ZCreateApiTokenRequestSchema, formData, async (input, actor) => {
    const { token, plaintext } = await createApiToken(actor, input);
    return {
      message: `Token ${token.name} created.`,
      data: {
        shownOnce: {
          label: `API token ${token.name}`,
          value: plaintext,
          note: "Copy it now into your pipeline's secrets (as RELEASEGATE_TOKEN): it will not be shown again.",
        },
      },
    };
  });
}

export async function revokeApiTokenAction(formData: FormData) {
  return runAction({ name: "revoke-api-token" }, ZRevokeApiTokenRequestSchema, formData, async (input, actor) => {
    const { name } = await revokeApiToken(actor, input);
    return { message: `Token ${name} revoked.` };
  });
}
