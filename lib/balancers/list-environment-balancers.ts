import "server-only";
import type { UserActor } from "../auth/actor";
import { can } from "../auth/permissions";
import { db } from "../db/client";

/** A reading older than this is shown as stale: the server's agent has not read the balancer for three heartbeats. */
export const READING_STALE_MS = 35_000;

/**
 * An environment's balancers, each with the servers behind it and its own latest view of each (as the servers'
 * agents read it from HAProxy's runtime API). Addresses and commands are operational settings: only people who
 * manage the servers get them. The caller has checked that the environment belongs to the application.
 */
export async function listEnvironmentBalancers(actor: UserActor, applicationId: string, environmentId: string) {
  if (!can(actor, "application.view", applicationId)) return [];
  const manages = can(actor, "target.manage", applicationId);
  const balancers = await db.balancer.findMany({
    where: { environmentId, environment: { applicationId } },
    orderBy: { name: "asc" },
    include: { memberships: { include: { target: { select: { id: true, name: true, status: true } } }, orderBy: [{ target: { name: "asc" } }, { backend: "asc" }] } },
  });
  return balancers.map((b) => ({
    id: b.id,
    name: b.name,
    kind: b.kind,
    address: manages ? b.address : null,
    drainCommand: manages ? b.drainCommand : null,
    undrainCommand: manages ? b.undrainCommand : null,
    members: b.memberships.map((m) => ({
      id: m.id,
      targetId: m.target.id,
      targetName: m.target.name,
      revoked: m.target.status === "REVOKED",
      backend: m.backend,
      server: m.server,
      observed: m.observedAt
        ? {
            at: m.observedAt,
            error: m.observedError,
            adminState: m.observedAdminState,
            status: m.observedStatus,
            sessions: m.observedSessions,
            check: m.observedCheck,
            responses: m.observedResponses === null ? null : Number(m.observedResponses),
            http5xx: m.observed5xx === null ? null : Number(m.observed5xx),
            rtimeMs: m.observedRtimeMs,
          }
        : null,
    })),
  }));
}

export type EnvironmentBalancer = Awaited<ReturnType<typeof listEnvironmentBalancers>>[number];
