import "server-only";
import { Metadata } from "@tus/server";
import { z } from "zod";
import type { UserActor } from "../auth/actor";
import { assertCan, can } from "../auth/permissions";
import { env } from "../env";
import { AppError, invalid, notFound } from "../errors";
import { formatBytes } from "../storage/format-bytes";
import { UPLOAD_ID } from "../storage/upload-protocol";
import { getUploadStaging, type StagedUpload, type UploadStaging } from "../storage/upload-staging";
import { parseInput, ZText } from "../validation";
import { prepareReleaseUpload } from "./create-release";

/** What the browser declares when it starts an upload (tus Upload-Metadata); anything else it sends is ignored. */
export const ZReleaseUploadMetadataSchema = z.object({
  applicationId: z.uuid("Upload-Metadata must name the application (applicationId) the release is for."),
  fileName: ZText({ missing: "Upload-Metadata must carry the file's name (fileName)." }).trim().min(1, "The file needs a name.").max(1000, "The file name is too long."),
});

const ZUploadLengthSchema = z.coerce
  .number("Upload-Length must be the file's size in bytes.")
  .int("Upload-Length must be a whole number of bytes.")
  .min(1, "The file is empty. Upload the build archive itself.");

/**
 * The tus endpoint for release artifacts, for a signed-in person. Every request is authorised here before tus reads
 * a byte of it: a new upload only by a developer of the application it names, within the size limit; every later
 * request (status, append, cancel) only by the person who started that upload and while they still may upload to
 * its application. Anyone else's upload is NOT_FOUND, as an unknown id is, so ids cannot be probed.
 */
export async function handleReleaseUpload(actor: UserActor, request: Request, staging: UploadStaging = getUploadStaging()): Promise<Response> {
  switch (request.method) {
    case "POST":
      return staging.handle(request, await admitNewUpload(actor, request));
    case "HEAD":
    case "PATCH":
    case "DELETE":
      await findOwnUpload(actor, idFromPath(request.url), staging);
      return staging.handle(request);
    default:
      throw invalid(`${request.method} is not part of the upload protocol here.`);
  }
}

/**
 * tus's discovery request (OPTIONS): the protocol version, the extensions this endpoint accepts and the size limit.
 * Static facts about the endpoint, no upload's state, so it needs no session (a browser's CORS preflight, which is an
 * OPTIONS request too, never carries one).
 */
export async function describeUploadProtocol(request: Request, staging: UploadStaging = getUploadStaging()): Promise<Response> {
  if (request.method !== "OPTIONS") throw invalid(`${request.method} is not a discovery request.`);
  return staging.handle(request);
}

async function admitNewUpload(actor: UserActor, request: Request) {
  const headers = request.headers;
  if (headers.has("upload-concat")) throw invalid("Parallel (concatenated) uploads are not supported; upload the file in one sequence.");
  if (headers.has("upload-defer-length") || !headers.has("upload-length")) throw invalid("Declare the file's size when starting the upload (Upload-Length).");
  const length = ZUploadLengthSchema.safeParse(headers.get("upload-length"));
  if (!length.success) throw invalid(length.error.issues[0]?.message ?? "Upload-Length must be the file's size in bytes.");
  const size = length.data;
  let declared: Record<string, string | null>;
  try {
    declared = Metadata.parse(headers.get("upload-metadata") ?? undefined) ?? {};
  } catch {
    throw invalid("Upload-Metadata is malformed: comma-separated keys, each with a base64 value.");
  }
  const metadata = parseInput(ZReleaseUploadMetadataSchema, declared);
  // Permission first (a customer learns nothing about the limit), then the size, before any byte is accepted.
  const app = await prepareReleaseUpload(actor, { applicationId: metadata.applicationId });
  const max = env().MAX_ARTIFACT_BYTES;
  if (size > max) throw new AppError("PAYLOAD_TOO_LARGE", `The file is ${formatBytes(size)}; releases are limited to ${formatBytes(max)}.`);
  return { applicationId: app.id, fileName: metadata.fileName, uploaderId: actor.id };
}

/**
 * The upload `id`, if it is the actor's own and they may still upload to its application; NOT_FOUND otherwise
 * (someone else's upload, another tenant's, an expired or unknown one), FORBIDDEN when they lost the right.
 */
export async function findOwnUpload(actor: UserActor, id: string, staging: UploadStaging = getUploadStaging()): Promise<StagedUpload & { owner: NonNullable<StagedUpload["owner"]> }> {
  const upload = UPLOAD_ID.test(id) ? await staging.find(id) : null;
  if (!upload?.owner || upload.owner.uploaderId !== actor.id) throw notFound("Upload");
  // The application existed when the upload was admitted; whether the actor still may upload to it is a question
  // of their roles, which the session loaded for this very request (every PATCH asks, so no query is spent here).
  if (!can(actor, "application.view", upload.owner.applicationId)) throw notFound("Upload");
  assertCan(actor, "release.create", upload.owner.applicationId);
  return { ...upload, owner: upload.owner };
}

function idFromPath(url: string): string {
  const pathname = new URL(url).pathname;
  // Ids are plain hex: anything that needs decoding is not one (and is answered NOT_FOUND).
  return pathname.slice(pathname.lastIndexOf("/") + 1);
}
