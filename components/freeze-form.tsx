"use client";

// Change freezes of an environment: the form ops use to freeze it (start, end, reason), and the list of freezes with
// a button to lift each one. Times are entered in the person's own time zone and sent as UTC instants, so what they
// see is what the server enforces.
import type { ActionResult } from "@/lib/entry/action-result";
import { formatTime } from "./deployment-status";
import { ActionForm, LocalDateTimeField, TextAreaField } from "./form";
import { Badge } from "./ui";

type Action = (formData: FormData) => Promise<ActionResult<undefined>>;

/** Freezes an environment; the lead's environment page and the application's freezes page show it to ops. */
export function FreezeForm({ environmentId, environmentName, create }: { environmentId: string; environmentName: string; create: Action }) {
  return (
    <ActionForm action={create} submitLabel={`Freeze ${environmentName}`} pendingLabel="Freezing…" resetOnSuccess>
      <input type="hidden" name="environmentId" value={environmentId} />
      <div className="grid gap-3 sm:grid-cols-2">
        <LocalDateTimeField name="startsAt" label="From (empty: now)" />
        <LocalDateTimeField name="endsAt" label="Until" />
      </div>
      <TextAreaField name="reason" label="Reason (shown to everyone who tries to deploy)" rows={2} maxLength={500} placeholder="e.g. Black Friday sales" />
    </ActionForm>
  );
}

export interface FreezeRow {
  id: string;
  reason: string;
  startsAt: string;
  endsAt: string;
  createdBy: string;
  state: "active" | "planned" | "over";
}

const STATE = { active: { label: "frozen now", tone: "red" }, planned: { label: "planned", tone: "amber" }, over: { label: "over", tone: "gray" } } as const;

/** An environment's freezes, current and planned first; ops (`end` given) may lift or call off each. */
export function FreezeList({ environmentName, freezes, end }: { environmentName: string; freezes: FreezeRow[]; end?: Action }) {
  if (freezes.length === 0) return <p className="text-sm text-slate-500">{environmentName} has no freezes.</p>;
  return (
    <ul className="divide-y divide-slate-100" data-testid={`freezes-${environmentName}`}>
      {freezes.map((f) => (
        <li key={f.id} className="flex flex-wrap items-center justify-between gap-2 py-2 text-sm" data-testid="freeze">
          <div>
            <Badge tone={STATE[f.state].tone}>{STATE[f.state].label}</Badge> <span className="font-medium text-slate-900">{f.reason}</span>
            <p className="text-xs text-slate-500">
              {formatTime(f.startsAt)} → {formatTime(f.endsAt)} · by {f.createdBy}
            </p>
          </div>
          {end && f.state !== "over" && (
            <ActionForm
              action={end}
              inline
              variant="secondary"
              submitLabel={f.state === "active" ? "End freeze now" : "Call off"}
              confirm={f.state === "active" ? `End the freeze of ${environmentName} now (${f.reason})?` : `Call off the planned freeze of ${environmentName} (${f.reason})?`}
            >
              <input type="hidden" name="freezeId" value={f.id} />
            </ActionForm>
          )}
        </li>
      ))}
    </ul>
  );
}
