import "server-only";
import type { RequestContext } from "../auth/actor";
import { recordAuditEvent } from "../audit/record-audit-event";
import type { TEnrollRequest, TEnrollResponse } from "../contracts/agent-api";
import { db } from "../db/client";
import { AppError } from "../errors";
import { hashCredential, newAgentSecret } from "./credentials";
import { HEARTBEAT_INTERVAL_SECONDS } from "./heartbeat-timing";

/**
 * Exchanges a one-time enrollment token for the agent's own secret (Buildkite's two-tier scheme). The token works
 * once and only before it expires; the secret is returned here and never again (only its hash is kept).
 */
export async function enrollAgent(input: TEnrollRequest, ctx: RequestContext): Promise<TEnrollResponse> {
  const agentSecret = newAgentSecret();
  return db.$transaction(async (tx) => {
    const target = await tx.target.findUnique({
      where: { enrollmentTokenHash: hashCredential(input.token) },
      include: { environment: { include: { application: { include: { customer: true } } } } },
    });
    // One message for unknown, used and expired tokens: the caller learns nothing about which.
    const refused = new AppError("UNAUTHENTICATED", "This enrollment token is not valid (unknown, already used or expired). Ask ops for a new one.");
    if (!target || target.status === "REVOKED" || !target.enrollmentExpiresAt || target.enrollmentExpiresAt.getTime() <= Date.now()) throw refused;
    // Conditional on the token still being there, so two agents racing with one token cannot both enroll.
    const claimed = await tx.target.updateMany({
      where: { id: target.id, enrollmentTokenHash: target.enrollmentTokenHash },
      data: {
        status: "ACTIVE",
        enrollmentTokenHash: null,
        enrollmentExpiresAt: null,
        agentSecretHash: hashCredential(agentSecret),
        agentSecretPrefix: agentSecret.slice(0, 10),
        agentHostname: input.hostname,
        agentVersion: input.agentVersion,
        lastSeenAt: new Date(),
      },
    });
    if (claimed.count === 0) throw refused;
    const env = target.environment;
    const app = env.application;
    await recordAuditEvent(
      tx,
      { type: "AGENT", targetId: target.id, label: `agent ${target.name} (${app.name} / ${env.name})`, ctx },
      {
        type: "AGENT_ENROLLED",
        object: { type: "Target", id: target.id },
        scope: { customerId: app.customerId, applicationId: app.id, environmentId: env.id },
        summary: `agent on ${input.hostname} enrolled as ${target.name} (${app.name} / ${env.name}), version ${input.agentVersion}`,
        after: { hostname: input.hostname, agentVersion: input.agentVersion, secretPrefix: agentSecret.slice(0, 10) },
      },
    );
    return {
      targetId: target.id,
      agentSecret,
      target: { name: target.name, environment: env.name, application: app.name, customer: app.customer.name },
      heartbeatIntervalSeconds: HEARTBEAT_INTERVAL_SECONDS,
    };
  });
}
