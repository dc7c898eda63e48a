import "server-only";
import type { AuthenticatedAgent } from "./authenticate-agent";
import type { THeartbeatRequest, THeartbeatResponse } from "../contracts/agent-api";
import { sqlQuery } from "../db/client";
import { HEARTBEAT_INTERVAL_SECONDS } from "./heartbeat-timing";

/**
 * Records that the agent is alive and what its node runs. Not audited: it changes no decision, only what the UI
 * shows (online/offline, drift); deployments record what they change themselves.
 */
export async function recordHeartbeat(agent: AuthenticatedAgent, input: THeartbeatRequest): Promise<THeartbeatResponse> {
  // Release ids the node reports are kept only if they are releases of this target's own application. One
  // plain-SQL statement: a fleet heartbeats hundreds of times a second (see sqlQuery).
  const staged = [...new Set(input.stagedReleaseIds)];
  // What `current` is, whoever installed it (null from older agents, which do not say). For a build this agent
  // installed, the version is kept too: it names the build when it is not a release of this application.
  const c = input.current;
  const currentPath = c && "path" in c ? c.path : null;
  const currentRevision = c?.kind === "foreign" || c?.kind === "directory" ? c.revision : c?.kind === "release" ? c.version : null;
  await sqlQuery(
    `UPDATE "Target" SET
       "lastSeenAt" = now(),
       "updatedAt" = now(),
       "agentVersion" = $2,
       "agentHostname" = $3,
       "liveReleaseId" = (SELECT r.id FROM "Release" r WHERE r.id = $4::uuid AND r."applicationId" = $5::uuid),
       "stagedReleaseIds" = ARRAY(
         SELECT s.id FROM unnest($6::uuid[]) WITH ORDINALITY AS s(id, n)
         WHERE EXISTS (SELECT 1 FROM "Release" r WHERE r.id = s.id AND r."applicationId" = $5::uuid)
         ORDER BY s.n),
       "currentKind" = $7,
       "currentPath" = $8,
       "currentRevision" = $9
     WHERE id = $1::uuid`,
    [agent.targetId, input.agentVersion, input.hostname, input.liveReleaseId, agent.applicationId, staged, c?.kind ?? null, currentPath, currentRevision],
  );
  return { serverTime: new Date().toISOString(), heartbeatIntervalSeconds: HEARTBEAT_INTERVAL_SECONDS };
}
