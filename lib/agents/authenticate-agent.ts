import "server-only";
import type { AgentActor, RequestContext } from "../auth/actor";
import { AGENT_SECRET_PREFIX } from "../contracts/agent-api";
import { sqlQuery } from "../db/client";
import { AppError } from "../errors";
import { hashCredential } from "./credentials";

/** An agent and where its server sits, as every agent call needs to scope what it touches. */
export type AuthenticatedAgent = AgentActor & { environmentId: string; applicationId: string };

/**
 * The agent behind an `Authorization: Bearer rga_...` header, or UNAUTHENTICATED. Only the bearer secret counts:
 * a browser's session cookie never authenticates an agent call. Checked on every call, so a revoked or rotated
 * agent is refused at once.
 */
export async function authenticateAgent(authorization: string | null, ctx: RequestContext): Promise<AuthenticatedAgent> {
  const secret = /^Bearer (\S+)$/.exec(authorization ?? "")?.[1];
  if (!secret || !secret.startsWith(AGENT_SECRET_PREFIX)) {
    throw new AppError("UNAUTHENTICATED", "An agent secret is required: Authorization: Bearer rga_…");
  }
  // Every call of every agent starts here (a fleet makes hundreds a second): one indexed join in plain SQL (see
  // sqlQuery for why not Prisma).
  const [target] = await sqlQuery<{ id: string; name: string; environmentId: string; environmentName: string; applicationId: string; applicationName: string }>(
    `SELECT t.id, t.name, t."environmentId", e.name AS "environmentName", a.id AS "applicationId", a.name AS "applicationName"
     FROM "Target" t JOIN "Environment" e ON e.id = t."environmentId" JOIN "Application" a ON a.id = e."applicationId"
     WHERE t."agentSecretHash" = $1 AND t.status = 'ACTIVE'`,
    [hashCredential(secret)],
  );
  if (!target) throw new AppError("UNAUTHENTICATED", "This agent secret is not valid (revoked or rotated). Enroll the agent again.");
  return {
    type: "AGENT",
    targetId: target.id,
    environmentId: target.environmentId,
    applicationId: target.applicationId,
    label: `agent ${target.name} (${target.applicationName} / ${target.environmentName})`,
    ctx,
  };
}
