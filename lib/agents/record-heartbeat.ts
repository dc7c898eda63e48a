import "server-only";
import type { AuthenticatedAgent } from "./authenticate-agent";
import type { TBalancerToRead, THeartbeatRequest, THeartbeatResponse } from "../contracts/agent-api";
import { sqlQuery } from "../db/client";
import { HEARTBEAT_INTERVAL_SECONDS } from "./heartbeat-timing";

/**
 * Records that the agent is alive, what its node runs and how its balancers see it. Not audited: it changes no decision, only what the UI
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
  // The agent's readings of the balancers it was asked to read, for memberships of its own server only.
  const readings = (input.balancers ?? []).map((b) =>
    "error" in b
      ? { id: b.membershipId, error: b.error }
      : { id: b.membershipId, error: null, admin: b.adminState, status: b.status, sessions: b.sessions, check: b.check, responses: String(b.responses), http5xx: String(b.http5xx), rtime: b.rtimeMs },
  );
  // One round trip: the target, the readings (an error keeps the last good figures), and what to read next time.
  const toRead = await sqlQuery<TBalancerToRead>(
    `WITH target AS (
       UPDATE "Target" SET
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
       WHERE id = $1::uuid
       RETURNING id),
     readings AS (
       UPDATE "BalancerMembership" m SET
         "observedAt" = now(),
         "observedError" = r.error,
         "observedAdminState" = CASE WHEN r.error IS NULL THEN r.admin ELSE m."observedAdminState" END,
         "observedStatus" = CASE WHEN r.error IS NULL THEN r.status ELSE m."observedStatus" END,
         "observedSessions" = CASE WHEN r.error IS NULL THEN r.sessions ELSE m."observedSessions" END,
         "observedCheck" = CASE WHEN r.error IS NULL THEN r."check" ELSE m."observedCheck" END,
         "observedResponses" = CASE WHEN r.error IS NULL THEN r.responses::bigint ELSE m."observedResponses" END,
         "observed5xx" = CASE WHEN r.error IS NULL THEN r.http5xx::bigint ELSE m."observed5xx" END,
         "observedRtimeMs" = CASE WHEN r.error IS NULL THEN r.rtime ELSE m."observedRtimeMs" END
       FROM jsonb_to_recordset($10::jsonb) AS r(id uuid, error text, admin text, status text, sessions int, "check" text, responses text, http5xx text, rtime int)
       WHERE m.id = r.id AND m."targetId" = $1::uuid
       RETURNING m.id)
     SELECT m.id AS "membershipId", b.name AS balancer, b.address, m.backend, m.server
     FROM "BalancerMembership" m JOIN "Balancer" b ON b.id = m."balancerId"
     WHERE m."targetId" = $1::uuid AND b.kind = 'HAPROXY' AND b.address IS NOT NULL
     ORDER BY b.name, m.backend`,
    [agent.targetId, input.agentVersion, input.hostname, input.liveReleaseId, agent.applicationId, staged, c?.kind ?? null, currentPath, currentRevision, JSON.stringify(readings)],
  );
  return { serverTime: new Date().toISOString(), heartbeatIntervalSeconds: HEARTBEAT_INTERVAL_SECONDS, balancers: toRead };
}
