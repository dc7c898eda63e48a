import { z } from "zod";
import { requestRevert } from "@/lib/deployments/request-revert";
import { findEnvironmentByRef } from "@/lib/environments/find-environment-by-ref";
import { apiRoute } from "@/lib/entry/api-route";
import { ZText } from "@/lib/validation";

const ZParams = z.object({ applicationId: z.uuid() });
const ZBody = z.object({
  environment: ZText().trim().min(1, "Name the environment: its slug (production), its name or its id.").max(200),
  reason: ZText().trim().min(1, "Say why you revert: it goes into the record.").max(500),
});

/** Returns an environment to its previous release; poll the returned URL like a deployment's. */
export const POST = apiRoute({ params: ZParams, body: ZBody, status: 201 }, async ({ actor, params, body }) => {
  const { environment } = await findEnvironmentByRef(actor, params.applicationId, body.environment);
  const { deployment } = await requestRevert(actor, { environmentId: environment.id, reason: body.reason });
  return { deployment: { ...deployment, url: `/api/v1/deployments/${deployment.id}` } };
});
