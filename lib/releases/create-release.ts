import "server-only";
import { z } from "zod";
import { recordAuditEvent } from "../audit/record-audit-event";
import type { ApiTokenActor, UserActor } from "../auth/actor";
import { assertCan, can } from "../auth/permissions";
import { db } from "../db/client";
import { env } from "../env";
import { AppError, conflict, invalid, isUniqueViolation, notFound } from "../errors";
import { log } from "../log";
import {
  type ArtifactSource,
  type ArtifactStore,
  deleteArtifactIfUnreferenced,
  getArtifactStore,
  lockArtifact,
  type StoredArtifact,
} from "../storage/artifact-store";
import { formatBytes } from "../storage/format-bytes";
import { ZText } from "../validation";

const TRUE = new Set(["true", "1", "yes", "on"]);
const FALSE = new Set(["false", "0", "no", "off", ""]);
/** A yes/no that arrives as JSON boolean, form checkbox ("on") or multipart text ("true", "1", "yes"). */
const ZFlag = z.preprocess((v) => {
  if (typeof v !== "string") return v;
  const s = v.trim().toLowerCase();
  return TRUE.has(s) ? true : FALSE.has(s) ? false : v;
}, z.boolean("Use true or false."));

export const ZReleaseVersionSchema = z
  .string()
  .trim()
  .min(1, "Give the release a version, like 1.4.0.")
  .max(64, "Use at most 64 characters.")
  .regex(/^[A-Za-z0-9][A-Za-z0-9._+-]*$/, "Use letters, digits, dots, dashes, underscores and plus signs, starting with a letter or digit, like 1.4.0 or 2.0.0-rc.1.");

/** The SHA-256 a client declares for its artifact (what `sha256sum` prints), checked against the bytes received. */
export const ZArtifactSha256Schema = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[0-9a-f]{64}$/, "Give the artifact's SHA-256 as 64 hexadecimal digits, as sha256sum prints it.");

export const ZCreateReleaseRequestSchema = z.object({
  applicationId: z.uuid(),
  version: ZReleaseVersionSchema,
  notes: ZText({ max: 20_000, tooLong: "Release notes are limited to 20,000 characters." }).default(""),
  needsMigration: ZFlag.default(false),
  migrationInstructions: ZText({ max: 20_000, tooLong: "Migration instructions are limited to 20,000 characters." }).default(""),
});
export type TCreateReleaseRequest = z.infer<typeof ZCreateReleaseRequestSchema>;

/** The artifact of a new release: bytes still to stream into the store, or bytes stored already (storeReleaseArtifact). */
export type ReleaseArtifact = {
  fileName: string;
  /** The digest the client declared; bytes that hash differently are refused and not kept. */
  expectedSha256?: string;
} & ({ stream: ArtifactSource } | { stored: StoredArtifact });

type Uploader = UserActor | ApiTokenActor;

/**
 * What can be checked before a byte of the artifact is read: the application is visible to the actor, the actor
 * may upload to it, and (when already known) the version is free. An upload refused here costs the client nothing.
 */
export async function prepareReleaseUpload(actor: Uploader, input: { applicationId: string; version?: string }) {
  const app = await db.application.findUnique({ where: { id: input.applicationId }, select: { id: true, name: true, customerId: true } });
  if (!app || !can(actor, "application.view", input.applicationId)) throw notFound("Application");
  assertCan(actor, "release.create", app.id);
  if (input.version !== undefined) {
    const existing = await db.release.findUnique({ where: { applicationId_version: { applicationId: app.id, version: input.version } }, select: { id: true } });
    if (existing) throw versionTaken(input.version, app.name);
  }
  return app;
}

/**
 * Streams an artifact into the store for a release whose metadata has not arrived yet (a multipart upload that sends
 * the file before its fields). The caller then calls createRelease with `{ stored }`, which removes the bytes
 * again if the release is refused.
 */
export async function storeReleaseArtifact(
  actor: Uploader,
  input: { applicationId: string; version?: string },
  source: ArtifactSource,
  options: { expectedSha256?: string; store?: ArtifactStore } = {},
): Promise<StoredArtifact> {
  await prepareReleaseUpload(actor, input);
  const store = options.store ?? getArtifactStore();
  return store.putArtifact(source, { maxBytes: env().MAX_ARTIFACT_BYTES, ...(options.expectedSha256 ? { expectedSha256: options.expectedSha256 } : {}) });
}

/**
 * Records a release candidate: its artifact is streamed into the store first (hashed on the way), then the release
 * row and its RELEASE_CREATED event are written in one transaction. A release that is refused after its bytes were
 * stored (duplicate version, digest mismatch, empty file) leaves no file behind unless another release uses the
 * same bytes. A pipeline's token uploads in its creator's name: separation of duties treats the release as theirs.
 */
export async function createRelease(actor: Uploader, input: TCreateReleaseRequest, artifact: ReleaseArtifact, store: ArtifactStore = getArtifactStore()) {
  // Set as soon as bytes are in the store: from then on, a refusal must remove them again.
  let stored = "stored" in artifact ? artifact.stored : null;
  let appName = "this application";
  try {
    const app = await prepareReleaseUpload(actor, input);
    appName = app.name;
    const expectedSha256 = artifact.expectedSha256?.toLowerCase();
    const saved =
      "stored" in artifact
        ? artifact.stored
        : await store.putArtifact(artifact.stream, { maxBytes: env().MAX_ARTIFACT_BYTES, ...(expectedSha256 ? { expectedSha256 } : {}) });
    stored = saved;
    if (expectedSha256 && expectedSha256 !== saved.sha256) {
      throw new AppError("INVALID_INPUT", `The artifact's SHA-256 does not match the declared one: expected ${expectedSha256}, received ${saved.sha256}.`, {
        fieldErrors: { sha256: [`The uploaded bytes hash to ${saved.sha256}.`] },
      });
    }
    if (saved.size === 0) throw invalid("The artifact is empty. Upload the build archive itself.");
    const fileName = cleanFileName(artifact.fileName);
    const uploadedById = actor.type === "USER" ? actor.id : actor.createdById;
    const uploadedViaTokenId = actor.type === "API_TOKEN" ? actor.tokenId : null;
    return await db.$transaction(async (tx) => {
      // Under this lock the bytes cannot be removed by a refused twin upload until this release references them.
      await lockArtifact(tx, saved.storageKey, "shared");
      if (!(await store.statArtifact(saved.storageKey))) {
        throw conflict("The artifact was removed while the release was being saved (a simultaneous upload of the same file was refused). Upload it again.");
      }
      const release = await tx.release.create({
        data: {
          applicationId: app.id,
          version: input.version,
          notes: input.notes,
          needsMigration: input.needsMigration,
          migrationInstructions: input.migrationInstructions,
          artifactSha256: saved.sha256,
          artifactSize: BigInt(saved.size),
          artifactFileName: fileName,
          artifactStorageKey: saved.storageKey,
          uploadedById,
          uploadedViaTokenId,
        },
        include: { uploadedBy: { select: { id: true, name: true } } },
      });
      await recordAuditEvent(tx, actor, {
        type: "RELEASE_CREATED",
        object: { type: "Release", id: release.id },
        scope: { customerId: app.customerId, applicationId: app.id, releaseId: release.id },
        summary: `uploaded ${app.name} ${release.version} (${formatBytes(saved.size)}, sha256 ${saved.sha256.slice(0, 12)}…)`,
        after: { version: release.version, sha256: saved.sha256, size: saved.size, fileName, needsMigration: release.needsMigration },
        ...(uploadedViaTokenId ? { data: { uploadedById, uploadedViaTokenId } } : {}),
      });
      return release;
    });
  } catch (e) {
    if (stored) {
      const key = stored.storageKey;
      await deleteArtifactIfUnreferenced(key, store).catch((err: unknown) => log.error({ err, storageKey: key }, "could not remove the artifact of a refused release"));
    }
    if (isUniqueViolation(e)) throw versionTaken(input.version, appName);
    throw e;
  }
}

const versionTaken = (version: string, appName: string) => {
  const message = `Version ${version} already exists for ${appName}.`;
  // Named as the version field's error too, so a form shows it beside the field that needs changing.
  return new AppError("CONFLICT", message, { fieldErrors: { version: [`${version} is taken: choose another version.`] } });
};

/** The name to offer on download: the last path segment, without control characters, at most 255 characters. */
function cleanFileName(raw: string): string {
  const base = raw.split(/[\\/]/).pop() ?? "";
  // eslint-disable-next-line no-control-regex
  const clean = base.replace(/[\u0000-\u001f\u007f"]/g, "").trim();
  return (clean.length > 255 ? clean.slice(-255) : clean) || "artifact";
}
