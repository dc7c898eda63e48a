import { z } from "zod";
import { apiRoute } from "@/lib/entry/api-route";
import { listReleases, toReleaseJson, ZListReleasesQuerySchema } from "@/lib/releases/list-releases";
import { receiveReleaseUpload } from "@/lib/releases/receive-release-upload";

const ZParams = z.object({ applicationId: z.uuid() });

/** Uploads a release candidate: multipart/form-data, the artifact streamed into the store (docs/pipeline-api.md). */
export const POST = apiRoute({ params: ZParams, body: null, status: 201 }, async ({ actor, params, request }) => ({
  release: toReleaseJson(await receiveReleaseUpload(actor, params.applicationId, request)),
}));

/** The application's releases, newest first. */
export const GET = apiRoute({ params: ZParams, body: null, query: ZListReleasesQuerySchema }, async ({ actor, params, query }) => ({
  releases: await listReleases(actor, params.applicationId, query),
}));
