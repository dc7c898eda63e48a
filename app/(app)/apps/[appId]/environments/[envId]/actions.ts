"use server";

import { addBalancerMember, ZAddBalancerMemberRequestSchema } from "@/lib/balancers/add-balancer-member";
import { createBalancer, ZCreateBalancerRequestSchema } from "@/lib/balancers/create-balancer";
import { deleteBalancer, ZDeleteBalancerRequestSchema } from "@/lib/balancers/delete-balancer";
import { removeBalancerMember, ZRemoveBalancerMemberRequestSchema } from "@/lib/balancers/remove-balancer-member";
import { updateBalancer, ZUpdateBalancerRequestSchema } from "@/lib/balancers/update-balancer";
import { updateRolloutSettings, ZUpdateRolloutSettingsRequestSchema } from "@/lib/environments/update-rollout-settings";
import { runAction } from "@/lib/entry/action";

export async function updateRolloutSettingsAction(formData: FormData) {
  return runAction({ name: "update-rollout-settings" }, ZUpdateRolloutSettingsRequestSchema, formData, async (input, actor) => {
    const { changed } = await updateRolloutSettings(actor, input);
    return { message: changed.length ? "Rollout settings saved." : "Nothing changed." };
  });
}

export async function createBalancerAction(formData: FormData) {
  return runAction({ name: "create-balancer" }, ZCreateBalancerRequestSchema, formData, async (input, actor) => {
    const balancer = await createBalancer(actor, input);
    return { message: `Balancer ${balancer.name} added. Put its servers behind it.` };
  });
}

export async function updateBalancerAction(formData: FormData) {
  return runAction({ name: "update-balancer" }, ZUpdateBalancerRequestSchema, formData, async (input, actor) => {
    const { balancer, changed } = await updateBalancer(actor, input);
    return { message: changed.length ? `Balancer ${balancer.name} saved.` : "Nothing changed." };
  });
}

export async function deleteBalancerAction(formData: FormData) {
  return runAction({ name: "delete-balancer" }, ZDeleteBalancerRequestSchema, formData, async (input, actor) => {
    const { balancer } = await deleteBalancer(actor, input);
    return { message: `Balancer ${balancer.name} removed.` };
  });
}

export async function addBalancerMemberAction(formData: FormData) {
  return runAction({ name: "add-balancer-member" }, ZAddBalancerMemberRequestSchema, formData, async (input, actor) => {
    const { balancer, target } = await addBalancerMember(actor, input);
    return { message: `${target.name} is behind ${balancer.name}.` };
  });
}

export async function removeBalancerMemberAction(formData: FormData) {
  return runAction({ name: "remove-balancer-member" }, ZRemoveBalancerMemberRequestSchema, formData, async (input, actor) => {
    const { balancer, target } = await removeBalancerMember(actor, input);
    return { message: `${target.name} taken off ${balancer.name}.` };
  });
}
