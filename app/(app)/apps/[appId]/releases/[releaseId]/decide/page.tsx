import type { Metadata } from "next";
import { notFound } from "next/navigation";
import Link from "next/link";
import { MarkdownText } from "@/components/markdown";
import { ReleaseDecisions } from "@/components/release-decisions";
import { Card, PageHeader } from "@/components/ui";
import { getReleaseDecisions } from "@/lib/approvals/get-release-decisions";
import { loadForPage, pageIds, requirePageActor } from "@/lib/entry/page";

export const metadata: Metadata = { title: "Review release" };
export const dynamic = "force-dynamic";

// The focused "review this release" page the inbox and the home page link to: what to test and where, the notes,
// what changed since production, and the person's decision (accept / reject / approve), nothing else.
export default async function ReviewReleasePage({ params }: { params: Promise<{ appId: string; releaseId: string }> }) {
  const { appId, releaseId } = await pageIds(params);
  const actor = await requirePageActor();
  const decisions = await loadForPage(() => getReleaseDecisions(actor, releaseId), "a release");
  const r = decisions.release;
  if (r.applicationId !== appId) notFound();
  return (
    <>
      <PageHeader
        title={`Review ${r.applicationName} ${r.version}`}
        subtitle={
          <>
            <Link href={`/apps/${appId}`} className="text-indigo-700 hover:underline">
              {r.applicationName}
            </Link>
            {" / "}
            <Link href={`/apps/${appId}/releases/${r.id}`} className="text-indigo-700 hover:underline">
              {r.version}
            </Link>
            {` · uploaded by ${r.uploadedBy.name}`}
          </>
        }
      />
      <ReleaseDecisions releaseId={r.id} actor={actor} decisions={decisions} />
      <Card title="Release notes">
        {r.notes.trim() ? <MarkdownText text={r.notes} /> : <p className="text-sm text-slate-500">No release notes.</p>}
      </Card>
    </>
  );
}
