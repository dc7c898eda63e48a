// How the deployment page words a hole in a step's log (lib/deployments/read-step-logs.ts finds them). Pure, so the
// wording is unit-tested (step-log-gap.test.ts).

export interface LogGap {
  fromSeq: number;
  toSeq: number;
  fromLine: number | null;
  toLine: number | null;
  reason: "dropped" | "pending" | "missing";
}

const WHY: Record<LogGap["reason"], { past: string; why: string }> = {
  dropped: { past: "were lost", why: "the agent's buffer filled while it could not reach the control plane" },
  pending: { past: "have not arrived yet", why: "the agent sends what it kept once it reaches the control plane" },
  missing: { past: "never arrived", why: "the agent may have restarted or lost its connection" },
};

/** "Lines 120–340 were lost: the agent's buffer filled while it could not reach the control plane." */
export function describeLogGap(gap: LogGap): string {
  const { past, why } = WHY[gap.reason];
  const one = gap.fromLine !== null && gap.fromLine === gap.toLine;
  if (gap.fromLine !== null && gap.toLine !== null && gap.toLine >= gap.fromLine) {
    return `${one ? `Line ${gap.fromLine}` : `Lines ${gap.fromLine}–${gap.toLine}`} ${one ? past.replace(/^were/, "was").replace(/^have/, "has") : past}: ${why}.`;
  }
  if (gap.fromLine !== null) return `Lines from ${gap.fromLine} on ${past}: ${why}.`;
  const chunks = gap.fromSeq === gap.toSeq ? `chunk ${gap.fromSeq}` : `chunks ${gap.fromSeq}–${gap.toSeq}`;
  return `Part of the log (${chunks}) ${past.replace(/^were/, "was").replace(/^have/, "has")}: ${why}.`;
}
