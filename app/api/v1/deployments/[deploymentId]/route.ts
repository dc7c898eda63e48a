import { z } from "zod";
import { apiRoute } from "@/lib/entry/api-route";
import { getDeploymentStatus, MAX_WAIT_SECONDS } from "@/lib/releases/get-deployment-status";

const ZQuery = z.object({
  wait: z.coerce
    .number("Give the seconds to wait for the deployment to finish, e.g. ?wait=50.")
    .int("Give whole seconds.")
    .min(0, "Give 0 or more seconds.")
    .max(MAX_WAIT_SECONDS, `At most ${MAX_WAIT_SECONDS} seconds per request (proxies cut longer ones); ask again to wait longer.`)
    .default(0),
});

/**
 * A deployment's status and its servers' steps. `?wait=N` holds the answer until the deployment has finished or N
 * seconds have passed, so a pipeline waits for the rollout without a polling loop (docs/pipeline-api.md).
 */
export const GET = apiRoute({ params: z.object({ deploymentId: z.uuid() }), body: null, query: ZQuery }, ({ actor, params, query, request }) =>
  getDeploymentStatus(actor, params.deploymentId, { waitSeconds: query.wait, signal: request.signal }),
);
