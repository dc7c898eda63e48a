import type { Metadata } from "next";
import Link from "next/link";
import { CopyButton } from "@/components/copy-button";
import { ReleaseDecisions } from "@/components/release-decisions";
import { formatTime } from "@/components/deployment-status";
import { MarkdownText } from "@/components/markdown";
import { ProductionStateLine, ReleaseStatusBadge } from "@/components/release-status";
import { ReleaseTimeline } from "@/components/release-timeline";
import { Badge, Card, PageHeader } from "@/components/ui";
import { loadForPage, pageIds, requirePageActor } from "@/lib/entry/page";
import { getRelease } from "@/lib/releases/get-release";
import { formatBytes } from "@/lib/storage/format-bytes";

export const metadata: Metadata = { title: "Release" };
export const dynamic = "force-dynamic";

// Sections, top to bottom: summary, artifact and migration, notes, decisions (customer acceptance, approvals),
// timeline.
export default async function ReleasePage({ params }: { params: Promise<{ appId: string; releaseId: string }> }) {
  const { appId, releaseId } = await pageIds(params);
  const actor = await requirePageActor();
  const { release: r, uploadedViaToken, liveIn, production, timeline, mayDeploy } = await loadForPage(() => getRelease(actor, { applicationId: appId, releaseId }), "a release");
  const app = r.application;
  const size = Number(r.artifactSize);
  return (
    <>
      <PageHeader
        title={`${app.name} ${r.version}`}
        subtitle={
          <>
            <Link href={`/apps/${app.id}`} className="text-indigo-700 hover:underline">
              {app.name}
            </Link>
            {" / "}
            <Link href={`/apps/${app.id}/releases`} className="text-indigo-700 hover:underline">
              Releases
            </Link>
            {" · "}
            {app.customer.name}
          </>
        }
        actions={
          mayDeploy && (
            <Link href={`/apps/${app.id}`} className="rounded-md bg-indigo-600 px-3 py-1.5 text-sm font-medium text-white shadow-sm hover:bg-indigo-500">
              Deploy…
            </Link>
          )
        }
      />

      <section aria-label="Summary" className="mb-6 flex flex-wrap items-center gap-x-4 gap-y-2 rounded-lg border border-slate-200 bg-white p-4 text-sm shadow-sm" data-testid="release-summary">
        <ReleaseStatusBadge status={r.status} />
        <span className="text-slate-700">
          Uploaded by <span className="font-medium">{r.uploadedBy.name}</span>
          {uploadedViaToken && <> through the pipeline token “{uploadedViaToken}”</>} on {formatTime(r.createdAt)}
        </span>
        <span className="flex items-center gap-1.5 text-slate-700" data-testid="release-live-in">
          {liveIn.length === 0 ? (
            <span className="text-slate-500">Not live anywhere</span>
          ) : (
            <>
              Live in
              {liveIn.map((e) => (
                <Badge key={e.id} tone={e.isProduction ? "green" : "blue"}>
                  {e.name}
                </Badge>
              ))}
            </>
          )}
        </span>
        {r.needsMigration && <Badge tone="amber">needs a database migration</Badge>}
        <ProductionStateLine production={production} className="basis-full" />
      </section>

      <div className="mb-6 grid gap-6 lg:grid-cols-2">
        <Card title="Artifact">
          <dl className="space-y-3 text-sm">
            <div>
              <dt className="text-xs font-medium uppercase tracking-wide text-slate-500">File</dt>
              <dd className="mt-0.5 break-all text-slate-900" data-testid="artifact-file-name">
                {r.artifactFileName}
              </dd>
            </div>
            <div>
              <dt className="text-xs font-medium uppercase tracking-wide text-slate-500">Size</dt>
              <dd className="mt-0.5 text-slate-900" data-testid="artifact-size">
                {formatBytes(size)}
                {size >= 1024 && <span className="text-slate-500"> ({size.toLocaleString("en")} bytes)</span>}
              </dd>
            </div>
            <div>
              <dt className="text-xs font-medium uppercase tracking-wide text-slate-500">SHA-256 (computed by the server)</dt>
              <dd className="mt-1 flex items-start gap-2">
                <code className="min-w-0 flex-1 select-all break-all rounded bg-slate-50 px-2 py-1 font-mono text-xs text-slate-900" data-testid="artifact-sha256">
                  {r.artifactSha256}
                </code>
                <CopyButton value={r.artifactSha256} />
              </dd>
            </div>
          </dl>
        </Card>
        <Card title="Database migration">
          <p className="text-sm text-slate-800" data-testid="migration-flag">
            {r.needsMigration ? "This release needs a database migration: the rollout runs the environment's maintenance, backup and migrate hooks." : "No database migration."}
          </p>
          {r.migrationInstructions.trim() ? (
            <div className="mt-3 border-t border-slate-100 pt-3" data-testid="migration-instructions">
              <MarkdownText text={r.migrationInstructions} />
            </div>
          ) : (
            r.needsMigration && <p className="mt-2 text-sm text-slate-500">No patch or migration instructions were given.</p>
          )}
        </Card>
      </div>

      <Card title="Release notes" className="mb-6">
        {r.notes.trim() ? (
          <div data-testid="release-notes">
            <MarkdownText text={r.notes} />
          </div>
        ) : (
          <p className="text-sm text-slate-500">No release notes.</p>
        )}
      </Card>

      <ReleaseDecisions releaseId={r.id} actor={actor} />

      <Card title="Timeline">
        <ReleaseTimeline entries={timeline} />
      </Card>
    </>
  );
}
