import "server-only";
import type { TWhoAmIResponse } from "../contracts/agent-api";
import { sqlQuery } from "../db/client";
import type { AuthenticatedAgent } from "./authenticate-agent";

/**
 * What `releasegate-agent status` asks: the server this agent is enrolled as and the step it holds. A read only:
 * asking must not make a stopped agent look online (it does not touch lastSeenAt).
 */
export async function describeAgent(agent: AuthenticatedAgent): Promise<TWhoAmIResponse> {
  const [row] = await sqlQuery<{ name: string; environment: string; application: string; customer: string }>(
    `SELECT t.name, e.name AS environment, a.name AS application, c.name AS customer
     FROM "Target" t JOIN "Environment" e ON e.id = t."environmentId" JOIN "Application" a ON a.id = e."applicationId"
     JOIN "Customer" c ON c.id = a."customerId"
     WHERE t.id = $1::uuid`,
    [agent.targetId],
  );
  // A rollback's build is the one the deployment replaced (as claim-job.ts hands it out).
  const [job] = await sqlQuery<{ stepId: string; deploymentId: string; action: "STAGE" | "ACTIVATE" | "ROLLBACK"; version: string | null; status: "CLAIMED" | "RUNNING"; phase: string | null }>(
    `SELECT s.id AS "stepId", s."deploymentId", s.action::text AS action, r.version, s.status::text AS status, s.phase
     FROM "DeploymentStep" s JOIN "Deployment" d ON d.id = s."deploymentId"
     LEFT JOIN "Release" r ON r.id = CASE WHEN s.action = 'ROLLBACK' THEN d."previousReleaseId" ELSE d."releaseId" END
     WHERE s."targetId" = $1::uuid AND s.status IN ('CLAIMED', 'RUNNING')
     ORDER BY s."createdAt" LIMIT 1`,
    [agent.targetId],
  );
  return {
    targetId: agent.targetId,
    target: row ?? { name: "?", environment: "?", application: "?", customer: "?" },
    job: job ? { ...job, version: job.version ?? "an earlier build" } : null,
  };
}
