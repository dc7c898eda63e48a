"use client";

import { useState } from "react";
import type { ActionResult } from "@/lib/entry/action-result";
import { ActionForm, Field, SelectField } from "./form";

export interface BalancerSettings {
  name: string;
  kind: "HAPROXY" | "HOOK";
  address: string | null;
  drainCommand: string | null;
  undrainCommand: string | null;
}

const KINDS = [
  { value: "HAPROXY", label: "HAProxy (runtime API)" },
  { value: "HOOK", label: "Commands (drain / undrain)" },
];

/** Adds a balancer to an environment, or changes one; only the chosen kind's fields show. */
export function BalancerForm({
  action,
  hidden,
  settings,
  submitLabel,
}: {
  action: (fd: FormData) => Promise<ActionResult<undefined>>;
  /** environmentId for a new balancer, balancerId to change one. */
  hidden: Record<string, string>;
  settings?: BalancerSettings;
  submitLabel: string;
}) {
  const [kind, setKind] = useState(settings?.kind ?? "HAPROXY");
  return (
    <ActionForm action={action} submitLabel={submitLabel} resetOnSuccess={!settings}>
      {Object.entries(hidden).map(([name, value]) => (
        <input key={name} type="hidden" name={name} value={value} />
      ))}
      <div className="grid gap-3 sm:grid-cols-2">
        <Field name="name" label="Name" defaultValue={settings?.name ?? ""} placeholder="e.g. haproxy-a" />
        <SelectField name="kind" label="Kind" options={KINDS} defaultValue={kind} onChange={(v) => setKind(v as BalancerSettings["kind"])} />
      </div>
      {kind === "HAPROXY" ? (
        <Field
          name="address"
          label="Runtime API address"
          defaultValue={settings?.address ?? ""}
          placeholder="e.g. /run/haproxy/admin.sock or 10.0.0.5:9999"
          hint="Where the servers' agents reach a stats socket with level admin: a socket path or host:port."
          monospace
        />
      ) : (
        <div className="grid gap-3 sm:grid-cols-2">
          <Field
            name="drainCommand"
            label="Drain command"
            defaultValue={settings?.drainCommand ?? ""}
            placeholder='e.g. lbctl drain "$RELEASEGATE_LB_SERVER"'
            hint="Runs on the server; returns once the balancer sends it nothing. Gets RELEASEGATE_LB_NAME, _BACKEND and _SERVER."
            monospace
          />
          <Field name="undrainCommand" label="Undrain command" defaultValue={settings?.undrainCommand ?? ""} placeholder='e.g. lbctl enable "$RELEASEGATE_LB_SERVER"' monospace />
        </div>
      )}
    </ActionForm>
  );
}
