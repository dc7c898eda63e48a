"use client";

import { useState } from "react";
import type { ActionResult } from "@/lib/entry/action-result";
import { ActionForm, Field, SelectField } from "./form";

export interface BalancerSettings {
  lbKind: "NONE" | "HAPROXY" | "HOOK";
  lbAddress: string | null;
  lbBackend: string | null;
  lbServer: string | null;
  drainCommand: string | null;
  undrainCommand: string | null;
}

const KINDS = [
  { value: "NONE", label: "None: the server is updated in place" },
  { value: "HAPROXY", label: "HAProxy (runtime API)" },
  { value: "HOOK", label: "Commands (drain / undrain)" },
];

/** How one server leaves and rejoins the load balancer while it is updated; only the chosen kind's fields show. */
export function LoadBalancerForm({
  action,
  targetId,
  serverName,
  settings,
}: {
  action: (fd: FormData) => Promise<ActionResult<undefined>>;
  targetId: string;
  serverName: string;
  settings: BalancerSettings;
}) {
  const [kind, setKind] = useState(settings.lbKind);
  return (
    <ActionForm action={action} submitLabel="Save load balancer" resetOnSuccess={false}>
      <input type="hidden" name="targetId" value={targetId} />
      <SelectField name="lbKind" label={`Load balancer of ${serverName}`} options={KINDS} defaultValue={settings.lbKind} onChange={(v) => setKind(v as BalancerSettings["lbKind"])} />
      {kind === "HAPROXY" && (
        <div className="grid gap-3 sm:grid-cols-3">
          <Field
            name="lbAddress"
            label="Runtime API address"
            defaultValue={settings.lbAddress ?? ""}
            placeholder="e.g. /run/haproxy/admin.sock"
            hint="Socket path or host:port of a stats socket with level admin."
            monospace
          />
          <Field name="lbBackend" label="Backend" defaultValue={settings.lbBackend ?? ""} placeholder="e.g. be_web" monospace />
          <Field name="lbServer" label="Server name in HAProxy" defaultValue={settings.lbServer ?? ""} placeholder="e.g. web1" monospace />
        </div>
      )}
      {kind === "HOOK" && (
        <div className="grid gap-3 sm:grid-cols-2">
          <Field name="drainCommand" label="Drain command" defaultValue={settings.drainCommand ?? ""} placeholder="e.g. lbctl drain $NODE" monospace />
          <Field name="undrainCommand" label="Undrain command" defaultValue={settings.undrainCommand ?? ""} placeholder="e.g. lbctl enable $NODE" monospace />
        </div>
      )}
    </ActionForm>
  );
}
