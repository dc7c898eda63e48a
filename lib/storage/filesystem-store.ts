import "server-only";
import { createHash, randomUUID } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, open, readdir, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import type { Env } from "../env";
import { AppError, notFound } from "../errors";
import type { ArtifactSource, ArtifactStore, ByteRange, PutArtifactOptions, StoredArtifact } from "./artifact-store";
import { formatBytes } from "./format-bytes";

const SHA256_HEX = /^[0-9a-f]{64}$/;
const STORAGE_KEY = /^sha256\/([0-9a-f]{2})\/([0-9a-f]{64})$/;
/** Uploads a crashed process left behind are removed after this long (no upload takes a day). */
const STALE_UPLOAD_MS = 24 * 60 * 60_000;

/**
 * Artifacts as files named by their SHA-256: `<root>/sha256/ab/ab12…`. An upload streams into `<root>/tmp/` (the
 * same filesystem, so the final rename is atomic), hashing and counting as it goes, and is renamed into place only
 * once complete and verified. Readers therefore never see a partial file, the same bytes uploaded twice end as one
 * file, and instances sharing the directory need no coordination: a rename either creates the file or replaces it
 * with identical bytes.
 */
export class FilesystemArtifactStore implements ArtifactStore {
  private sweep: Promise<void> | undefined;

  constructor(readonly root: string) {}

  static rootFromEnv(e: Pick<Env, "ARTIFACT_DIR" | "DATA_DIR">): string {
    // A runtime path, not a module: tell the bundler not to trace it.
    return path.resolve(/*turbopackIgnore: true*/ e.ARTIFACT_DIR ?? path.join(e.DATA_DIR, "artifacts"));
  }

  async putArtifact(source: ArtifactSource, { maxBytes, expectedSha256 }: PutArtifactOptions): Promise<StoredArtifact> {
    const tmpDir = path.join(this.root, "tmp");
    await mkdir(tmpDir, { recursive: true });
    this.sweep ??= this.removeStaleUploads(tmpDir).catch(() => undefined);
    const tmp = path.join(tmpDir, `${randomUUID()}.part`);
    const hash = createHash("sha256");
    let size = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        size += chunk.length;
        // Refuse at the first byte too many: the sender learns at once and the disk never holds more than the limit.
        if (size > maxBytes) return done(new AppError("PAYLOAD_TOO_LARGE", `The artifact is larger than the limit of ${formatBytes(maxBytes)}.`));
        hash.update(chunk);
        done(null, chunk);
      },
    });
    try {
      // `flush` fsyncs before close: once the release row commits, its bytes must survive a power cut.
      await pipeline(toNodeStream(source), meter, createWriteStream(tmp, { flags: "wx", mode: 0o640, flush: true }));
      const sha256 = hash.digest("hex");
      if (expectedSha256 !== undefined && expectedSha256.toLowerCase() !== sha256) {
        throw new AppError("INVALID_INPUT", `The artifact's SHA-256 does not match the declared one: expected ${expectedSha256.toLowerCase()}, received ${sha256}.`, {
          fieldErrors: { sha256: [`The uploaded bytes hash to ${sha256}.`] },
        });
      }
      const storageKey = `sha256/${sha256.slice(0, 2)}/${sha256}`;
      const final = this.pathOf(storageKey);
      const existing = await stat(final).catch(() => null);
      if (existing?.isFile() && existing.size === size) {
        await rm(tmp, { force: true });
      } else {
        await mkdir(path.dirname(final), { recursive: true });
        await rename(tmp, final);
      }
      return { sha256, size, storageKey };
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
  }

  async openArtifact(storageKey: string, range?: ByteRange): Promise<{ stream: Readable; size: number }> {
    const file = this.pathOf(storageKey);
    // Open first, then stat the open file: the size and the bytes come from the same file even if it is replaced.
    const handle = await open(file, "r").catch((e: unknown) => {
      if (isMissing(e)) throw notFound("Artifact");
      throw e;
    });
    try {
      const { size } = await handle.stat();
      if (size === 0 && !range) {
        await handle.close();
        return { stream: Readable.from([]), size };
      }
      const start = range?.start ?? 0;
      const end = range?.end ?? size - 1;
      if (start < 0 || start > end + 1 || end >= size) throw new RangeError(`bytes ${start}-${end} are outside an artifact of ${size} bytes`);
      return { stream: createReadStream("", { fd: handle, start, end, autoClose: true }), size };
    } catch (e) {
      await handle.close();
      throw e;
    }
  }

  async statArtifact(storageKey: string): Promise<{ size: number } | null> {
    const s = await stat(this.pathOf(storageKey)).catch((e: unknown) => {
      if (isMissing(e)) return null;
      throw e;
    });
    return s?.isFile() ? { size: s.size } : null;
  }

  async deleteArtifact(storageKey: string): Promise<void> {
    await rm(this.pathOf(storageKey), { force: true });
  }

  /** The file of a storage key; anything but a well-formed key is refused, so a key can never leave the root. */
  private pathOf(storageKey: string): string {
    const m = STORAGE_KEY.exec(storageKey);
    if (!m || !SHA256_HEX.test(m[2]!) || !m[2]!.startsWith(m[1]!)) throw notFound("Artifact");
    return path.join(this.root, "sha256", m[1]!, m[2]!);
  }

  private async removeStaleUploads(tmpDir: string): Promise<void> {
    const cutoff = Date.now() - STALE_UPLOAD_MS;
    for (const name of await readdir(tmpDir).catch(() => [] as string[])) {
      if (!name.endsWith(".part")) continue;
      const file = path.join(tmpDir, name);
      const s = await stat(file).catch(() => null);
      if (s && s.mtimeMs < cutoff) await rm(file, { force: true });
    }
  }
}

function toNodeStream(source: ArtifactSource): Readable {
  if (source instanceof Readable) return source;
  // The DOM and node:stream/web declare the same WHATWG ReadableStream twice; at run time they are one class.
  return Readable.fromWeb(source as WebReadableStream<Uint8Array>);
}

const isMissing = (e: unknown) => typeof e === "object" && e !== null && "code" in e && (e as { code: unknown }).code === "ENOENT";
