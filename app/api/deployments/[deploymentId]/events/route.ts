import { z } from "zod";
import { type DeploymentWatchEvent, watchDeployment } from "@/lib/deployments/watch-deployment";
import { eventStreamResponse, type ServerSentEvent } from "@/lib/entry/event-stream";
import { sessionRoute } from "@/lib/entry/route";

export const dynamic = "force-dynamic";

const ZQuery = z.object({ since: z.string().max(200).optional() });

// The live rollout view's feed: `event: change` whenever the deployment changes, `: ping` every 15 s, `event: end`
// once it has finished. The browser re-reads the page on each change (components/live-refresh.tsx).
export async function GET(request: Request, { params }: { params: Promise<{ deploymentId: string }> }) {
  const { deploymentId } = await params;
  return sessionRoute(ZQuery, async (query, actor) => {
    const stop = new AbortController();
    const events = await watchDeployment(actor, { deploymentId, ...query }, AbortSignal.any([request.signal, stop.signal]));
    return eventStreamResponse(toMessages(events), stop);
  })(request);
}

async function* toMessages(events: AsyncGenerator<DeploymentWatchEvent>): AsyncGenerator<ServerSentEvent> {
  for await (const e of events) yield e === "ping" ? "ping" : { event: e };
}
