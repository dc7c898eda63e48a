import type { ActionResult } from "@/lib/entry/action-result";
import { BalancerForm } from "./balancer-form";
import { ActionForm, Field, SelectField } from "./form";
import { Badge, EmptyState } from "./ui";

type Action = (fd: FormData) => Promise<ActionResult<undefined>>;

export interface BalancerMemberView {
  id: string;
  targetName: string;
  revoked: boolean;
  backend: string;
  server: string;
  observed: {
    at: Date;
    error: string | null;
    adminState: string | null;
    status: string | null;
    sessions: number | null;
    check: string | null;
    responses: number | null;
    http5xx: number | null;
    rtimeMs: number | null;
  } | null;
}

export interface BalancerView {
  id: string;
  name: string;
  kind: "HAPROXY" | "HOOK";
  address: string | null;
  drainCommand: string | null;
  undrainCommand: string | null;
  members: BalancerMemberView[];
}

export interface BalancerManage {
  create: Action;
  update: Action;
  remove: Action;
  addMember: Action;
  removeMember: Action;
  /** The environment's servers that may be put behind a balancer. */
  servers: { id: string; name: string }[];
}

/** Older than three heartbeats: the agent has stopped reading the balancer (offline, or the balancer hangs). */
const STALE_MS = 35_000;

function ago(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return s < 90 ? `${s} s ago` : s < 5400 ? `${Math.round(s / 60)} min ago` : `${Math.round(s / 3600)} h ago`;
}

/** How the balancer itself sees a server, at a glance. */
function StateBadge({ o }: { o: NonNullable<BalancerMemberView["observed"]> }) {
  if (o.adminState === "MAINT") return <Badge tone="gray">out (MAINT)</Badge>;
  if (o.adminState === "DRAIN") return <Badge tone="amber">draining</Badge>;
  const status = o.status ?? "";
  if (/^DOWN/.test(status)) return <Badge tone="red">in rotation, DOWN</Badge>;
  if (/^(UP|no check|OPEN)/.test(status)) return <Badge tone="green">serving ({status})</Badge>;
  return <Badge tone="amber">{status || "unknown"}</Badge>;
}

/**
 * An environment's load balancers: each with its own live view of the servers behind it (as their agents read it
 * from HAProxy's runtime API on every heartbeat), and for ops the forms to define balancers and memberships.
 */
export function BalancerPanel({ environmentId, balancers, now, manage }: { environmentId: string; balancers: BalancerView[]; now: Date; manage?: BalancerManage }) {
  return (
    <div className="space-y-5" data-testid="balancers">
      {balancers.length === 0 && (
        <EmptyState title="No load balancer">
          Servers are updated in place: requests that reach a server while it is updated may fail.{manage ? " Add the balancers in front of this environment below." : ""}
        </EmptyState>
      )}
      {balancers.map((b) => {
        return (
          <section key={b.id} aria-label={`Balancer ${b.name}`} className="rounded-md border border-slate-200" data-testid={`balancer-${b.name}`}>
            <header className="flex flex-wrap items-baseline justify-between gap-2 border-b border-slate-100 bg-slate-50 px-3 py-2">
              <div>
                <span className="font-medium text-slate-900">{b.name}</span>{" "}
                <span className="text-xs text-slate-500">
                  {b.kind === "HAPROXY" ? `HAProxy runtime API${b.address ? ` at ${b.address}` : ""}` : "drain / undrain commands"} · {b.members.length === 1 ? "1 server" : `${b.members.length} servers`}
                </span>
              </div>
              {manage && (
                <ActionForm action={manage.remove} inline variant="danger" submitLabel="Remove" confirm={`Remove balancer ${b.name}? Rollouts will no longer take servers out of it.`}>
                  <input type="hidden" name="balancerId" value={b.id} />
                </ActionForm>
              )}
            </header>
            {b.members.length === 0 ? (
              <p className="px-3 py-2 text-xs text-slate-500">No server is behind {b.name} yet.</p>
            ) : (
              <div className="overflow-x-auto">
                <table className="min-w-full text-sm">
                  <thead className="text-left text-xs uppercase tracking-wide text-slate-500">
                    <tr>
                      <th className="px-3 py-1.5 font-medium">Server</th>
                      <th className="px-3 py-1.5 font-medium">{b.kind === "HAPROXY" ? "In HAProxy as" : "Named"}</th>
                      {b.kind === "HAPROXY" && (
                        <>
                          <th className="px-3 py-1.5 font-medium">State</th>
                          <th className="px-3 py-1.5 text-right font-medium">Sessions</th>
                          <th className="px-3 py-1.5 font-medium">Check</th>
                          <th className="px-3 py-1.5 text-right font-medium">5xx / responses</th>
                          <th className="px-3 py-1.5 text-right font-medium">Avg time</th>
                          <th className="px-3 py-1.5 font-medium">Read</th>
                        </>
                      )}
                      {manage && <th className="px-3 py-1.5" />}
                    </tr>
                  </thead>
                  <tbody className="divide-y divide-slate-100">
                    {b.members.map((m) => {
                      const o = m.observed;
                      const stale = o !== null && now.getTime() - o.at.getTime() > STALE_MS;
                      return (
                        <tr key={m.id} data-testid={`member-${b.name}-${m.targetName}`} className="whitespace-nowrap align-top">
                          <td className="px-3 py-1.5 font-medium">
                            {m.targetName}
                            {m.revoked && <span className="ml-1 text-xs font-normal text-slate-500">(revoked)</span>}
                          </td>
                          <td className="px-3 py-1.5 font-mono text-xs">{b.kind === "HAPROXY" ? `${m.backend}/${m.server}` : m.server}</td>
                          {b.kind === "HAPROXY" && (
                            <>
                              <td className="px-3 py-1.5" data-testid="member-state">
                                {o?.adminState ? <StateBadge o={o} /> : "—"}
                              </td>
                              <td className="px-3 py-1.5 text-right tabular-nums">{o?.sessions ?? "—"}</td>
                              <td className="px-3 py-1.5 text-xs">{o?.check ?? "—"}</td>
                              <td className="px-3 py-1.5 text-right text-xs tabular-nums">{o?.responses !== null && o?.responses !== undefined ? `${o.http5xx ?? 0} / ${o.responses}` : "—"}</td>
                              <td className="px-3 py-1.5 text-right text-xs tabular-nums">{o?.rtimeMs !== null && o?.rtimeMs !== undefined ? `${o.rtimeMs} ms` : "—"}</td>
                              <td className="px-3 py-1.5 text-xs" data-testid="member-read">
                                {o === null ? (
                                  <span className="text-slate-500">waiting for {m.targetName}&apos;s agent</span>
                                ) : o.error ? (
                                  <span className="text-rose-700">could not read {ago(now.getTime() - o.at.getTime())}: {o.error}</span>
                                ) : (
                                  <span className={stale ? "text-amber-700" : "text-slate-500"} title={o.at.toISOString()}>
                                    {ago(now.getTime() - o.at.getTime())}
                                    {stale ? " (stale: is the agent online?)" : ""}
                                  </span>
                                )}
                              </td>
                            </>
                          )}
                          {manage && (
                            <td className="px-3 py-1.5 text-right">
                              <ActionForm action={manage.removeMember} inline variant="secondary" submitLabel="Take off" confirm={`Take ${m.targetName} off ${b.name}? Rollouts will no longer drain it there.`}>
                                <input type="hidden" name="membershipId" value={m.id} />
                              </ActionForm>
                            </td>
                          )}
                        </tr>
                      );
                    })}
                  </tbody>
                </table>
              </div>
            )}
            {manage && (
              <div className="space-y-2 border-t border-slate-100 px-3 py-2">
                {manage.servers.length > 0 && (
                  <details>
                    <summary className="cursor-pointer text-xs font-medium text-indigo-700">Put a server behind {b.name}…</summary>
                    <div className="mt-2">
                      <ActionForm action={manage.addMember} submitLabel={`Put behind ${b.name}`}>
                        <input type="hidden" name="balancerId" value={b.id} />
                        <div className="grid gap-3 sm:grid-cols-3">
                          <SelectField name="targetId" label="Server" options={manage.servers.map((s) => ({ value: s.id, label: s.name }))} />
                          <Field name="backend" label={b.kind === "HAPROXY" ? "Backend" : "Backend (optional)"} placeholder="e.g. be_web" monospace />
                          <Field name="server" label={b.kind === "HAPROXY" ? "Server name in HAProxy" : "Name (optional)"} placeholder="e.g. web1" monospace />
                        </div>
                      </ActionForm>
                    </div>
                  </details>
                )}
                <details>
                  <summary className="cursor-pointer text-xs font-medium text-indigo-700">Change {b.name}…</summary>
                  <div className="mt-2">
                    <BalancerForm action={manage.update} hidden={{ balancerId: b.id }} settings={b} submitLabel="Save balancer" />
                  </div>
                </details>
              </div>
            )}
          </section>
        );
      })}
      {manage && (
        <details className="border-t border-slate-100 pt-3">
          <summary className="cursor-pointer text-sm font-medium text-indigo-700">Add a load balancer…</summary>
          <div className="mt-3">
            <BalancerForm action={manage.create} hidden={{ environmentId }} submitLabel="Add balancer" />
          </div>
        </details>
      )}
    </div>
  );
}
