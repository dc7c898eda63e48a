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

/**
 * A hole in a step's log: chunks fromSeq..toSeq are not there. `dropped`: the agent said it dropped them unsent (its
 * buffer filled while the control plane was unreachable). `pending`: the step still runs, they may yet arrive.
 * `missing`: the step ended and they never arrived (an agent that restarted, or an older one that dropped them
 * silently). Lines are numbered from 1 when the agent numbered its chunks; null when that cannot be known.
 */
export interface StepLogGap {
  fromSeq: number;
  toSeq: number;
  fromLine: number | null;
  toLine: number | null;
  reason: "dropped" | "pending" | "missing";
}

/** The shown part of a log in order: text as stored, and the holes between, so the page can mark them apart from it. */
export type StepLogSegment = { text: string } | { gap: StepLogGap };

export interface StepLogTail {
  /** The last `maxBytes` (at most) of the log, in seq order, starting at a line boundary when it was cut. */
  text: string;
  /** `text` with the holes it spans, in order. */
  segments: StepLogSegment[];
  /** Holes in the part of the log left out before `text`. */
  gapsBefore: number;
  /** Bytes left out before `text`. */
  omittedBytes: number;
  totalBytes: number;
  /** The next chunk number the server expects (what the text covers). */
  nextSeq: number;
}

/**
 * The end of a step's log for display, in chunk order, with every hole marked. Only the chunks that make up the
 * tail are read from the database (a log can be large; the view shows its last KBs); the holes come from the chunk
 * numbers alone. NOT_FOUND outside the actor's tenant, and for a step of another deployment than the one named.
 */
export async function readStepLogs(actor: UserActor, raw: TReadStepLogsRequest): Promise<StepLogTail> {
  const parsed = ZReadStepLogsRequestSchema.safeParse(raw);
  if (!parsed.success) throw notFound("Step");
  const { deploymentId, stepId, maxBytes } = parsed.data;
  const step = await db.deploymentStep.findUnique({
    where: { id: stepId },
    select: { deploymentId: true, logSeq: true, finishedAt: true, deployment: { select: { environment: { select: { applicationId: true } } } } },
  });
  if (!step || step.deploymentId !== deploymentId || !can(actor, "application.view", step.deployment.environment.applicationId)) throw notFound("Step");

  // Newest chunks first, summing sizes, keeping each chunk whose bytes start inside the tail window.
  const rows = await db.$queryRaw<{ seq: number; content: string; total: bigint }[]>`
    SELECT seq, content, total FROM (
      SELECT seq, content,
             sum(octet_length(content)) OVER (ORDER BY seq DESC) AS upto,
             octet_length(content) AS size,
             sum(octet_length(content)) OVER () AS total
      FROM "StepLog" WHERE "stepId" = ${stepId}::uuid AND "lostThroughSeq" IS NULL
    ) t
    WHERE upto - size < ${maxBytes}
    ORDER BY seq ASC`;
  const totalBytes = Number(rows[0]?.total ?? 0);
  const gaps = await findGaps(stepId, step.logSeq, step.finishedAt === null);

  // The window's chunks and the holes among them, in seq order; holes before its first chunk are only counted.
  const firstSeq = rows[0]?.seq ?? step.logSeq;
  const segments: StepLogSegment[] = [];
  let gapsBefore = gaps.filter((g) => g.toSeq < firstSeq).length;
  const inside = gaps.filter((g) => g.toSeq >= firstSeq);
  for (const row of rows) {
    while (inside[0] && inside[0].fromSeq < row.seq) segments.push({ gap: inside.shift()! });
    const last = segments.at(-1);
    if (last && "text" in last) last.text += row.content;
    else segments.push({ text: row.content });
  }
  for (const g of inside) segments.push({ gap: g });

  // Cut to the window, then to the next line so the first line shown is whole; holes cut off with it are counted.
  let excess = Buffer.byteLength(segments.map((x) => ("text" in x ? x.text : "")).join(""), "utf8") - maxBytes;
  while (excess > 0 && segments.length > 0) {
    const head = segments[0]!;
    if ("gap" in head) {
      segments.shift();
      gapsBefore++;
      continue;
    }
    const bytes = Buffer.from(head.text, "utf8");
    if (bytes.length <= excess) {
      segments.shift();
      excess -= bytes.length;
      continue;
    }
    const tail = bytes.subarray(excess).toString("utf8").replace(/^\uFFFD+/, "");
    const newline = tail.indexOf("\n");
    head.text = newline >= 0 && newline < tail.length - 1 ? tail.slice(newline + 1) : tail;
    excess = 0;
  }
  const text = segments.map((x) => ("text" in x ? x.text : "")).join("");
  return { text, segments, gapsBefore, omittedBytes: totalBytes - Buffer.byteLength(text, "utf8"), totalBytes, nextSeq: step.logSeq };
}

/**
 * The holes in chunks 0..nextSeq-1, from the chunk numbers alone (plus the line counts of the chunks just before a
 * hole, to number its first line).
 */
async function findGaps(stepId: string, nextSeq: number, running: boolean): Promise<StepLogGap[]> {
  // The common case, every chunk there and none reported lost, costs one count (the view reloads as chunks arrive).
  const [tally] = await db.$queryRaw<{ chunks: number; lost: number }[]>`
    SELECT count(*)::int AS chunks, count("lostThroughSeq")::int AS lost FROM "StepLog" WHERE "stepId" = ${stepId}::uuid`;
  if (tally && tally.lost === 0 && tally.chunks === nextSeq) return [];
  const rows = await db.stepLog.findMany({ where: { stepId }, orderBy: { seq: "asc" }, select: { seq: true, line: true, lostThroughSeq: true } });
  // The first chunk starts at line 1 whether or not its agent numbered it.
  const lineOf = (r: { seq: number; line: number | null } | undefined) => r?.line ?? (r?.seq === 0 ? 1 : null);
  const raw: { fromSeq: number; toSeq: number; dropped: boolean; fromLine: number | null; toLine?: number; prev: number | null; next: number | null }[] = [];
  // The first chunk with text after a seq (ascending seqs, so a binary search): where a hole ends.
  const textSeqs = rows.filter((r) => r.lostThroughSeq === null).map((r) => r.seq);
  const textAfter = (seq: number): number | null => {
    let lo = 0;
    let hi = textSeqs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (textSeqs[mid]! > seq) hi = mid;
      else lo = mid + 1;
    }
    return textSeqs[lo] ?? null;
  };
  let expected = 0;
  let prevText: number | null = null;
  for (const r of rows) {
    if (r.seq > expected) {
      // A hole right before a dropped range ends where that range's lines begin.
      const toLine = r.lostThroughSeq !== null && r.line !== null ? { toLine: r.line - 1 } : {};
      raw.push({ fromSeq: expected, toSeq: r.seq - 1, dropped: false, fromLine: null, ...toLine, prev: prevText, next: textAfter(r.seq - 1) });
    }
    if (r.lostThroughSeq !== null) {
      const from = Math.max(r.seq, expected);
      if (r.lostThroughSeq >= from) raw.push({ fromSeq: from, toSeq: r.lostThroughSeq, dropped: true, fromLine: from === r.seq ? r.line : null, prev: prevText, next: textAfter(r.lostThroughSeq) });
      expected = Math.max(expected, r.lostThroughSeq + 1);
    } else {
      prevText = r.seq;
      expected = Math.max(expected, r.seq + 1);
    }
  }
  if (expected < nextSeq) raw.push({ fromSeq: expected, toSeq: nextSeq - 1, dropped: false, fromLine: null, prev: prevText, next: null });
  if (raw.length === 0) return [];

  // Line numbers: a hole starts after the lines of the chunk before it and ends before the next chunk's first line.
  const bySeq = new Map(rows.map((r) => [r.seq, r]));
  const needCounts = [...new Set(raw.filter((g) => g.fromLine === null && g.prev !== null && lineOf(bySeq.get(g.prev)) !== null).map((g) => g.prev!))];
  const counts = new Map(
    needCounts.length
      ? (
          await db.$queryRaw<{ seq: number; lines: number }[]>`
            SELECT seq, (length(content) - length(replace(content, E'\n', '')))::int AS lines
            FROM "StepLog" WHERE "stepId" = ${stepId}::uuid AND seq = ANY(${needCounts}::int[])`
        ).map((r) => [r.seq, r.lines])
      : [],
  );
  return raw.map((g) => {
    const prevLine = g.prev !== null ? lineOf(bySeq.get(g.prev)) : null;
    const fromLine = g.fromLine ?? (prevLine !== null && g.prev !== null && counts.has(g.prev) ? prevLine + counts.get(g.prev)! : null);
    const nextLine = g.next !== null ? lineOf(bySeq.get(g.next)) : null;
    return {
      fromSeq: g.fromSeq,
      toSeq: g.toSeq,
      fromLine,
      toLine: g.toLine ?? (nextLine !== null ? nextLine - 1 : null),
      reason: g.dropped ? "dropped" : running ? "pending" : "missing",
    };
  });
}
