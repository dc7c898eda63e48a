import "server-only";
import type { ApiTokenActor, UserActor } from "../auth/actor";
import { readMultipart } from "../entry/multipart";
import { env } from "../env";
import { AppError, invalid } from "../errors";
import { log } from "../log";
import { deleteArtifactIfUnreferenced, type StoredArtifact } from "../storage/artifact-store";
import { formatBytes } from "../storage/format-bytes";
import { parseInput } from "../validation";
import { createRelease, storeReleaseArtifact, type TCreateReleaseRequest, ZArtifactSha256Schema, ZCreateReleaseRequestSchema } from "./create-release";

const FIELDS = new Set(["version", "notes", "needsMigration", "migrationInstructions", "sha256"]);
const FILE_FIELD = "artifact";
const USAGE = `The fields are version, notes, needsMigration, migrationInstructions and sha256, then the file as ${FILE_FIELD} (curl -F version=1.4.0 -F ${FILE_FIELD}=@build.tar.gz).`;
/** Room for multipart framing and the text fields on top of the artifact itself. */
const ENVELOPE_BYTES = 1024 * 1024;

/**
 * A release upload over multipart/form-data, streamed: the artifact goes from the request body through busboy
 * straight into the artifact store. Fields sent before the file are validated before a byte of it is stored (a
 * wrong version or a duplicate costs nothing); fields after it are validated at the end, and a refusal then removes
 * the stored bytes again. The release row and its audit event are written only when everything has arrived.
 */
export async function receiveReleaseUpload(actor: UserActor | ApiTokenActor, applicationId: string, request: Request) {
  const maxBytes = env().MAX_ARTIFACT_BYTES;
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > maxBytes + ENVELOPE_BYTES) throw new AppError("PAYLOAD_TOO_LARGE", `The artifact is larger than the limit of ${formatBytes(maxBytes)}.`);

  const fields: Record<string, string> = {};
  // Set once the artifact is in the store; `verified` = its declared digest was already checked while streaming.
  const received: { upload?: { stored: StoredArtifact; fileName: string; verified: boolean } } = {};
  const discard = (stored: StoredArtifact) =>
    deleteArtifactIfUnreferenced(stored.storageKey).catch((err: unknown) => log.error({ err, storageKey: stored.storageKey }, "could not remove a refused upload"));
  const declaredSha256 = () => (fields.sha256 === undefined ? undefined : parseInput(ZArtifactSha256Schema, fields.sha256));
  try {
    await readMultipart(request, { fieldBytes: 100 * 1024, fields: FIELDS.size, files: 1 }, {
      onField(name, value) {
        if (name === FILE_FIELD) throw invalid(`Send ${FILE_FIELD} as a file: curl -F ${FILE_FIELD}=@build.tar.gz (with the @).`);
        if (!FIELDS.has(name)) throw invalid(`Unknown field "${name}". ${USAGE}`);
        if (Object.hasOwn(fields, name)) throw invalid(`The field ${name} was sent twice.`);
        fields[name] = value;
      },
      async onFile(name, stream, info) {
        if (name !== FILE_FIELD) throw invalid(`Unknown file field "${name}". ${USAGE}`);
        // Metadata sent first is checked in full now, before the upload is accepted.
        if (fields.version !== undefined) parseInput(ZCreateReleaseRequestSchema, { ...fields, applicationId });
        const expectedSha256 = declaredSha256();
        const stored = await storeReleaseArtifact(actor, { applicationId, ...(fields.version !== undefined ? { version: fields.version.trim() } : {}) }, stream, {
          ...(expectedSha256 ? { expectedSha256 } : {}),
        });
        received.upload = { stored, fileName: info.fileName ?? "artifact", verified: expectedSha256 !== undefined };
      },
    });
  } catch (e) {
    // Anything refused after the bytes were stored (a bad field after the file, a broken body) removes them again.
    if (received.upload) await discard(received.upload.stored);
    throw e;
  }
  const done = received.upload;
  if (!done) throw invalid(`Attach the build as the file field ${FILE_FIELD}. ${USAGE}`);
  let input: TCreateReleaseRequest;
  let expectedSha256: string | undefined;
  try {
    input = parseInput(ZCreateReleaseRequestSchema, { ...fields, applicationId });
    expectedSha256 = done.verified ? undefined : declaredSha256();
  } catch (e) {
    await discard(done.stored);
    throw e;
  }
  return createRelease(actor, input, { stored: done.stored, fileName: done.fileName, ...(expectedSha256 ? { expectedSha256 } : {}) });
}
