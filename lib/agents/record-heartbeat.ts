import "server-only";
import type { AgentActor } from "../auth/actor";
import type { THeartbeatRequest, THeartbeatResponse } from "../contracts/agent-api";
import { db } from "../db/client";
import { HEARTBEAT_INTERVAL_SECONDS } from "./heartbeat-timing";

/**
 * Records that the agent is alive and what its node runs. Not audited: it changes no decision, only what the UI
 * shows (online/offline, drift); deployments record what they change themselves.
 */
export async function recordHeartbeat(agent: AgentActor, input: THeartbeatRequest): Promise<THeartbeatResponse> {
  // Release ids the node reports are kept only if they are releases of this target's own application.
  const target = await db.target.findUniqueOrThrow({ where: { id: agent.targetId }, select: { environment: { select: { applicationId: true } } } });
  const reported = [...new Set([...(input.liveReleaseId ? [input.liveReleaseId] : []), ...input.stagedReleaseIds])];
  const known = new Set(
    (await db.release.findMany({ where: { id: { in: reported }, applicationId: target.environment.applicationId }, select: { id: true } })).map((r) => r.id),
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
