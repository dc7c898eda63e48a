import { z } from "zod";
import { apiRoute } from "@/lib/entry/api-route";
import { getDeploymentStatus } from "@/lib/releases/get-deployment-status";

/** A deployment's status and its servers' steps, for pipelines that wait for the rollout to finish. */
export const GET = apiRoute({ params: z.object({ deploymentId: z.uuid() }), body: null }, ({ actor, params }) => getDeploymentStatus(actor, params.deploymentId));
