// Unpacks a verified build archive (.tar.gz/.tgz/.tar or .zip) into a release directory, refusing anything that could
// write outside it, plant a device, or fill the disk. The archive's sha256 was checked against what the control plane
// recorded, but the archive itself was made by whoever uploaded the build, so every entry is treated as hostile.
//
// INVARIANTS
// - Nothing is ever visible under `destDir` unless every entry was extracted: we unpack into a sibling
//   `destDir.tmp-<random>` and rename it into place at the end; on any failure the temporary directory is removed.
// - Every path and link target is checked here, by one policy for both formats, before anything is written for it;
//   the libraries' own sanitising (node-tar strips a leading "/", skips "..") is a second line, not the one we rely on.
// - Limits count bytes actually written, not sizes the archive declares (a zip's sizes are just numbers in a header).
import { randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { Transform, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import * as tar from "tar";
import yauzl from "yauzl";

export interface ExtractLimits {
  /** Entries of any kind (files, directories, links). */
  maxEntries: number;
  /** Bytes of any single file. */
  maxEntryBytes: number;
  /** Bytes of all files together. */
  maxTotalBytes: number;
}

export const DEFAULT_EXTRACT_LIMITS: ExtractLimits = {
  maxEntries: 100_000,
  maxEntryBytes: 2 * 1024 ** 3,
  maxTotalBytes: 8 * 1024 ** 3,
};

export type ArchiveFormat = "tar.gz" | "tar" | "zip";

export interface ExtractResult {
  format: ArchiveFormat;
  entries: number;
  bytes: number;
}

/** The archive tries to do something a build must not: the whole archive is refused and nothing is left behind. */
export class UnsafeArchiveError extends Error {
  /** The offending entry's name as the archive spells it, when one entry is to blame. */
  readonly entry: string | undefined;

  constructor(message: string, entry?: string) {
    super(entry === undefined ? message : `${JSON.stringify(entry)}: ${message}`);
    this.name = "UnsafeArchiveError";
    this.entry = entry;
  }
}

/** A symbolic link's target is read from the archive into memory; no sane build has a longer one. */
const MAX_LINK_TARGET_BYTES = 4096;

export async function extractArchive(
  file: string,
  destDir: string,
  limits: Partial<ExtractLimits> = {},
): Promise<ExtractResult> {
  const lim: ExtractLimits = { ...DEFAULT_EXTRACT_LIMITS, ...limits };
  const dest = path.resolve(destDir);
  if (await pathExists(dest)) throw new Error(`Cannot extract into ${dest}: it already exists.`);
  const format = await detectArchiveFormat(file);

  // Tar has no index: read it once without writing anything, so an unsafe archive is refused before the first byte
  // lands on disk. The second pass checks every entry again anyway (it is the one that writes).
  if (format !== "zip") await listTar(file, new EntryPolicy(lim));

  await fs.mkdir(path.dirname(dest), { recursive: true });
  const tmp = `${dest}.tmp-${randomBytes(8).toString("hex")}`;
  await fs.mkdir(tmp, { mode: 0o755 });
  try {
    const counts = format === "zip" ? await unpackZip(file, tmp, lim) : await unpackTar(file, tmp, lim);
    await fs.rename(tmp, dest);
    return { format, ...counts };
  } catch (error) {
    await removeTree(tmp);
    throw error;
  }
}

/** By magic bytes first: a build's file name is whatever its uploader typed. The name only decides for old tars. */
export async function detectArchiveFormat(file: string): Promise<ArchiveFormat> {
  const head = Buffer.alloc(512);
  const handle = await fs.open(file, "r");
  let length: number;
  try {
    ({ bytesRead: length } = await handle.read(head, 0, head.length, 0));
  } finally {
    await handle.close();
  }
  if (length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return "tar.gz";
  // A local file header, or the end-of-central-directory record of an empty zip.
  if (length >= 4 && head.readUInt32LE(0) === 0x04034b50) return "zip";
  if (length >= 4 && head.readUInt32LE(0) === 0x06054b50) return "zip";
  if (length >= 262 && head.toString("latin1", 257, 262) === "ustar") return "tar";
  // Pre-POSIX (v7) tars carry no magic at all.
  if (/\.tar$/i.test(file) && length === 512) return "tar";
  throw new Error(`${path.basename(file)} is not a .tar.gz, .tgz, .tar or .zip archive.`);
}

// ---------------------------------------------------------------------------------------------------------------
// The policy: one instance per pass over an archive, fed every entry in archive order.

type EntryKind = "file" | "directory" | "symlink" | "hardlink";

interface ArchiveEntry {
  /** The name exactly as stored. */
  name: string;
  /** What it is, or the archive's word for a kind we refuse ("CharacterDevice", "FIFO"...). */
  kind: EntryKind | { unsupported: string };
  /** Declared size of the data (0 for directories and links). */
  size: number;
  /** Hard link targets are known from the header; a zip symlink's target is checked later, once read. */
  linkTarget?: string;
}

class EntryPolicy {
  private entries = 0;
  private declaredBytes = 0;
  private writtenBytes = 0;
  /** Normalised path -> what is there, including directories implied by deeper entries. */
  private readonly seen = new Map<string, EntryKind>();

  constructor(private readonly limits: ExtractLimits) {}

  get counts(): { entries: number; bytes: number } {
    return { entries: this.entries, bytes: this.writtenBytes };
  }

  /** Returns the entry's normalised relative path ("" for the archive's own root directory), or throws. */
  admit(entry: ArchiveEntry): string {
    if (++this.entries > this.limits.maxEntries) {
      throw new UnsafeArchiveError(`more than ${this.limits.maxEntries} entries`);
    }
    const { name, kind } = entry;
    if (typeof kind !== "string") {
      throw new UnsafeArchiveError(`is a ${kind.unsupported} entry; only files, directories and links are allowed`, name);
    }
    const rel = normaliseEntryPath(name);
    if (rel === "") {
      // "./" is how `tar -C dir .` names the root; anything else there would replace the release directory itself.
      if (kind === "directory") return rel;
      throw new UnsafeArchiveError("names the extraction directory itself", name);
    }

    const parts = rel.split("/");
    for (let i = 1; i < parts.length; i++) {
      const ancestor = parts.slice(0, i).join("/");
      const there = this.seen.get(ancestor);
      // A file written "through" an earlier symlink lands wherever that link points; through a file it just fails.
      if (there !== undefined && there !== "directory") {
        throw new UnsafeArchiveError(`lies inside ${JSON.stringify(ancestor)}, which is a ${there}`, name);
      }
    }
    const before = this.seen.get(rel);
    if (before !== undefined && !(before === "directory" && kind === "directory")) {
      // Replacing an entry (a directory by a symlink, a file by a link...) is how traversal tricks are built; a build
      // archive has no reason to name a path twice.
      throw new UnsafeArchiveError(`appears twice (already a ${before})`, name);
    }

    if (entry.size > this.limits.maxEntryBytes) {
      throw new UnsafeArchiveError(`declares ${entry.size} bytes, more than the ${this.limits.maxEntryBytes} bytes allowed per file`, name);
    }
    this.declaredBytes += entry.size;
    if (this.declaredBytes > this.limits.maxTotalBytes) {
      throw new UnsafeArchiveError(`the files add up to more than the ${this.limits.maxTotalBytes} bytes allowed`);
    }

    if (kind === "hardlink") {
      // Tar hard link targets are relative to the archive root, not to the link.
      const target = entry.linkTarget ?? "";
      if (isAbsoluteName(target)) throw new UnsafeArchiveError(`hard link to the absolute path ${target}`, name);
      const targetRel = normaliseEntryPath(target, name);
      if (this.seen.get(targetRel) !== "file") {
        throw new UnsafeArchiveError(`hard link to ${JSON.stringify(target)}, which is not an earlier file in the archive`, name);
      }
    }
    if (kind === "symlink" && entry.linkTarget !== undefined) checkSymlinkTarget(rel, entry.linkTarget, name);

    for (let i = 1; i < parts.length; i++) {
      const ancestor = parts.slice(0, i).join("/");
      if (!this.seen.has(ancestor)) this.seen.set(ancestor, "directory");
    }
    this.seen.set(rel, kind);
    return rel;
  }

  /** Counts bytes as they are written; the declared size of an entry is a claim, this is the fact. */
  countWritten(name: string, entryBytesSoFar: number, chunk: number): void {
    this.writtenBytes += chunk;
    if (entryBytesSoFar > this.limits.maxEntryBytes) {
      throw new UnsafeArchiveError(`holds more than the ${this.limits.maxEntryBytes} bytes allowed per file`, name);
    }
    if (this.writtenBytes > this.limits.maxTotalBytes) {
      throw new UnsafeArchiveError(`the files add up to more than the ${this.limits.maxTotalBytes} bytes allowed`);
    }
  }
}

function isAbsoluteName(name: string): boolean {
  return name.startsWith("/") || name.startsWith("\\") || /^[A-Za-z]:/.test(name);
}

/**
 * "./a//b/" -> "a/b". Refuses absolute names and any ".." segment, even one that would stay inside ("a/../b"):
 * a build has no use for it and allowing it means reasoning about what each prefix is on disk.
 * Backslashes count as separators for the ".." check so "..\\x" cannot slip through on any platform.
 */
function normaliseEntryPath(name: string, entryForMessage = name): string {
  if (name.includes("\0")) throw new UnsafeArchiveError("contains a NUL byte", entryForMessage);
  if (isAbsoluteName(name)) throw new UnsafeArchiveError("is an absolute path", entryForMessage);
  if (name.split(/[\\/]/).includes("..")) throw new UnsafeArchiveError("contains a '..' segment", entryForMessage);
  return name
    .split("/")
    .filter((s) => s !== "" && s !== ".")
    .join("/");
}

/**
 * A symlink may point only inside the extraction directory, judged from the link's own directory. Its target may
 * climb with leading ".." segments but never after a name ("a/../b"): the climb then happens from real directories
 * (no entry is ever written through a link, see `admit`), so a lexical check is exact. "s/.." would not be: if `s`
 * is itself a link to ".", "s/.." is the parent of the extraction directory.
 */
function checkSymlinkTarget(linkRel: string, target: string, name: string): void {
  if (target === "") throw new UnsafeArchiveError("symbolic link with an empty target", name);
  if (target.includes("\0")) throw new UnsafeArchiveError("symbolic link target contains a NUL byte", name);
  if (isAbsoluteName(target)) throw new UnsafeArchiveError(`symbolic link to the absolute path ${target}`, name);
  const segments = target.split(/[\\/]/).filter((s) => s !== "" && s !== ".");
  const ups = segments.findIndex((s) => s !== "..");
  const climbs = ups === -1 ? segments.length : ups;
  if (segments.slice(climbs).includes("..")) {
    throw new UnsafeArchiveError(`symbolic link target ${JSON.stringify(target)} has '..' after a name`, name);
  }
  const depth = linkRel.split("/").length - 1;
  if (climbs > depth) {
    throw new UnsafeArchiveError(`symbolic link to ${JSON.stringify(target)} points outside the extraction directory`, name);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Tar, through node-tar.

const TAR_KINDS: Record<string, EntryKind> = {
  File: "file",
  OldFile: "file",
  ContiguousFile: "file",
  Directory: "directory",
  SymbolicLink: "symlink",
  Link: "hardlink",
};

function tarEntry(entry: tar.ReadEntry): ArchiveEntry {
  const kind = TAR_KINDS[entry.type];
  return {
    name: entry.path,
    kind: kind ?? { unsupported: entry.type },
    size: entry.size,
    linkTarget: entry.linkpath,
  };
}

/** First pass: parse every header, write nothing. */
async function listTar(file: string, policy: EntryPolicy): Promise<void> {
  const parser = new tar.Parser({ strict: true });
  await drive(file, parser, "end", (fail) => {
    parser.on("entry", (entry: tar.ReadEntry) => {
      try {
        policy.admit(tarEntry(entry));
      } catch (error) {
        fail(error);
      }
      entry.resume();
    });
    // node-tar skips entry types it does not know (sparse files, volume labels...) without calling us.
    parser.on("ignoredEntry", (entry: tar.ReadEntry) => {
      fail(new UnsafeArchiveError(`has an unsupported entry type (${entry.type})`, entry.path));
    });
    return (error) => parser.abort(asError(error));
  });
}

/** Second pass: extract, with the same policy deciding again and every written byte counted. */
async function unpackTar(file: string, dir: string, limits: ExtractLimits): Promise<{ entries: number; bytes: number }> {
  const policy = new EntryPolicy(limits);
  // Set once drive() starts: a refusal in the filter must stop the whole extraction, not just skip the entry.
  let failEarly: (error: unknown) => void = () => {};
  const unpack = new tar.Unpack({
    cwd: dir,
    strict: true,
    // node-tar preserves ownership when run as root, which the agent may be: the build's owner ids mean nothing here.
    preserveOwner: false,
    filter: (_path, entry) => {
      if (!("type" in entry)) return false; // a Stats object: only when creating archives
      try {
        policy.admit(tarEntry(entry));
      } catch (error) {
        failEarly(error);
        return false;
      }
      // Keep permission bits (executables stay executable) but never setuid/setgid/sticky: the agent may run as root
      // and the files are owned by it.
      if (typeof entry.mode === "number") entry.mode &= 0o777;
      return true;
    },
    transform: (entry) => {
      if (TAR_KINDS[entry.type] !== "file") return undefined;
      // node-tar only pipes the entry through what we return, so any stream will do despite the declared type.
      return byteCounter(entry.path, policy) as unknown as tar.ReadEntry;
    },
  });
  await drive(file, unpack, "close", (fail) => {
    failEarly = fail;
    return (error) => unpack.abort(asError(error));
  });
  return policy.counts;
}

/**
 * Pipes `file` into a node-tar parser and settles once it emits `doneEvent` or fails. The first failure wins (later
 * ones are echoes of the abort) and stops reading, so a refused archive is not decompressed to the end.
 */
function drive(
  file: string,
  sink: tar.Parser,
  doneEvent: "end" | "close",
  wire: (fail: (error: unknown) => void) => (error: unknown) => void,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const source = createReadStream(file);
    let settled = false;
    const fail = (error: unknown) => {
      if (settled) return;
      settled = true;
      source.unpipe();
      source.destroy();
      abort(error);
      reject(error);
    };
    const abort = wire(fail);
    sink.on("error", fail);
    source.on("error", fail);
    sink.on(doneEvent, () => {
      if (settled) return;
      settled = true;
      resolve();
    });
    source.pipe(sink);
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Zip, through yauzl.

const S_IFMT = 0o170000;
const UNIX_KINDS: Record<number, EntryKind | { unsupported: string }> = {
  0o100000: "file",
  0o040000: "directory",
  0o120000: "symlink",
  0o020000: { unsupported: "character device" },
  0o060000: { unsupported: "block device" },
  0o010000: { unsupported: "FIFO" },
  0o140000: { unsupported: "socket" },
};

interface ZipItem {
  entry: yauzl.Entry;
  name: string;
  kind: EntryKind;
  rel: string;
  mode: number;
}

function describeZipEntry(entry: yauzl.Entry): { name: string; kind: ArchiveEntry["kind"]; mode: number } {
  // Names are decoded here rather than by yauzl so that our policy, not yauzl's, refuses bad ones with a typed error.
  // Backslashes become slashes as yauzl does by default: old Windows tools wrote them as separators.
  const name = yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, entry.fileNameRaw, entry.extraFields, false);
  const madeOnUnix = entry.versionMadeBy >> 8 === 3;
  const unixMode = madeOnUnix ? (entry.externalFileAttributes >>> 16) & 0xffff : 0;
  const type = unixMode & S_IFMT;
  let kind: ArchiveEntry["kind"];
  if (type === 0) kind = name.endsWith("/") ? "directory" : "file";
  else kind = UNIX_KINDS[type] ?? { unsupported: `type ${type.toString(8)}` };
  if (kind === "file" && name.endsWith("/")) kind = "directory";
  const perms = unixMode & 0o777;
  const mode = kind === "directory" ? (perms || 0o755) | 0o700 : perms || 0o644;
  return { name, kind, mode };
}

async function unpackZip(file: string, dir: string, limits: ExtractLimits): Promise<{ entries: number; bytes: number }> {
  const zip = await yauzl.openPromise(file, {
    lazyEntries: true,
    autoClose: false,
    decodeStrings: false,
    validateEntrySizes: true,
  });
  try {
    // The count in the end record is only a claim too, but refusing early on it spares reading a huge directory.
    if (zip.entryCount > limits.maxEntries) throw new UnsafeArchiveError(`more than ${limits.maxEntries} entries`);

    // The central directory holds every entry's name, kind and size: judge them all before writing anything.
    const policy = new EntryPolicy(limits);
    const items: ZipItem[] = [];
    for await (const entry of zip.eachEntry()) {
      const { name, kind, mode } = describeZipEntry(entry);
      if (entry.isEncrypted()) throw new UnsafeArchiveError("is encrypted", name);
      if (!entry.canDecodeFileData()) {
        throw new UnsafeArchiveError(`uses unsupported compression method ${entry.compressionMethod}`, name);
      }
      if (kind === "symlink" && entry.uncompressedSize > MAX_LINK_TARGET_BYTES) {
        throw new UnsafeArchiveError("symbolic link with an oversized target", name);
      }
      const rel = policy.admit({ name, kind, size: kind === "file" ? entry.uncompressedSize : 0 });
      if (typeof kind === "string" && rel !== "") items.push({ entry, name, kind, rel, mode });
    }

    for (const item of items) {
      const target = path.join(dir, item.rel);
      if (item.kind === "directory") {
        await fs.mkdir(target, { recursive: true, mode: item.mode });
        continue;
      }
      await fs.mkdir(path.dirname(target), { recursive: true });
      if (item.kind === "symlink") {
        const linkTarget = (await readZipEntry(zip, item, policy, { maxBytes: MAX_LINK_TARGET_BYTES })).toString("utf8");
        checkSymlinkTarget(item.rel, linkTarget, item.name);
        await fs.symlink(linkTarget, target);
      } else {
        await writeZipEntry(zip, item, target, policy);
      }
    }
    return policy.counts;
  } finally {
    zip.close();
  }
}

/** Turns yauzl's "more bytes than declared" (validateEntrySizes: a zip bomb's tell) into a refusal. */
function zipReadError(item: ZipItem, error: unknown): Error {
  const message = error instanceof Error ? error.message : String(error);
  // yauzl's validateEntrySizes check; tested in extract.int.test.ts so a rewording upstream shows up there.
  if (/too many bytes/i.test(message)) {
    return new UnsafeArchiveError(`inflates to more than its declared ${item.entry.uncompressedSize} bytes`, item.name);
  }
  if (error instanceof UnsafeArchiveError) return error;
  return new Error(`Could not read ${JSON.stringify(item.name)} from the archive: ${message}`, { cause: error });
}

/** Counts bytes as they pass, failing the stream as soon as a limit is crossed. */
function byteCounter(name: string, policy: EntryPolicy, onChunk?: (chunk: Buffer) => void): Transform {
  let bytes = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      bytes += chunk.length;
      try {
        policy.countWritten(name, bytes, chunk.length);
        onChunk?.(chunk);
      } catch (error) {
        callback(error as Error);
        return;
      }
      callback(null, chunk);
    },
  });
}

async function writeZipEntry(zip: yauzl.ZipFile, item: ZipItem, target: string, policy: EntryPolicy): Promise<void> {
  const source = await zip.openReadStreamPromise(item.entry);
  let readFailure: unknown;
  source.on("error", (error: unknown) => (readFailure ??= error));
  try {
    // "wx": never follow or overwrite something already there (the policy already refuses duplicate names).
    await pipeline(source, byteCounter(item.name, policy), createWriteStream(target, { flags: "wx", mode: item.mode }));
  } catch (error) {
    throw readFailure !== undefined ? zipReadError(item, readFailure) : error;
  }
}

async function readZipEntry(
  zip: yauzl.ZipFile,
  item: ZipItem,
  policy: EntryPolicy,
  { maxBytes }: { maxBytes: number },
): Promise<Buffer> {
  const source = await zip.openReadStreamPromise(item.entry);
  const chunks: Buffer[] = [];
  let length = 0;
  let readFailure: unknown;
  source.on("error", (error: unknown) => (readFailure ??= error));
  const counter = byteCounter(item.name, policy, (chunk) => {
    length += chunk.length;
    if (length > maxBytes) throw new UnsafeArchiveError("symbolic link with an oversized target", item.name);
    chunks.push(chunk);
  });
  try {
    await pipeline(source, counter, async function* (input: AsyncIterable<Buffer>) {
      for await (const _ of input) void _; // the counter keeps the chunks; this only drains it
    });
  } catch (error) {
    throw readFailure !== undefined ? zipReadError(item, readFailure) : error;
  }
  return Buffer.concat(chunks);
}

// ---------------------------------------------------------------------------------------------------------------

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

async function pathExists(p: string): Promise<boolean> {
  try {
    await fs.lstat(p);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw error;
  }
}

/**
 * Retries because node-tar may still be finishing a write it started before the failure; once the directory is
 * gone nothing can recreate it (node-tar never creates its cwd, and we only write below directories we made).
 */
async function removeTree(dir: string): Promise<void> {
  await fs.rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
}
