import type { ReactNode } from "react";
import { ActionForm, Field } from "./form";
import { Badge } from "./ui";
import type { ActionResult } from "@/lib/entry/action-result";
import type { TargetHealth } from "@/lib/targets/target-health";

type Action = (fd: FormData) => Promise<ActionResult<{ shownOnce?: { label: string; value: string; note?: string } } | undefined>>;

export interface ServerRow {
  id: string;
  name: string;
  health: TargetHealth;
  drift: boolean;
  /** What it runs, in words (lib/targets/target-health.ts whatRuns). */
  runs: string;
  /** It runs something Releasegate did not install. */
  outside?: boolean;
  agent: string | null;
  lastSeen: string | null;
  /** Where the server sits in the load balancer, e.g. "HAProxy be_web/web1". */
  balancer?: string;
}

const HEALTH: Record<TargetHealth, { label: string; tone: "green" | "red" | "amber" | "gray" }> = {
  online: { label: "online", tone: "green" },
  offline: { label: "offline", tone: "red" },
  "awaiting-agent": { label: "waiting for agent", tone: "amber" },
  revoked: { label: "revoked", tone: "gray" },
};

/** An environment's servers with their agent's state; ops also get add / rotate / revoke. */
export function ServerList({
  environmentId,
  environmentName,
  servers,
  manage,
  extra,
  className = "mt-3 border-t border-slate-100 pt-3",
}: {
  environmentId: string;
  environmentName: string;
  servers: ServerRow[];
  manage?: { add: Action; reissue: Action; revoke: Action };
  /** More per server (e.g. its load-balancer form), by server id. */
  extra?: Record<string, ReactNode>;
  /** The default separates the list from what is above it in an environment's card. */
  className?: string;
}) {
  return (
    <div className={className} data-testid={`servers-${environmentName}`}>
      {servers.length === 0 ? (
        <p className="text-xs text-slate-500">No servers yet.</p>
      ) : (
        <ul className="space-y-2">
          {servers.map((s) => (
            <li key={s.id} className="text-sm" data-testid={`server-${s.name}`}>
              <div className="flex flex-wrap items-center gap-2">
                <span className="font-medium">{s.name}</span>
                <Badge tone={HEALTH[s.health].tone}>{HEALTH[s.health].label}</Badge>
                {s.drift && <Badge tone="red">drift</Badge>}
                {s.outside && <Badge tone="amber">outside Releasegate</Badge>}
              </div>
              <p className="text-xs text-slate-500" data-testid="server-runs">
                {s.runs}
                {s.agent && ` · agent ${s.agent}`}
                {s.lastSeen && ` · seen ${s.lastSeen}`}
                {s.balancer && ` · ${s.balancer}`}
              </p>
              {manage && (
                <div className="mt-1 flex gap-2">
                  <ActionForm action={manage.reissue} inline variant="secondary" submitLabel="Rotate" confirm={`Rotate the agent credential of ${s.name}? Its current secret stops working at once.`}>
                    <input type="hidden" name="targetId" value={s.id} />
                  </ActionForm>
                  {s.health !== "revoked" && (
                    <ActionForm action={manage.revoke} inline variant="danger" submitLabel="Revoke" confirm={`Revoke the agent of ${s.name}? It is refused from its next call.`}>
                      <input type="hidden" name="targetId" value={s.id} />
                    </ActionForm>
                  )}
                </div>
              )}
              {extra?.[s.id]}
            </li>
          ))}
        </ul>
      )}
      {manage && (
        <details className="mt-3">
          <summary className="cursor-pointer text-xs font-medium text-indigo-700">Add a server to {environmentName}</summary>
          <div className="mt-2">
            <ActionForm action={manage.add} submitLabel="Add server">
              <input type="hidden" name="environmentId" value={environmentId} />
              <Field name="name" label="Server name" placeholder="web-1" />
            </ActionForm>
          </div>
        </details>
      )}
    </div>
  );
}
