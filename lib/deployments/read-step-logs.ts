import "server-only";
import { z } from "zod";
import type { UserActor } from "../auth/actor";
import { can } from "../auth/permissions";
import { db } from "../db/client";
import { notFound } from "../errors";

/** What the live view shows of a step's log: its end, where the failure is. */
export const DEFAULT_LOG_TAIL_BYTES = 64 * 1024;

export const ZReadStepLogsRequestSchema = z.object({
  deploymentId: z.uuid(),
  stepId: z.uuid(),
  maxBytes: z.coerce.number().int().min(1).max(1024 * 1024).default(DEFAULT_LOG_TAIL_BYTES),
});
export type TReadStepLogsRequest = z.input<typeof ZReadStepLogsRequestSchema>;

export interface StepLogTail {
  /** The last `maxBytes` (at most) of the log, in seq order, starting at a line boundary when it was cut. */
  text: string;
  /** Bytes left out before `text`. */
  omittedBytes: number;
  totalBytes: number;
  /** The next chunk number the server expects (what the text covers). */
  nextSeq: number;
}

/**
 * The end of a step's log for display, in chunk order. Only the chunks that make up the tail are read from the
 * database (a log can be large; the view shows its last KBs). NOT_FOUND outside the actor's tenant, and for a step
 * of another deployment than the one named.
 */
export async function readStepLogs(actor: UserActor, raw: TReadStepLogsRequest): Promise<StepLogTail> {
  const parsed = ZReadStepLogsRequestSchema.safeParse(raw);
  if (!parsed.success) throw notFound("Step");
  const { deploymentId, stepId, maxBytes } = parsed.data;
  const step = await db.deploymentStep.findUnique({
    where: { id: stepId },
    select: { deploymentId: true, logSeq: true, deployment: { select: { environment: { select: { applicationId: true } } } } },
  });
  if (!step || step.deploymentId !== deploymentId || !can(actor, "application.view", step.deployment.environment.applicationId)) throw notFound("Step");

  // Newest chunks first, summing sizes, keeping each chunk whose bytes start inside the tail window.
  const rows = await db.$queryRaw<{ seq: number; content: string; total: bigint }[]>`
    SELECT seq, content, total FROM (
      SELECT seq, content,
             sum(octet_length(content)) OVER (ORDER BY seq DESC) AS upto,
             octet_length(content) AS size,
             sum(octet_length(content)) OVER () AS total
      FROM "StepLog" WHERE "stepId" = ${stepId}::uuid
    ) t
    WHERE upto - size < ${maxBytes}
    ORDER BY seq ASC`;
  const totalBytes = Number(rows[0]?.total ?? 0);
  let text = rows.map((r) => r.content).join("");
  let bytes = Buffer.from(text, "utf8");
  if (bytes.length > maxBytes) {
    // Cut to the window, then to the next line so the first line shown is whole.
    const tail = bytes.subarray(bytes.length - maxBytes).toString("utf8").replace(/^\uFFFD+/, "");
    const newline = tail.indexOf("\n");
    text = newline >= 0 && newline < tail.length - 1 ? tail.slice(newline + 1) : tail;
    bytes = Buffer.from(text, "utf8");
  }
  return { text, omittedBytes: totalBytes - bytes.length, totalBytes, nextSeq: step.logSeq };
}
