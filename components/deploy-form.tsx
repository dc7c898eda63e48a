"use client";

// The deploy form of one environment: which release, now or at a chosen time (a maintenance window, entered in
// the person's own time zone), why, and for a release that needs a database migration, what it will do there and
// what is missing. The server checks everything again (lib/deployments/request-deployment.ts).
import { type ReactNode, useState } from "react";
import type { ActionResult } from "@/lib/entry/action-result";
import { ActionForm, Field, LocalDateTimeField, SelectField } from "./form";

type Action = (fd: FormData) => Promise<ActionResult<{ redirectTo?: string } | undefined>>;

export interface DeployFormRelease {
  releaseId: string;
  label: string;
  disabled: boolean;
}

export interface DeployFormProps {
  action: Action;
  environment: { id: string; name: string };
  releases: DeployFormRelease[];
  defaultReleaseId: string | undefined;
  /** Ops may deploy through a freeze with a reason: `required` while one is on, `optional` while one is planned. */
  freezeOverride: "none" | "optional" | "required";
  /** Under the time field: the next freeze, so the window avoids it. */
  scheduleHint?: ReactNode;
  /** Per release that needs a migration: what the form shows once it is picked, and the question to confirm, if any. */
  migration: Record<string, { details: ReactNode; confirm: string | null }>;
}

export function DeployForm({ action, environment: env, releases, defaultReleaseId, freezeOverride, scheduleHint, migration }: DeployFormProps) {
  const [releaseId, setReleaseId] = useState(defaultReleaseId ?? "");
  const [timing, setTiming] = useState<"now" | "later">("now");
  const picked = migration[releaseId];
  return (
    <ActionForm
      action={action}
      submitLabel={timing === "now" ? `Deploy to ${env.name}` : `Schedule deployment to ${env.name}`}
      pendingLabel={timing === "now" ? "Starting…" : "Scheduling…"}
      confirm={picked?.confirm ?? undefined}
      className="space-y-2"
    >
      <input type="hidden" name="environmentId" value={env.id} />
      <SelectField
        name="releaseId"
        label="Release"
        defaultValue={defaultReleaseId}
        onChange={setReleaseId}
        options={releases.map((r) => ({ value: r.releaseId, label: r.label, disabled: r.disabled }))}
      />
      {picked?.details}
      <fieldset>
        <legend className="block text-sm font-medium text-slate-700">When</legend>
        <div className="mt-1 flex flex-wrap gap-x-4 gap-y-1 text-sm text-slate-700">
          <label className="flex items-center gap-1.5">
            <input type="radio" name="timing" value="now" checked={timing === "now"} onChange={() => setTiming("now")} />
            Deploy now
          </label>
          <label className="flex items-center gap-1.5">
            <input type="radio" name="timing" value="later" checked={timing === "later"} onChange={() => setTiming("later")} />
            Schedule for…
          </label>
        </div>
      </fieldset>
      {/* Hidden, not removed, while "now" is chosen: a time typed before stays for the next switch. */}
      <div className={timing === "later" ? "space-y-1" : "hidden"}>
        <LocalDateTimeField name="scheduledFor" label="Start at" hint="The gates are checked again when it starts." />
        {scheduleHint}
      </div>
      <Field name="reason" label="Reason (optional)" maxLength={500} placeholder="Fixes checkout rounding" />
      {freezeOverride !== "none" && (
        <Field
          name="freezeOverrideReason"
          label="Freeze override reason"
          maxLength={500}
          hint={
            freezeOverride === "required"
              ? "Required to deploy now, during this freeze, or at a time a freeze covers; it is recorded."
              : "Only needed to deploy at a time the planned freeze covers; it is recorded."
          }
        />
      )}
    </ActionForm>
  );
}
