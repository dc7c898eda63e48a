"use server";

import { updateRolloutSettings, ZUpdateRolloutSettingsRequestSchema } from "@/lib/environments/update-rollout-settings";
import { runAction } from "@/lib/entry/action";
import { updateTargetBalancer, ZUpdateTargetBalancerRequestSchema } from "@/lib/targets/update-target-balancer";

export async function updateRolloutSettingsAction(formData: FormData) {
  return runAction({ name: "update-rollout-settings" }, ZUpdateRolloutSettingsRequestSchema, formData, async (input, actor) => {
    const { changed } = await updateRolloutSettings(actor, input);
    return { message: changed.length ? "Rollout settings saved." : "Nothing changed." };
  });
}

export async function updateTargetBalancerAction(formData: FormData) {
  return runAction({ name: "update-target-balancer" }, ZUpdateTargetBalancerRequestSchema, formData, async (input, actor) => {
    const { target, changed } = await updateTargetBalancer(actor, input);
    return { message: changed.length ? `Load balancer of ${target.name} saved.` : "Nothing changed." };
  });
}
