// A release's status at a glance, the same on every page: on its way blue, accepted/approved green, rejected red,
// live in production green, reverted amber, superseded and withdrawn grey. The production states follow what
// production runs (lib/releases/production-state.ts); the sentence beside them says when, by whom and why.
import Link from "next/link";
import type { ProductionState } from "@/lib/releases/production-state";
import { formatTime } from "./deployment-status";
import { Badge } from "./ui";

type Tone = "gray" | "green" | "amber" | "red" | "blue";

export const RELEASE_STATUS: Record<string, { label: string; tone: Tone }> = {
  CANDIDATE: { label: "candidate", tone: "blue" },
  ACCEPTED: { label: "accepted", tone: "green" },
  REJECTED: { label: "rejected", tone: "red" },
  APPROVED: { label: "approved", tone: "green" },
  RELEASED: { label: "live in production", tone: "green" },
  REVERTED: { label: "reverted", tone: "amber" },
  SUPERSEDED: { label: "superseded", tone: "gray" },
  WITHDRAWN: { label: "withdrawn", tone: "gray" },
};

export function ReleaseStatusBadge({ status }: { status: string }) {
  const s = RELEASE_STATUS[status] ?? { label: status.toLowerCase(), tone: "gray" as const };
  return (
    <span data-testid="release-status">
      <Badge tone={s.tone}>{s.label}</Badge>
    </span>
  );
}

const names = (envs: { name: string }[]) => (envs.length <= 1 ? (envs[0]?.name ?? "production") : `${envs.slice(0, -1).map((e) => e.name).join(", ")} and ${envs.at(-1)!.name}`);

/** "Was live in Production, reverted to 1.0.0 on 2026-12-07 15:20 UTC by Olga Ops: “Checkout errors”." Null if never there. */
export function productionSentence(p: ProductionState): string | null {
  switch (p.state) {
    case "live":
      return `Live in ${names(p.environments)}.`;
    case "reverted":
      return `Was live in ${p.environment.name}, reverted to ${p.to?.version ?? "the build before it"} on ${formatTime(p.at)}${p.by ? ` by ${p.by}` : ""}${p.reason ? `: “${p.reason}”` : ""}.`;
    case "superseded":
      return `Was live in ${p.environment.name} until ${p.to?.version ?? "another build"} replaced it on ${formatTime(p.at)}${p.by ? ` (deployed by ${p.by})` : ""}.`;
    case "never":
      return null;
  }
}

const LINE_TONE = { live: "border-emerald-200 bg-emerald-50 text-emerald-900", reverted: "border-amber-300 bg-amber-50 text-amber-900", superseded: "border-slate-200 bg-slate-50 text-slate-700" };

/** The production sentence as a line of its own, linking to the revert or deployment that took the release out. */
export function ProductionStateLine({ production, className = "" }: { production: ProductionState | null; className?: string }) {
  if (!production || production.state === "never") return null;
  return (
    <p className={`rounded-md border px-3 py-2 text-sm ${LINE_TONE[production.state]} ${className}`} data-testid="production-state">
      {productionSentence(production)}
      {production.state !== "live" && (
        <>
          {" "}
          <Link href={`/deployments/${production.deploymentId}`} className="font-medium underline print:no-underline">
            {production.state === "reverted" ? "The revert" : "The deployment"} →
          </Link>
        </>
      )}
    </p>
  );
}
