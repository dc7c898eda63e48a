import "server-only";
import { createReadStream, createWriteStream, mkdirSync } from "node:fs";
import { readdir, readFile, rm, stat } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { FileStore } from "@tus/file-store";
import { ERRORS, type Locker, Server } from "@tus/server";
import { z } from "zod";
import { env } from "../env";
import { log } from "../log";
import { runPeriodically } from "../util/periodic";
import { FilesystemArtifactStore } from "./filesystem-store";
import { formatBytes } from "./format-bytes";
import { getUploadLocker } from "./upload-locker";
import { UPLOAD_ID, UPLOADS_PATH } from "./upload-protocol";

// Where resumable browser uploads (the tus protocol, @tus/server + @tus/file-store) collect their bytes before they
// become a release: one file per upload plus its `<id>.json` (size, metadata, creation time). The bytes go from the
// request body to the file as they arrive, never held in memory; the offset of an upload is the size of its file,
// so a broken-off request loses only what had not reached the disk. Completing a release (lib/releases/
// complete-release-upload.ts) streams the file into the artifact store, hashing it, then removes it.
//
// The directory is `<artifact root>/uploads`: instances that share ARTIFACT_DIR share the staging area too (a client
// may resume on another instance), and the copy into the store stays on one filesystem. Access to one upload is
// serialised across instances by PostgreSQL advisory locks (upload-locker.ts).

/** Uploads, complete or not, are removed this long after they were created (and refused from then on). */
export const STAGED_UPLOAD_TTL_MS = 24 * 60 * 60_000;
const SWEEP_EVERY_MS = 60 * 60_000;

/** Who an upload belongs to. Set by the server from the session when the upload is created, never by the client. */
export const ZStagedUploadOwnerSchema = z.object({
  applicationId: z.uuid(),
  fileName: z.string().min(1),
  uploaderId: z.uuid(),
});
export type StagedUploadOwner = z.infer<typeof ZStagedUploadOwnerSchema>;

export interface StagedUpload {
  id: string;
  /** Declared at creation (deferred lengths are refused, so always known for uploads created here). */
  size: number;
  /** Bytes received so far. */
  offset: number;
  complete: boolean;
  createdAt: Date;
  /** Null for an upload whose record does not carry an owner: treated as nobody's. */
  owner: StagedUploadOwner | null;
}

const ZUploadInfoSchema = z.object({
  size: z.number().int().nonnegative().optional(),
  metadata: z.record(z.string(), z.string().nullable()).optional(),
  creation_date: z.string().optional(),
});

/**
 * @tus/file-store's FileStore, announcing only the extensions accepted here, with a leaner write: the bytes go from the request straight into the file, without
 * the extra counting stage FileStore puts in between (the count is the write stream's own), in larger writes.
 * Measured with bench/upload.ts: this path is CPU-bound on streaming, so every stage counts.
 */
class StagingFileStore extends FileStore {
  constructor(options: ConstructorParameters<typeof FileStore>[0]) {
    super(options);
    // Announced in OPTIONS' Tus-Extension: only what this endpoint accepts. Deferred lengths are refused before tus
    // sees the request (lib/releases/handle-release-upload.ts: the size limit is checked at creation).
    this.extensions = this.extensions.filter((e) => e !== "creation-defer-length");
  }

  override async write(readable: Readable, id: string, offset: number): Promise<number> {
    if (!UPLOAD_ID.test(id)) throw ERRORS.FILE_NOT_FOUND;
    const file = createWriteStream(path.join(this.directory, id), { flags: "r+", start: offset, highWaterMark: 1024 * 1024 });
    try {
      await pipeline(readable, file);
    } catch (err) {
      // What reached the disk stays: the next HEAD reports it as the offset, and the client continues from there.
      log.debug({ err, uploadId: id }, "an upload request broke off");
      throw ERRORS.FILE_WRITE_ERROR;
    }
    return offset + file.bytesWritten;
  }
}

export class UploadStaging {
  readonly server: Server;
  private readonly store: StagingFileStore;
  /** The owner each admitted creation request may record, handed from the authorisation to tus's create hook. */
  private readonly admitted = new WeakMap<object, StagedUploadOwner>();
  private lastSweep = 0;

  constructor(
    readonly directory: string,
    private readonly options: { maxBytes: number; locker: Locker; ttlMs?: number },
  ) {
    // Created here, synchronously: FileStore's own mkdir runs in the background and throws from a callback.
    mkdirSync(directory, { recursive: true, mode: 0o750 });
    this.store = new StagingFileStore({ directory, expirationPeriodInMilliseconds: this.ttlMs });
    this.server = new Server({
      path: UPLOADS_PATH,
      datastore: this.store,
      locker: options.locker,
      maxSize: options.maxBytes,
      // A relative Location works behind any proxy without trusting forwarded headers.
      relativeLocation: true,
      // Same-origin only: no Access-Control-Allow-Origin at all (tus would send `*` by default).
      allowedOrigins: [],
      // Deny by default: only a request the domain admitted (handle(request, owner)) may create an upload, and the
      // metadata recorded is the admitted owner, whatever the client sent.
      onUploadCreate: async (req) => {
        const owner = this.admitted.get(req);
        if (!owner) throw { status_code: 403, body: "Uploads are created through the release form.\n" };
        return { metadata: { ...owner } };
      },
      onResponseError: (_req, err) => {
        if (err === ERRORS.ERR_MAX_SIZE_EXCEEDED) return { status_code: 413, body: `The file is larger than the limit of ${formatBytes(options.maxBytes)}.\n` };
        if (err === ERRORS.ERR_SIZE_EXCEEDED) return { status_code: 413, body: "More bytes were sent than the upload declared when it started.\n" };
        if (err instanceof Error) log.error({ err }, "upload request failed");
        return undefined;
      },
    });
  }

  private get ttlMs(): number {
    return this.options.ttlMs ?? STAGED_UPLOAD_TTL_MS;
  }

  /**
   * Lets tus answer a request the caller has authorised. A creation (POST) must come with the owner to record;
   * every other request must already have been checked against the upload's recorded owner.
   */
  async handle(request: Request, owner?: StagedUploadOwner): Promise<Response> {
    if (owner) this.admitted.set(request, owner);
    this.sweepSoon();
    return this.server.handleWeb(request);
  }

  /** The upload with this id, or null when there is none (any more): unknown, malformed, expired or removed. */
  async find(id: string, now = Date.now()): Promise<StagedUpload | null> {
    if (!UPLOAD_ID.test(id)) return null;
    const raw = await readFile(path.join(this.directory, `${id}.json`), "utf8").catch(() => null);
    const info = raw === null ? null : ZUploadInfoSchema.safeParse(safeJson(raw));
    if (!info?.success || info.data.size === undefined) return null;
    const bytes = await stat(this.filePath(id)).catch(() => null);
    if (!bytes?.isFile()) return null;
    const createdAt = new Date(info.data.creation_date ?? bytes.birthtimeMs);
    if (Number.isNaN(createdAt.getTime()) || createdAt.getTime() + this.ttlMs < now) return null;
    const owner = ZStagedUploadOwnerSchema.safeParse(info.data.metadata ?? {});
    return {
      id,
      size: info.data.size,
      offset: bytes.size,
      complete: bytes.size === info.data.size,
      createdAt,
      owner: owner.success ? owner.data : null,
    };
  }

  /** The received bytes of an upload, streamed from disk. */
  open(id: string): Readable {
    return createReadStream(this.filePath(id));
  }

  /**
   * Runs `work` holding the upload's lock, the one tus takes for every request on it: while it runs, no request on
   * any instance can append to, terminate or otherwise change the upload.
   */
  async withLock<T>(id: string, work: () => Promise<T>): Promise<T> {
    const lock = this.options.locker.newLock(id);
    // A tus request that wants the upload meanwhile asks us to let go; the work finishes first (it is short and
    // the upload is complete, so the requester is at most a status check).
    await lock.lock(new AbortController().signal, () => undefined);
    try {
      return await work();
    } finally {
      await lock.unlock();
    }
  }

  /** Removes an upload's bytes and record (nothing happens if they are gone already). */
  async remove(id: string): Promise<void> {
    if (!UPLOAD_ID.test(id)) return;
    await rm(this.filePath(id), { force: true });
    await rm(path.join(this.directory, `${id}.json`), { force: true });
  }

  /**
   * Removes every upload older than the time to live, complete or not, and leftovers of crashed creations (a file
   * without its record). Returns how many uploads were removed.
   */
  async sweepExpired(now = Date.now()): Promise<number> {
    const cutoff = now - this.ttlMs;
    const names = await readdir(this.directory).catch(() => [] as string[]);
    const ids = new Set(names.map((n) => n.replace(/\.json$/, "")).filter((n) => UPLOAD_ID.test(n)));
    let removed = 0;
    for (const id of ids) {
      const raw = await readFile(path.join(this.directory, `${id}.json`), "utf8").catch(() => null);
      const info = raw === null ? null : ZUploadInfoSchema.safeParse(safeJson(raw));
      let created = info?.success && info.data.creation_date ? Date.parse(info.data.creation_date) : Number.NaN;
      if (Number.isNaN(created)) {
        const s = (await stat(this.filePath(id)).catch(() => null)) ?? (await stat(path.join(this.directory, `${id}.json`)).catch(() => null));
        created = s?.mtimeMs ?? now;
      }
      if (created < cutoff) {
        await this.remove(id);
        removed++;
      }
    }
    return removed;
  }

  /** Starts a sweep in the background when the last one is more than an hour old (so no timer is needed). */
  sweepSoon(): void {
    const now = Date.now();
    if (now - this.lastSweep < SWEEP_EVERY_MS) return;
    this.lastSweep = now;
    void this.sweepExpired(now)
      .then((n) => n > 0 && log.info({ removed: n }, "removed expired uploads"))
      .catch((err: unknown) => log.warn({ err }, "could not sweep expired uploads"));
  }

  private filePath(id: string): string {
    if (!UPLOAD_ID.test(id)) throw ERRORS.FILE_NOT_FOUND;
    return path.join(this.directory, id);
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

let staging: UploadStaging | undefined;

/** The configured staging area: `<ARTIFACT_DIR or DATA_DIR/artifacts>/uploads`, limited to MAX_ARTIFACT_BYTES. */
export function getUploadStaging(): UploadStaging {
  staging ??= new UploadStaging(path.join(FilesystemArtifactStore.rootFromEnv(env()), "uploads"), {
    maxBytes: env().MAX_ARTIFACT_BYTES,
    locker: getUploadLocker(),
  });
  return staging;
}

/** Removes abandoned uploads (older than STAGED_UPLOAD_TTL_MS) every hour, also on an instance nobody uploads to. */
export function startUploadSweepTimer(): void {
  runPeriodically("abandoned uploads", 60 * 60_000, () => getUploadStaging().sweepExpired(), (err) => log.error({ err }, "sweeping abandoned uploads failed"));
}
