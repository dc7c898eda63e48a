// Small helpers for benchmark figures: percentiles and medians of repeated runs, printed as aligned rows.
export function percentile(samples: number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export const median = (samples: number[]): number => percentile(samples, 50);

export function row(label: string, value: string, note = ""): void {
  console.log(`  ${label.padEnd(52)} ${value.padStart(16)}  ${note}`);
}

export const fmt = (n: number, digits = 1): string => n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
