import { z } from "zod";
import { requestDeployment } from "@/lib/deployments/request-deployment";
import { apiRoute } from "@/lib/entry/api-route";
import { resolveDeployRequest, ZApiDeployRequestSchema } from "@/lib/releases/resolve-deploy-request";

const ZParams = z.object({ applicationId: z.uuid() });

/** Deploys a release (by version or id) to an environment (by slug, name or id); poll the returned URL. */
export const POST = apiRoute({ params: ZParams, body: ZApiDeployRequestSchema, status: 201 }, async ({ actor, params, body }) => {
  const { deployment } = await requestDeployment(actor, await resolveDeployRequest(actor, params.applicationId, body));
  return { deployment: { ...deployment, url: `/api/v1/deployments/${deployment.id}` } };
});
