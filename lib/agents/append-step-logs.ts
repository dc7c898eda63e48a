import "server-only";
import type { TStepLogRequest, TStepReportResponse } from "../contracts/agent-api";
import { db } from "../db/client";
import { isStopAsked } from "./report-step";
import { AppError, notFound } from "../errors";
import { CHANNELS, notifyInTransaction } from "../events/wakeups";
import type { AuthenticatedAgent } from "./authenticate-agent";

/**
 * Stores log chunks of a step the agent holds (or held: the last lines may arrive just after the final report).
 * Chunks are keyed by (step, seq): a chunk sent twice after a lost response is stored once, and readers order by
 * seq, so the log reads in order whatever order retries arrive in. A range the agent reports lost (it dropped those
 * chunks unsent) is stored as one placeholder row at its first seq, so the log view can say so (read-step-logs.ts).
 */
export async function appendStepLogs(agent: AuthenticatedAgent, stepId: string, input: TStepLogRequest): Promise<TStepReportResponse> {
  const step = await db.deploymentStep.findUnique({ where: { id: stepId }, include: { deployment: { select: { cancelRequestedAt: true } } } });
  if (!step || step.targetId !== agent.targetId) throw notFound("Step");
  if (step.leaseId !== input.leaseId) throw new AppError("LEASE_LOST", "This job was handed to another claim; its logs are no longer accepted.");
  const lost = input.lost ?? [];
  const next = Math.max(...input.chunks.map((c) => c.seq), ...lost.map((r) => r.toSeq)) + 1;
  await db.$transaction(async (tx) => {
    await tx.stepLog.createMany({
      data: [
        ...input.chunks.map((c) => ({ stepId, seq: c.seq, content: c.text, line: c.line ?? null })),
        ...lost.map((r) => ({ stepId, seq: r.fromSeq, content: "", line: r.fromLine ?? null, lostThroughSeq: r.toSeq })),
      ],
      skipDuplicates: true,
    });
    await tx.deploymentStep.updateMany({ where: { id: stepId, logSeq: { lt: next } }, data: { logSeq: next } });
    await notifyInTransaction(tx, CHANNELS.deployment, step.deploymentId);
  });
  return { cancelRequested: isStopAsked(step) };
}
