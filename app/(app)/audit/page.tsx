import type { Metadata } from "next";
import Link from "next/link";
import { Badge, Card, EmptyState, PageHeader } from "@/components/ui";
import { hasFilters, ZAuditFilterSchema } from "@/lib/audit/audit-filter";
import { AUDIT_EVENT_TYPES } from "@/lib/audit/event-types";
import { getAuditOverview } from "@/lib/audit/get-audit-overview";
import { searchAuditEvents } from "@/lib/audit/search-audit-events";
import { loadForPage, requirePageActor } from "@/lib/entry/page";

export const metadata: Metadata = { title: "Audit" };

type Search = Record<string, string | string[] | undefined>;

const input = "mt-1 block w-full rounded-md border border-slate-300 bg-white px-2 py-1.5 text-sm";

export default async function AuditPage({ searchParams }: { searchParams: Promise<Search> }) {
  const actor = await requirePageActor();
  const raw = Object.fromEntries(Object.entries(await searchParams).map(([k, v]) => [k, Array.isArray(v) ? v[0] : v]));
  const parsed = ZAuditFilterSchema.safeParse(raw);
  const filter = parsed.success ? parsed.data : {};
  const [overview, page] = await loadForPage(() => Promise.all([getAuditOverview(actor), searchAuditEvents(actor, filter)]), "the audit record");
  const query = (extra: Record<string, string>) => {
    const q = new URLSearchParams(Object.entries({ ...raw, ...extra }).filter((e): e is [string, string] => typeof e[1] === "string" && e[1] !== ""));
    return q.toString();
  };
  const appName = new Map(overview.applications.map((a) => [a.id, a.name]));
  // Exports follow the filter shown; only one without filters is complete and verifies on its own.
  const filtered = parsed.success && hasFilters(filter);
  const exportTitle = filtered ? "Only the events this filter shows: it does not verify on its own" : undefined;
  const envName = new Map(overview.applications.flatMap((a) => a.environments.map((e) => [e.id, `${a.name} / ${e.name}`] as const)));
  return (
    <>
      <PageHeader
        title="Audit record"
        subtitle={
          overview.lastCheckpoint
            ? `Hash-chained and signed: checkpoint ${overview.lastCheckpoint.number} covers events up to #${overview.lastCheckpoint.lastSeq} (${overview.lastCheckpoint.createdAt.toISOString().slice(0, 16).replace("T", " ")} UTC).`
            : "Hash-chained; the first signed checkpoint is written shortly after the first events."
        }
        actions={
          <div className="flex gap-2 text-sm">
            <a className="rounded-md border border-slate-300 bg-white px-3 py-1.5 hover:bg-slate-50" title={exportTitle} href={`/audit/export?${query({ format: "csv", before: "" })}`}>
              Export CSV{filtered ? " (filtered)" : ""}
            </a>
            <a className="rounded-md border border-slate-300 bg-white px-3 py-1.5 hover:bg-slate-50" title={exportTitle} href={`/audit/export?${query({ format: "ndjson", before: "" })}`}>
              Export NDJSON{filtered ? " (filtered)" : ""}
            </a>
          </div>
        }
      />
      <Card className="mb-6">
        <form method="get" className="grid gap-3 sm:grid-cols-4" aria-label="Filter audit events">
          <label className="text-xs font-medium text-slate-600">
            Application
            <select name="applicationId" defaultValue={raw.applicationId ?? ""} className={input}>
              <option value="">All</option>
              {overview.applications.map((a) => (
                <option key={a.id} value={a.id}>
                  {a.name} ({a.customer.name})
                </option>
              ))}
            </select>
          </label>
          <label className="text-xs font-medium text-slate-600">
            Environment
            <select name="environmentId" defaultValue={raw.environmentId ?? ""} className={input}>
              <option value="">All</option>
              {[...envName].map(([id, name]) => (
                <option key={id} value={id}>
                  {name}
                </option>
              ))}
            </select>
          </label>
          <label className="text-xs font-medium text-slate-600">
            Event type
            <select name="type" defaultValue={raw.type ?? ""} className={input}>
              <option value="">All</option>
              {Object.entries(AUDIT_EVENT_TYPES).map(([t, d]) => (
                <option key={t} value={t} title={d}>
                  {t}
                </option>
              ))}
            </select>
          </label>
          <label className="text-xs font-medium text-slate-600">
            Actor (email)
            <input name="actor" defaultValue={raw.actor ?? ""} placeholder="ana@example.com" className={input} />
          </label>
          <label className="text-xs font-medium text-slate-600">
            From
            <input type="date" name="from" defaultValue={raw.from ?? ""} className={input} />
          </label>
          <label className="text-xs font-medium text-slate-600">
            Until (exclusive)
            <input type="date" name="to" defaultValue={raw.to ?? ""} className={input} />
          </label>
          <label className="text-xs font-medium text-slate-600">
            Release version
            <input name="release" defaultValue={raw.release ?? ""} placeholder="2.4.1 or 2.4.*" className={input} />
          </label>
          <div className="flex items-end gap-2">
            <button type="submit" className="rounded-md bg-indigo-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-indigo-500">
              Filter
            </button>
            <Link href="/audit" className="px-2 py-1.5 text-sm text-slate-600 hover:text-slate-900">
              Clear
            </Link>
          </div>
        </form>
        {!parsed.success && (
          <p role="alert" className="mt-3 rounded-md border border-rose-200 bg-rose-50 px-3 py-2 text-sm text-rose-800">
            {parsed.error.issues[0]?.message ?? "Check the filter."} Showing all events instead.
          </p>
        )}
      </Card>
      {page.events.length === 0 ? (
        <EmptyState title="No events match.">Change the filter, or clear it.</EmptyState>
      ) : (
        <Card>
          <table className="w-full text-left text-sm" data-testid="audit-table">
            <thead className="text-xs uppercase text-slate-500">
              <tr>
                <th className="py-2">#</th>
                <th>When (UTC)</th>
                <th>Who</th>
                <th>What</th>
                <th>Where</th>
              </tr>
            </thead>
            <tbody className="divide-y divide-slate-100 align-top">
              {page.events.map((e) => (
                <tr key={e.seq.toString()}>
                  <td className="py-2 pr-2 font-mono text-xs text-slate-500">{e.seq.toString()}</td>
                  <td className="whitespace-nowrap pr-3 text-xs text-slate-600">{e.occurredAt.toISOString().slice(0, 19).replace("T", " ")}</td>
                  <td className="pr-3">
                    <div>{e.actorLabel}</div>
                    {e.ip && <div className="text-xs text-slate-400">{e.ip}</div>}
                  </td>
                  <td className="pr-3">
                    <Badge tone={e.type === "PERMISSION_DENIED" || e.type === "DEPLOYMENT_REFUSED" || e.type === "USER_SIGN_IN_FAILED" ? "red" : "gray"}>{e.type}</Badge>
                    <div className="mt-1">{e.summary}</div>
                    {e.releaseId && (
                      <Link href={`/audit/releases/${e.releaseId}`} className="text-xs font-medium text-indigo-700 hover:underline">
                        Release evidence →
                      </Link>
                    )}
                  </td>
                  <td className="text-xs text-slate-600">
                    {e.applicationId && <div>{appName.get(e.applicationId) ?? "—"}</div>}
                    {e.environmentId && <div>{envName.get(e.environmentId) ?? ""}</div>}
                    <div className="font-mono text-slate-400" title={`hash ${e.hash}`}>
                      {e.hash.slice(0, 12)}
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {(page.nextBefore !== null || typeof raw.before === "string") && (
            <div className="mt-4 flex justify-between text-sm font-medium text-indigo-700" data-testid="audit-paging">
              {/* Back to the start of the same filter: the newest events first. */}
              {typeof raw.before === "string" && raw.before !== "" ? (
                <Link href={`/audit?${query({ before: "" })}`} className="hover:underline">
                  ← Newest events
                </Link>
              ) : (
                <span />
              )}
              {page.nextBefore !== null && (
                <Link href={`/audit?${query({ before: page.nextBefore.toString() })}`} className="hover:underline">
                  Older events →
                </Link>
              )}
            </div>
          )}
        </Card>
      )}
      <Card title="Verify it yourself" className="mt-6">
        <div className="space-y-3 text-sm text-slate-700" data-testid="verify-help">
          <p>
            Each event carries the hash of the one before it; checkpoints sign the chain with key{" "}
            <code className="font-mono">{overview.keyId.slice(0, 16)}</code>. You need nothing from Releasegate but two files: the{" "}
            <a href="/audit/public-key" className="font-medium text-indigo-700 hover:underline">
              public key
            </a>{" "}
            and a{" "}
            <a href="/audit/export?format=ndjson" className="font-medium text-indigo-700 hover:underline">
              complete NDJSON export
            </a>{" "}
            (no filter; a filtered export or a CSV does not verify).
          </p>
          {overview.exportIsRedacted ? (
            <p>
              Your complete export holds every event of the applications you audit ({overview.applications.map((a) => a.name).join(", ")}) in full, and every
              other event of the record (other applications&apos;, other customers&apos; and platform-wide ones such as sign-ins) only as its sequence number and
              hashes, with nothing of its content. That is enough to recompute the whole chain through them and check every signed checkpoint: an event of yours
              changed, removed or moved to another application, up to the newest checkpoint, makes the check fail.
              {overview.beganBeforeHashOnlyEvents &&
                " This record began before other customers' events could be shown as hashes alone: your export starts after the signed checkpoint that seals those older events (the command names it); the events before it verify in an administrator's complete export."}
            </p>
          ) : (
            <p>The complete export holds every event of the record.</p>
          )}
          <pre className="overflow-x-auto rounded bg-slate-900 p-3 text-xs text-slate-100">npm run audit:verify -- --public-key releasegate-audit-public-key.pem --export releasegate-audit-….ndjson</pre>
          <p>
            It prints <code className="font-mono">OK</code> with the number of events and <code className="font-mono">signed through event N (hash …)</code>, or{" "}
            <code className="font-mono">FAIL</code> with the first bad event. An export signs the newest events when it is made, so a file whose end was cut
            fails. Keep the <code className="font-mono">--anchor N:HASH</code> line it prints somewhere Releasegate cannot change (the audit ticket, an email)
            and pass it to every later run: that catches a history cut off and grown back, which no signature can show.
          </p>
          <p>
            The public key comes from this same server, so check it: the command prints its SHA-256 fingerprint. Compare that with the fingerprint your
            Releasegate operator gives you another way (read from the server&apos;s key file), or pass it as{" "}
            <code className="font-mono">--key-fingerprint</code> and the command fails on any other key.
          </p>
        </div>
      </Card>
    </>
  );
}
