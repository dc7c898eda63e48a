import "server-only";
import { z } from "zod";
import type { UserActor } from "../auth/actor";
import { AppError, conflict } from "../errors";
import { log } from "../log";
import { type ArtifactStore, getArtifactStore } from "../storage/artifact-store";
import { formatBytes } from "../storage/format-bytes";
import { UPLOAD_ID } from "../storage/upload-protocol";
import { getUploadStaging, type UploadStaging } from "../storage/upload-staging";
import { parseInput } from "../validation";
import { createRelease, prepareReleaseUpload, storeReleaseArtifact, ZArtifactSha256Schema, ZCreateReleaseRequestSchema } from "./create-release";
import { findOwnUpload } from "./handle-release-upload";

const emptyAsUndefined = (v: unknown) => (typeof v === "string" && v.trim() === "" ? undefined : v);

/** The release form: the release's fields, the finished browser upload, and optionally the digest the uploader expects. */
export const ZCompleteReleaseUploadRequestSchema = ZCreateReleaseRequestSchema.extend({
  uploadId: z.string("Upload the build first, then save the release.").regex(UPLOAD_ID, "Upload the build first, then save the release."),
  sha256: z.preprocess(emptyAsUndefined, ZArtifactSha256Schema.optional()),
});
export type TCompleteReleaseUploadRequest = z.input<typeof ZCompleteReleaseUploadRequestSchema>;

const gone = () =>
  new AppError("NOT_FOUND", "The uploaded file is no longer available (uploads are kept for 24 hours). Upload it again.", {
    fieldErrors: { uploadId: ["Upload the file again."] },
  });

/**
 * Turns a finished browser upload into a release candidate. Refusals that cost nothing come first (permission,
 * version taken, someone else's or an unfinished upload); then, holding the upload's lock so nothing can change it
 * meanwhile, its bytes are streamed into the artifact store and hashed there (a declared digest that differs is
 * refused and nothing is kept), and createRelease writes the release and its RELEASE_CREATED event in one
 * transaction. Only then is the staged upload removed: after any refusal it stays, so the person fixes the form and
 * saves again without uploading again.
 */
export async function completeReleaseUpload(
  actor: UserActor,
  raw: TCompleteReleaseUploadRequest,
  options: { staging?: UploadStaging; store?: ArtifactStore } = {},
) {
  const input = parseInput(ZCompleteReleaseUploadRequestSchema, raw);
  const staging = options.staging ?? getUploadStaging();
  const store = options.store ?? getArtifactStore();
  await prepareReleaseUpload(actor, { applicationId: input.applicationId, version: input.version });
  const ownUpload = async () => {
    const upload = await findOwnUpload(actor, input.uploadId, staging).catch((e: unknown) => {
      throw e instanceof AppError && e.code === "NOT_FOUND" ? gone() : e;
    });
    // The same person's upload for another application is not this form's file either.
    if (upload.owner.applicationId !== input.applicationId) throw gone();
    if (!upload.complete) {
      throw conflict(`The upload is not finished yet: ${formatBytes(upload.offset)} of ${formatBytes(upload.size)} received. Save again when it is complete.`);
    }
    return upload;
  };
  // Checked before taking the lock too: taking it asks a running append to stop, and an unfinished upload must not
  // be interrupted by an early click on Save.
  await ownUpload();
  return staging.withLock(input.uploadId, async () => {
    const upload = await ownUpload();
    const stored = await storeReleaseArtifact(actor, { applicationId: input.applicationId, version: input.version }, staging.open(upload.id), {
      ...(input.sha256 ? { expectedSha256: input.sha256 } : {}),
      store,
    });
    const release = await createRelease(
      actor,
      {
        applicationId: input.applicationId,
        version: input.version,
        notes: input.notes,
        needsMigration: input.needsMigration,
        migrationInstructions: input.migrationInstructions,
      },
      { stored, fileName: upload.owner.fileName },
      store,
    );
    await staging.remove(upload.id).catch((err: unknown) => log.warn({ err, uploadId: upload.id }, "could not remove a used upload; the sweep will"));
    return release;
  });
}
