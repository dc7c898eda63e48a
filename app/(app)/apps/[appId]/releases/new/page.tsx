import type { Metadata } from "next";
import Link from "next/link";
import { ReleaseUploadForm } from "@/components/release-upload-form";
import { PageHeader } from "@/components/ui";
import { loadForPage, pageIds, requirePageActor } from "@/lib/entry/page";
import { env } from "@/lib/env";
import { prepareReleaseUpload } from "@/lib/releases/create-release";
import { createReleaseAction } from "./actions";

export const metadata: Metadata = { title: "New release" };

/** Developers of the application only; anyone else gets the 404 page (and the refusal is audited). */
export default async function NewReleasePage({ params }: { params: Promise<{ appId: string }> }) {
  const { appId } = await pageIds(params);
  const actor = await requirePageActor();
  const app = await loadForPage(async () => prepareReleaseUpload(actor, { applicationId: appId }), "the release upload page");
  return (
    <>
      <PageHeader
        title={`New release of ${app.name}`}
        subtitle={
          <>
            <Link href={`/apps/${app.id}`} className="text-indigo-700 hover:underline">
              {app.name}
            </Link>
            {" / "}
            <Link href={`/apps/${app.id}/releases`} className="text-indigo-700 hover:underline">
              Releases
            </Link>
          </>
        }
      />
      <div className="max-w-3xl rounded-lg border border-slate-200 bg-white p-6 shadow-sm">
        <p className="mb-5 text-sm text-slate-600">
          The file uploads while you fill in the form. The server computes its SHA-256 when you save; the release is then a candidate for QA.
        </p>
        <ReleaseUploadForm applicationId={app.id} maxBytes={env().MAX_ARTIFACT_BYTES} action={createReleaseAction} />
      </div>
    </>
  );
}
