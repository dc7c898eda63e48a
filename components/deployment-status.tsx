// Status at a glance, the same everywhere: running blue, rolling back amber, succeeded green, failed red,
// cancelled grey.
import { Badge } from "./ui";

type Tone = "gray" | "green" | "amber" | "red" | "blue";

const DEPLOYMENT: Record<string, { label: string; tone: Tone }> = {
  SCHEDULED: { label: "scheduled", tone: "gray" },
  QUEUED: { label: "queued", tone: "blue" },
  RUNNING: { label: "running", tone: "blue" },
  ROLLING_BACK: { label: "rolling back", tone: "amber" },
  SUCCEEDED: { label: "succeeded", tone: "green" },
  FAILED: { label: "failed", tone: "red" },
  CANCELLED: { label: "cancelled", tone: "gray" },
};

const STEP: Record<string, { label: string; tone: Tone }> = {
  PENDING: { label: "waiting", tone: "gray" },
  CLAIMED: { label: "starting", tone: "blue" },
  RUNNING: { label: "running", tone: "blue" },
  SUCCEEDED: { label: "done", tone: "green" },
  FAILED: { label: "failed", tone: "red" },
  SKIPPED: { label: "skipped", tone: "gray" },
  CANCELLED: { label: "cancelled", tone: "gray" },
  INTERRUPTED: { label: "interrupted", tone: "red" },
};

export const STEP_ACTION_LABELS: Record<string, string> = { STAGE: "Stage", ACTIVATE: "Activate", ROLLBACK: "Roll back" };
export const KIND_LABELS: Record<string, string> = { DEPLOY: "deploy", REVERT: "revert" };

const BAR: Record<Tone, string> = {
  gray: "bg-slate-400",
  green: "bg-emerald-500",
  amber: "bg-amber-500",
  red: "bg-rose-500",
  blue: "bg-indigo-500",
};

export const deploymentTone = (status: string): Tone => DEPLOYMENT[status]?.tone ?? "gray";

export function DeploymentStatusBadge({ status, stopping = false, paused = false }: { status: string; stopping?: boolean; paused?: boolean }) {
  const s = DEPLOYMENT[status] ?? { label: status.toLowerCase(), tone: "gray" as const };
  return (
    <span className="inline-flex items-center gap-1" data-testid="deployment-status">
      <Badge tone={s.tone}>
        {(status === "RUNNING" || status === "ROLLING_BACK") && <span className={`mr-1 inline-block h-1.5 w-1.5 animate-pulse rounded-full ${BAR[s.tone]}`} aria-hidden />}
        {s.label}
      </Badge>
      {stopping && <Badge tone="amber">stopping</Badge>}
      {paused && !stopping && <Badge tone="amber">paused</Badge>}
    </span>
  );
}

export function StepStatusBadge({ status }: { status: string }) {
  const s = STEP[status] ?? { label: status.toLowerCase(), tone: "gray" as const };
  return <Badge tone={s.tone}>{s.label}</Badge>;
}

/** A thin bar; `label` is what assistive technology reads ("4 of 6 steps"). */
export function ProgressBar({ value, tone = "blue", label, className = "" }: { value: number; tone?: Tone; label: string; className?: string }) {
  const pct = Math.round(Math.max(0, Math.min(1, value)) * 100);
  return (
    <div
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={pct}
      className={`h-2 w-full overflow-hidden rounded-full bg-slate-100 ${className}`}
    >
      <div className={`h-full rounded-full transition-all duration-500 ${BAR[tone]}`} style={{ width: `${pct}%` }} />
    </div>
  );
}

/** "1 min 05 s", "2 h 03 min", "3 d 04 h": how long something took, has been running, or is still to wait. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, "0")} s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${String(m % 60).padStart(2, "0")} min`;
  return `${Math.floor(h / 24)} d ${String(h % 24).padStart(2, "0")} h`;
}

/** "2026-11-22 14:03 UTC": absolute, unambiguous across time zones (the audit record uses UTC too). */
export function formatTime(d: Date | string | null | undefined, withSeconds = false): string {
  if (!d) return "—";
  const iso = (typeof d === "string" ? new Date(d) : d).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, withSeconds ? 19 : 16)} UTC`;
}

/** A scheduled deployment that the gates would refuse if its time came now, and why (lib/deployments/scheduled-deployment-blockers.ts). */
export function WillNotStart({ blockers, className = "" }: { blockers: { message: string }[]; className?: string }) {
  if (blockers.length === 0) return null;
  return (
    <p className={`rounded-md border border-rose-200 bg-rose-50 text-rose-900 ${className}`} data-testid="scheduled-blocked">
      <span className="font-medium">Will not start as things stand:</span> {blockers.map((b) => b.message).join(" ")}
    </p>
  );
}
