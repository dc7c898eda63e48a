import "server-only";
import type { AuthenticatedAgent } from "./authenticate-agent";
import type { THeartbeatRequest, THeartbeatResponse } from "../contracts/agent-api";
import { db } from "../db/client";
import { HEARTBEAT_INTERVAL_SECONDS } from "./heartbeat-timing";

/**
 * Records that the agent is alive and what its node runs. Not audited: it changes no decision, only what the UI
 * shows (online/offline, drift); deployments record what they change themselves.
 */
export async function recordHeartbeat(agent: AuthenticatedAgent, input: THeartbeatRequest): Promise<THeartbeatResponse> {
  // Release ids the node reports are kept only if they are releases of this target's own application.
  const reported = [...new Set([...(input.liveReleaseId ? [input.liveReleaseId] : []), ...input.stagedReleaseIds])];
  const known = new Set(
    (await db.release.findMany({ where: { id: { in: reported }, applicationId: agent.applicationId }, select: { id: true } })).map((r) => r.id),
  );
  await db.target.update({
    where: { id: agent.targetId },
    data: {
      lastSeenAt: new Date(),
      agentVersion: input.agentVersion,
      agentHostname: input.hostname,
      liveReleaseId: input.liveReleaseId && known.has(input.liveReleaseId) ? input.liveReleaseId : null,
      stagedReleaseIds: input.stagedReleaseIds.filter((id) => known.has(id)),
    },
  });
  return { serverTime: new Date().toISOString(), heartbeatIntervalSeconds: HEARTBEAT_INTERVAL_SECONDS };
}
