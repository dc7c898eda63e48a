// An application's outgoing webhooks: where each sends which events, its recent deliveries with their state, a form
// that adds one (its signing secret shown once) and a button that removes one. Data comes in as props.
import type { ActionResult } from "@/lib/entry/action-result";
import { NOTIFICATION_EVENT_LABELS, NOTIFICATION_EVENT_TYPES } from "@/lib/notifications/event-types";
import { formatTime } from "./deployment-status";
import { ActionForm, CheckboxField, Field, type ShownOnce } from "./form";
import { Badge, Card, EmptyState } from "./ui";

type Action = (fd: FormData) => Promise<ActionResult<{ shownOnce?: ShownOnce } | undefined>>;

export interface WebhookRow {
  id: string;
  url: string;
  events: string[];
  created: string;
  deliveries: { id: string; event: string; state: "delivered" | "queued" | "retrying" | "failed" | "skipped"; attempts: number; lastError: string | null; nextAttemptAt: string; createdAt: string; deliveredAt: string | null }[];
}

const STATE = {
  delivered: { label: "delivered", tone: "green" },
  queued: { label: "queued", tone: "gray" },
  retrying: { label: "retrying", tone: "amber" },
  failed: { label: "failed", tone: "red" },
  skipped: { label: "not sent", tone: "gray" },
} as const;

const label = (event: string) => NOTIFICATION_EVENT_LABELS[event as keyof typeof NOTIFICATION_EVENT_LABELS] ?? event;

export function WebhookList({ applicationId, webhooks, create, remove }: { applicationId: string; webhooks: WebhookRow[]; create: Action; remove: Action }) {
  return (
    <div className="grid items-start gap-6 lg:grid-cols-3">
      <div className="space-y-6 lg:col-span-2">
        {webhooks.length === 0 && <EmptyState title="No webhooks yet.">Add one to send release events to your chat, ticketing or CI.</EmptyState>}
        {webhooks.map((w) => (
          <Card
            key={w.id}
            title={w.url}
            actions={
              <ActionForm action={remove} inline variant="danger" submitLabel="Delete" confirm={`Delete the webhook to ${w.url}? Its pending retries stop.`}>
                <input type="hidden" name="webhookId" value={w.id} />
              </ActionForm>
            }
          >
            <div data-testid="webhook">
              <p className="text-xs text-slate-500">Added {formatTime(w.created)}</p>
              <div className="mt-2 flex flex-wrap gap-1">
                {w.events.map((e) => (
                  <Badge key={e} tone="blue">
                    {label(e)}
                  </Badge>
                ))}
              </div>
              <h3 className="mt-4 text-xs font-semibold uppercase tracking-wide text-slate-500">Recent deliveries</h3>
              {w.deliveries.length === 0 ? (
                <p className="mt-1 text-sm text-slate-500">Nothing sent yet.</p>
              ) : (
                <div className="overflow-x-auto">
                  <table className="mt-1 w-full text-left text-sm" data-testid="webhook-deliveries">
                    <thead className="text-xs text-slate-500">
                      <tr>
                        <th className="py-1 pr-3 font-medium">Event</th>
                        <th className="py-1 pr-3 font-medium">State</th>
                        <th className="py-1 pr-3 font-medium">Attempts</th>
                        <th className="py-1 pr-3 font-medium">Created</th>
                        <th className="py-1 font-medium">Detail</th>
                      </tr>
                    </thead>
                    <tbody className="divide-y divide-slate-100">
                      {w.deliveries.map((d) => (
                        <tr key={d.id}>
                          <td className="py-1 pr-3">{label(d.event)}</td>
                          <td className="py-1 pr-3">
                            <Badge tone={STATE[d.state].tone}>{STATE[d.state].label}</Badge>
                          </td>
                          <td className="py-1 pr-3">{d.attempts}</td>
                          <td className="py-1 pr-3 text-slate-600">{formatTime(d.createdAt)}</td>
                          <td className="py-1 text-slate-600">
                            {d.state === "delivered"
                              ? `at ${formatTime(d.deliveredAt, true)}`
                              : d.state === "retrying"
                                ? `${d.lastError ? `${d.lastError}; ` : ""}next try ${formatTime(d.nextAttemptAt, true)}`
                                : d.state === "queued"
                                  ? "Goes out after the earlier deliveries to this webhook (each gets its events in order)."
                                  : d.lastError}
                          </td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              )}
            </div>
          </Card>
        ))}
      </div>
      <Card title="New webhook">
        <ActionForm action={create} submitLabel="Add webhook" pendingLabel="Adding…">
          <input type="hidden" name="applicationId" value={applicationId} />
          <Field name="url" label="Receiver URL" type="url" placeholder="https://chat.example.com/hooks/releases" monospace />
          <fieldset>
            <legend className="text-sm font-medium text-slate-700">Events</legend>
            <div className="mt-1 space-y-1">
              {NOTIFICATION_EVENT_TYPES.map((e) => (
                <CheckboxField key={e} name="events" value={e} label={label(e)} defaultChecked />
              ))}
            </div>
          </fieldset>
          <p className="text-xs text-slate-500">
            Each delivery is a JSON POST with <code>X-Releasegate-Event</code>, <code>X-Releasegate-Delivery</code>, <code>X-Releasegate-Timestamp</code> and{" "}
            <code>X-Releasegate-Signature: sha256=HMAC-SHA256(secret, timestamp + &quot;.&quot; + body)</code>. Failed deliveries are retried with growing pauses
            (30 s, 2 min, 8 min, …) for about a day.
          </p>
        </ActionForm>
      </Card>
    </div>
  );
}
