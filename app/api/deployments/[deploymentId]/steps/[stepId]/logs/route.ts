import { z } from "zod";
import { readStepLogs } from "@/lib/deployments/read-step-logs";
import { sessionRoute } from "@/lib/entry/route";

export const dynamic = "force-dynamic";

const ZQuery = z.object({ maxBytes: z.coerce.number().int().min(1).max(1024 * 1024).optional() });

// The end of one step's log (JSON), for the expandable log on the deployment page.
export async function GET(request: Request, { params }: { params: Promise<{ deploymentId: string; stepId: string }> }) {
  const { deploymentId, stepId } = await params;
  return sessionRoute(ZQuery, async (query, actor) =>
    Response.json(await readStepLogs(actor, { deploymentId, stepId, ...query }), { headers: { "cache-control": "no-store" } }),
  )(request);
}
