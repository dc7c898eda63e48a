// Downloads a build artifact to disk, resumably, and proves it is the build the control plane recorded (size and
// SHA-256) before anyone may use it. Artifacts can be gigabytes and agents sit on flaky links, so:
// - bytes go straight to `dest.part` and are hashed on the way; the file is never held in memory;
// - an interrupted transfer resumes from what `dest.part` holds (HTTP Range), within this call (retries) and across
//   calls (the part file stays after a transient failure);
// - `dest` only ever appears complete and verified (rename), and a part file that fails verification is deleted so
//   the next attempt starts clean instead of resuming garbage;
// - a full disk deletes the part file too: the node's live release and its app share that disk.
import { createHash, type Hash } from "node:crypto";
import { createReadStream } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { describeFetchError } from "../fetch-error";

export interface DownloadOptions {
  url: string;
  /** e.g. the agent's bearer credential. */
  headers?: Record<string, string>;
  dest: string;
  expectedSha256: string;
  expectedSize: number;
  onProgress?: (bytesDone: number, total: number) => void;
  /** Resumes, restarts and retries, for the deployment log. */
  onLog?: (message: string) => void;
  signal?: AbortSignal;
  /** Further attempts after a transient failure (network error, 408, 429, 5xx). */
  retries?: number;
  /** First wait between attempts; doubles each time, capped at 30 s. */
  retryDelayMs?: number;
}

export interface DownloadResult {
  bytes: number;
  /** Requests made, including the ones that failed and were retried. */
  requests: number;
}

/** The bytes are not the recorded build. The part file has been deleted. Retrying the same source is pointless. */
export class ArtifactMismatchError extends Error {
  constructor(
    readonly kind: "size" | "sha256",
    readonly expected: string | number,
    readonly actual: string | number,
  ) {
    super(
      kind === "size"
        ? `Artifact size mismatch: expected ${expected} bytes, got ${actual}.`
        : `Artifact SHA-256 mismatch: expected ${expected}, got ${actual}.`,
    );
    this.name = "ArtifactMismatchError";
  }
}

/** The server refused or failed. `transient` failures are retried before this reaches the caller. */
export class ArtifactDownloadError extends Error {
  constructor(
    message: string,
    readonly status: number | undefined,
    readonly transient: boolean,
  ) {
    super(message);
    this.name = "ArtifactDownloadError";
  }
}

/** The part file cannot be resumed from (server says the range is unsatisfiable, or resumed elsewhere). */
class RestartFromScratch extends Error {}

const MAX_RETRY_DELAY_MS = 30_000;

export async function downloadArtifact(options: DownloadOptions): Promise<DownloadResult> {
  const { dest, expectedSize, signal } = options;
  const expectedSha256 = options.expectedSha256.toLowerCase();
  const part = `${dest}.part`;
  const retries = options.retries ?? 5;
  let wait = options.retryDelayMs ?? 1000;
  await fs.mkdir(path.dirname(dest), { recursive: true });

  // A part file as long as the artifact is a download that finished but was not renamed (crash in between).
  const have = await sizeOf(part);
  if (have > expectedSize) await fs.rm(part, { force: true });
  if (have > 0 && have === expectedSize) {
    const hash = await hashFile(part);
    if (hash.digest("hex") === expectedSha256) {
      await fs.rename(part, dest);
      return { bytes: expectedSize, requests: 0 };
    }
    await fs.rm(part, { force: true });
  }

  let requests = 0;
  for (let failures = 0; ; ) {
    signal?.throwIfAborted();
    try {
      requests++;
      const { hash, bytes } = await attempt(options, part);
      await verify(part, { bytes, sha256: hash.digest("hex") }, { bytes: expectedSize, sha256: expectedSha256 });
      await fs.rename(part, dest);
      return { bytes, requests };
    } catch (error) {
      if (error instanceof RestartFromScratch) {
        options.onLog?.(`Partial download unusable (${error.message}); starting over.`);
        await fs.rm(part, { force: true });
        if (++failures > retries) throw new ArtifactDownloadError(`Download of ${options.url} failed: ${error.message}`, undefined, false);
        continue;
      }
      if (isDiskFull(error)) {
        // Keeping the part file for a resume would keep the disk full, under the release the node serves now.
        await fs.rm(part, { force: true });
        throw error;
      }
      if (signal?.aborted || !isTransient(error) || ++failures > retries) throw error;
      options.onLog?.(`Download interrupted (${describeFetchError(error)}); retrying in ${wait / 1000}s (retry ${failures} of ${retries}).`);
      await delay(wait, undefined, { signal });
      wait = Math.min(wait * 2, MAX_RETRY_DELAY_MS);
    }
  }
}

/** One GET, resuming from the part file. Resolves once the response body is on disk, with the hash of the whole part. */
async function attempt(options: DownloadOptions, part: string): Promise<{ hash: Hash; bytes: number }> {
  const { url, expectedSize, onProgress, signal } = options;
  // Re-read what is on disk rather than trusting our own count: a failed attempt may have written part of a chunk.
  const have = await sizeOf(part);
  const headers: Record<string, string> = {
    ...options.headers,
    // Byte ranges and the hash are about the stored bytes; a transparently decompressed body would match neither.
    "accept-encoding": "identity",
  };
  if (have > 0) {
    headers.range = `bytes=${have}-`;
    options.onLog?.(`Resuming the download at byte ${have} of ${expectedSize}.`);
  }

  const response = await fetch(url, { headers, signal, redirect: "follow" });
  let offset: number;
  if (response.status === 206 && have > 0) {
    offset = rangeStart(response.headers.get("content-range"));
    if (offset !== have) {
      await response.body?.cancel();
      throw new RestartFromScratch(`asked to resume at byte ${have}, the server answered from ${offset}`);
    }
  } else if (response.status === 200) {
    // No Range sent, or the server ignores it: the body is the whole artifact.
    if (have > 0) options.onLog?.("The server does not resume downloads; downloading from the start.");
    offset = 0;
  } else if (response.status === 416 && have > 0) {
    // The server's copy is no longer than our part file, yet it did not verify: the part file is suspect.
    await response.body?.cancel();
    throw new RestartFromScratch("the server cannot serve the rest of the partial download");
  } else {
    await response.body?.cancel();
    const transient = response.status === 408 || response.status === 429 || response.status >= 500;
    throw new ArtifactDownloadError(
      `Download of ${url} failed: HTTP ${response.status} ${response.statusText}`.trim(),
      response.status,
      transient,
    );
  }
  if (!response.body) throw new ArtifactDownloadError(`Download of ${url} returned no body`, response.status, true);

  const hash = offset > 0 ? await hashFile(part) : createHash("sha256");
  const file = await fs.open(part, offset > 0 ? "a" : "w");
  let bytes = offset;
  let tooLong = false;
  try {
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      bytes += value.byteLength;
      if (bytes > expectedSize) {
        // Stop reading: a server that sends more than the recorded size might never stop.
        tooLong = true;
        await reader.cancel();
        break;
      }
      hash.update(value);
      await file.write(value);
      onProgress?.(bytes, expectedSize);
    }
    // The rename that follows must not publish a file whose tail is still only in the page cache.
    if (!tooLong) await file.sync();
  } finally {
    await file.close();
  }
  if (tooLong) {
    await fs.rm(part, { force: true });
    throw new ArtifactMismatchError("size", expectedSize, `at least ${bytes}`);
  }
  return { hash, bytes };
}

async function verify(
  part: string,
  actual: { bytes: number; sha256: string },
  expected: { bytes: number; sha256: string },
): Promise<void> {
  let mismatch: ArtifactMismatchError | undefined;
  if (actual.bytes !== expected.bytes) mismatch = new ArtifactMismatchError("size", expected.bytes, actual.bytes);
  else if (actual.sha256 !== expected.sha256) mismatch = new ArtifactMismatchError("sha256", expected.sha256, actual.sha256);
  if (mismatch) {
    await fs.rm(part, { force: true });
    throw mismatch;
  }
}

/** "bytes 100-999/1000" -> 100. */
function rangeStart(contentRange: string | null): number {
  const match = /^bytes (\d+)-\d+\/(?:\d+|\*)$/.exec(contentRange?.trim() ?? "");
  return match ? Number(match[1]) : -1;
}

/**
 * Network failures surface from fetch (and from reading its body) as TypeErrors ("fetch failed", "terminated");
 * file system errors, mismatches and aborts do not, and retrying them would not help.
 */
function isTransient(error: unknown): boolean {
  if (error instanceof ArtifactDownloadError) return error.transient;
  return error instanceof TypeError;
}

function isDiskFull(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === "ENOSPC" || code === "EDQUOT";
}

async function hashFile(file: string): Promise<Hash> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash;
}

async function sizeOf(file: string): Promise<number> {
  try {
    return (await fs.stat(file)).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return 0;
    throw error;
  }
}
