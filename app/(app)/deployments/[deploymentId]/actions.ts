"use server";

import { cancelDeployment, ZCancelDeploymentSchema } from "@/lib/deployments/cancel-deployment";
import { continueDeployment, ZContinueDeploymentSchema } from "@/lib/deployments/continue-deployment";
import { runAction } from "@/lib/entry/action";

export async function cancelDeploymentAction(formData: FormData) {
  return runAction({ name: "cancel-deployment" }, ZCancelDeploymentSchema, formData, async (input, actor) => {
    const { previousStatus } = await cancelDeployment(actor, input);
    return {
      message:
        previousStatus === "SCHEDULED" ? "Scheduled deployment cancelled: nothing was changed." : "Stopping: servers already updated are being returned to the previous release.",
    };
  });
}

export async function continueDeploymentAction(formData: FormData) {
  return runAction({ name: "continue-deployment" }, ZContinueDeploymentSchema, formData, async (input, actor) => {
    await continueDeployment(actor, input);
    return { message: "Continuing with the next site." };
  });
}
