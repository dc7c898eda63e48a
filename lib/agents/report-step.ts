import "server-only";
import type { TStepReport, TStepReportResponse } from "../contracts/agent-api";
import { db } from "../db/client";
import type { StepAction } from "../db/generated/enums";
import { AppError, notFound } from "../errors";
import { CHANNELS, notifyInTransaction } from "../events/wakeups";
import { advanceRollout } from "../rollouts/advance-rollout";
import type { AuthenticatedAgent } from "./authenticate-agent";
import { finishStep } from "./finish-step";
import { LEASE_SECONDS } from "./lease-timing";

/**
 * Whether the agent working on a step is to stop it: ops stopped the deployment. Never a rollback's: bringing the
 * switched nodes back is what the stop asks for, and a rollback stopped as it begins is only planned again.
 */
export function isStopAsked(step: { action: StepAction; deployment: { cancelRequestedAt: Date | null } }): boolean {
  return step.action !== "ROLLBACK" && step.deployment.cancelRequestedAt !== null;
}

/**
 * An agent's progress or result for a step it holds. The lease id is the fencing token: a report under any other
 * lease changes nothing (409 LEASE_LOST). Repeating a final report is answered as the first was, so an agent that
 * lost the response can retry safely. A final report lets the rollout engine take the next step at once.
 */
export async function reportStep(agent: AuthenticatedAgent, stepId: string, report: TStepReport): Promise<TStepReportResponse> {
  const step = await db.deploymentStep.findUnique({ where: { id: stepId }, include: { deployment: { select: { id: true, cancelRequestedAt: true } } } });
  if (!step || step.targetId !== agent.targetId) throw notFound("Step");
  const response = { cancelRequested: isStopAsked(step) };
  if (step.leaseId !== report.leaseId) throw leaseLost("This job was handed to another claim; stop working on it.");
  if (!["CLAIMED", "RUNNING"].includes(step.status)) {
    if (step.status === report.status) return response;
    throw leaseLost(`This step already ended as ${step.status.toLowerCase()}.`);
  }

  if (report.status === "RUNNING") {
    await db.$transaction(async (tx) => {
      const renewed = await tx.deploymentStep.updateMany({
        where: { id: stepId, leaseId: report.leaseId, status: { in: ["CLAIMED", "RUNNING"] } },
        data: {
          status: "RUNNING",
          startedAt: step.startedAt ?? new Date(),
          leaseExpiresAt: new Date(Date.now() + LEASE_SECONDS * 1000),
          ...(report.phase !== undefined ? { phase: report.phase } : {}),
          ...(report.message !== undefined ? { message: report.message } : {}),
          ...(report.progress !== undefined ? { progress: report.progress } : {}),
        },
      });
      if (renewed.count === 0) throw leaseLost("This step ended while the report was on its way.");
      await notifyInTransaction(tx, CHANNELS.deployment, step.deploymentId);
    });
    return response;
  }

  const final = report.status;
  const deploymentId = await db.$transaction(async (tx) => {
    // Lock the row and re-check the lease inside the transaction: the sweep may have expired it meanwhile.
    const [current] = await tx.$queryRaw<{ leaseId: string | null; status: string }[]>`
      SELECT "leaseId", status::text FROM "DeploymentStep" WHERE id = ${stepId}::uuid FOR UPDATE`;
    if (current?.leaseId !== report.leaseId) throw leaseLost("This job was handed to another claim; stop working on it.");
    if (current.status === final) return null;
    const id = await finishStep(tx, agent, stepId, { status: final, message: report.message ?? null, analysis: step.action === "ACTIVATE" ? (report.analysis ?? null) : null });
    if (!id) throw leaseLost(`This step already ended as ${current.status.toLowerCase()}.`);
    return id;
  });
  if (deploymentId) await advanceRollout(deploymentId);
  return response;
}

const leaseLost = (message: string) => new AppError("LEASE_LOST", message);
