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
  // Release ids the node reports are kept only if they are releases of this target's own application. One
  // statement: a fleet heartbeats hundreds of times a second.
  const staged = [...new Set(input.stagedReleaseIds)];
  await db.$executeRaw`
    UPDATE "Target" SET
      "lastSeenAt" = now(),
      "updatedAt" = now(),
      "agentVersion" = ${input.agentVersion},
      "agentHostname" = ${input.hostname},
      "liveReleaseId" = (SELECT r.id FROM "Release" r WHERE r.id = ${input.liveReleaseId}::uuid AND r."applicationId" = ${agent.applicationId}::uuid),
      "stagedReleaseIds" = ARRAY(
        SELECT s.id FROM unnest(${staged}::uuid[]) WITH ORDINALITY AS s(id, n)
        WHERE EXISTS (SELECT 1 FROM "Release" r WHERE r.id = s.id AND r."applicationId" = ${agent.applicationId}::uuid)
        ORDER BY s.n)
    WHERE id = ${agent.targetId}::uuid`;
  return { serverTime: new Date().toISOString(), heartbeatIntervalSeconds: HEARTBEAT_INTERVAL_SECONDS };
}
