import type { Metadata } from "next";
import Link from "next/link";
import { PrintButton } from "@/components/print-button";
import { ProductionStateLine, ReleaseStatusBadge } from "@/components/release-status";
import { Badge, Card, PageHeader } from "@/components/ui";
import { getReleaseEvidence } from "@/lib/audit/get-release-evidence";
import { loadForPage, pageIds, requirePageActor } from "@/lib/entry/page";
import { plural } from "@/lib/util/text";

export const metadata: Metadata = { title: "Release evidence" };

const when = (d: Date | null) => (d ? `${d.toISOString().slice(0, 19).replace("T", " ")} UTC` : "—");

/**
 * For auditors: how a build reached production, who did each step, who was refused what on it, and whether the
 * bytes stayed the same.
 */
export default async function ReleaseEvidencePage({ params }: { params: Promise<{ releaseId: string }> }) {
  const { releaseId } = await pageIds(params);
  const actor = await requirePageActor();
  const ev = await loadForPage(() => getReleaseEvidence(actor, releaseId), "this release's evidence");
  const r = ev.release;
  return (
    <>
      <PageHeader
        title={`Evidence: ${r.application.name} ${r.version}`}
        subtitle={`${r.application.customer.name} · generated ${when(new Date())}`}
        actions={
          <div className="flex gap-3 print:hidden">
            <Link href={`/audit?release=${encodeURIComponent(r.version)}`} className="text-sm font-medium text-indigo-700 hover:underline">
              In the audit record →
            </Link>
            <PrintButton />
          </div>
        }
      />
      <Card title="The build">
        <dl className="grid gap-x-6 gap-y-2 text-sm sm:grid-cols-[12rem_1fr]">
          <dt className="text-slate-500">Artifact</dt>
          <dd>
            {r.artifactFileName} · {r.artifactSize.toString()} bytes
          </dd>
          <dt className="text-slate-500">SHA-256</dt>
          <dd className="break-all font-mono text-xs" data-testid="release-sha">
            {r.artifactSha256}
          </dd>
          <dt className="text-slate-500">Uploaded by</dt>
          <dd>
            {r.uploadedBy.name} ({r.uploadedBy.email}) · {when(r.createdAt)}
          </dd>
          <dt className="text-slate-500">Status</dt>
          <dd className="space-y-1">
            <ReleaseStatusBadge status={r.status} />
            <ProductionStateLine production={ev.production} />
          </dd>
          <dt className="text-slate-500">Same bytes throughout</dt>
          <dd data-testid="bytes-check">
            {ev.hashes.mismatches.length === 0 ? (
              <Badge tone="green">Yes: all {ev.hashes.checked} recorded hashes match</Badge>
            ) : (
              <Badge tone="red">No: {plural(ev.hashes.mismatches.length, "event")} recorded other bytes (#{ev.hashes.mismatches.map((m) => m.seq.toString()).join(", #")})</Badge>
            )}
          </dd>
          <dt className="text-slate-500">Signed checkpoint</dt>
          <dd>
            {ev.checkpoint
              ? `Checkpoint ${ev.checkpoint.number.toString()} (${when(ev.checkpoint.createdAt)}) covers every event below: verify offline with npm run audit:verify.`
              : "The latest events are not yet covered by a signed checkpoint (one is written every few minutes)."}
          </dd>
        </dl>
      </Card>
      <Card title="From upload to production" className="mt-6">
        <ol className="space-y-2 text-sm" data-testid="milestones">
          {ev.milestones.map((m) => (
            <li key={m.label} className="grid gap-2 sm:grid-cols-[14rem_1fr_12rem]">
              <span className="font-medium">{m.label}</span>
              <span className={m.at ? "" : m.instead ? "text-rose-700" : "text-slate-400"}>{m.at ? `${m.who ?? "—"} · ${when(m.at)}` : (m.instead ?? "not yet")}</span>
              <span className="font-mono text-xs text-slate-500">{m.sha256 ? `sha ${m.sha256.slice(0, 16)}…` : ""}</span>
            </li>
          ))}
        </ol>
      </Card>
      <Card title={`Refused attempts (${ev.refusals.length})`} className="mt-6">
        {ev.refusals.length === 0 ? (
          <p className="text-sm text-slate-600" data-testid="refusals">
            Nobody was refused an action on this release.
          </p>
        ) : (
          <ul className="space-y-2 text-sm" data-testid="refusals">
            {ev.refusals.map((r) => (
              <li key={r.seq.toString()} className="grid gap-2 sm:grid-cols-[17rem_1fr]">
                <span>
                  <Badge tone="red">refused</Badge> <span className="text-xs text-slate-500">#{r.seq.toString()} · {when(r.occurredAt)}</span>
                </span>
                <span>
                  {r.summary}
                  {r.environment && <span className="text-slate-500"> ({r.environment})</span>}
                  {r.reason && <span className="block text-xs text-slate-600">{r.reason}</span>}
                  {r.ip && <span className="block text-xs text-slate-400">from {r.ip}</span>}
                </span>
              </li>
            ))}
          </ul>
        )}
      </Card>
      <Card title={`Every event (${ev.events.length})`} className="mt-6">
        <table className="w-full text-left text-sm">
          <thead className="text-xs uppercase text-slate-500">
            <tr>
              <th className="py-2">#</th>
              <th>When (UTC)</th>
              <th>Who</th>
              <th>What</th>
              <th>Artifact</th>
            </tr>
          </thead>
          <tbody className="divide-y divide-slate-100 align-top">
            {ev.events.map((e) => (
              <tr key={e.seq.toString()} className="break-inside-avoid">
                <td className="py-2 pr-2 font-mono text-xs text-slate-500">{e.seq.toString()}</td>
                <td className="whitespace-nowrap pr-3 text-xs text-slate-600">{when(e.occurredAt).replace(" UTC", "")}</td>
                <td className="pr-3">
                  {e.actorLabel}
                  {e.ip && <div className="text-xs text-slate-400">{e.ip}</div>}
                </td>
                <td className="pr-3">
                  <Badge tone={e.type.endsWith("FAILED") || e.type === "RELEASE_REJECTED" || e.type === "PERMISSION_DENIED" || e.type === "DEPLOYMENT_REFUSED" ? "red" : "gray"}>{e.type}</Badge>
                  {e.environment && <span className="ml-2 text-xs text-slate-500">{e.environment}</span>}
                  <div className="mt-1">{e.summary}</div>
                </td>
                <td className="font-mono text-xs text-slate-500">
                  {e.sha256 ? (e.otherRelease ? `${e.sha256.slice(0, 12)} (${e.otherRelease})` : e.sha256 === r.artifactSha256 ? `${e.sha256.slice(0, 12)} ✓` : `${e.sha256.slice(0, 12)} ✗`) : ""}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </Card>
    </>
  );
}
