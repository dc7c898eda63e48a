"use client";

// Change freezes of an environment: the form ops use to freeze it (start, end, reason), and the list of freezes with
// a button to lift each one. Times are entered in the person's own time zone and sent as UTC instants, so what they
// see is what the server enforces.
import { useEffect, useId, useRef, useState } from "react";
import type { ActionResult } from "@/lib/entry/action-result";
import { formatTime } from "./deployment-status";
import { ActionForm, TextAreaField } from "./form";
import { Badge } from "./ui";

type Action = (formData: FormData) => Promise<ActionResult<undefined>>;

/** A date-and-time input in local time whose form value is the ISO instant (empty when not filled in). */
function LocalDateTimeField({ name, label, hint }: { name: string; label: string; hint?: string }) {
  const id = useId();
  const [iso, setIso] = useState("");
  const input = useRef<HTMLInputElement>(null);
  // The form resets after a success: the instant must go with the visible value.
  useEffect(() => {
    const form = input.current?.form;
    const clear = () => setIso("");
    form?.addEventListener("reset", clear);
    return () => form?.removeEventListener("reset", clear);
  }, []);
  return (
    <div>
      <label htmlFor={id} className="block text-sm font-medium text-slate-700">
        {label}
      </label>
      <input
        id={id}
        ref={input}
        type="datetime-local"
        onChange={(e) => {
          const local = e.currentTarget.value;
          const at = local ? new Date(local) : null;
          setIso(at && !Number.isNaN(at.getTime()) ? at.toISOString() : "");
        }}
        className="mt-1 block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm shadow-sm focus:border-indigo-500 focus:outline-none focus:ring-2 focus:ring-indigo-200"
      />
      <input type="hidden" name={name} value={iso} />
      {hint && <p className="mt-1 text-xs text-slate-500">{hint}</p>}
    </div>
  );
}

/** Freezes an environment; the lead's environment page and the application's freezes page show it to ops. */
export function FreezeForm({ environmentId, environmentName, create }: { environmentId: string; environmentName: string; create: Action }) {
  // Read in the browser after hydration (the server's time zone is not the person's).
  const [zone, setZone] = useState("your local time");
  useEffect(() => setZone(Intl.DateTimeFormat().resolvedOptions().timeZone), []);
  return (
    <ActionForm action={create} submitLabel={`Freeze ${environmentName}`} pendingLabel="Freezing…" resetOnSuccess>
      <input type="hidden" name="environmentId" value={environmentId} />
      <div className="grid gap-3 sm:grid-cols-2">
        <LocalDateTimeField name="startsAt" label="From (empty: now)" hint={`Times are in ${zone}.`} />
        <LocalDateTimeField name="endsAt" label="Until" />
      </div>
      <TextAreaField name="reason" label="Reason (shown to everyone who tries to deploy)" rows={2} placeholder="e.g. Black Friday sales" />
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
