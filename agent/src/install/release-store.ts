// The builds installed on one node, laid out under DIR (e.g. /srv/app):
//
//   DIR/releases/<version>-<sha12>/   extracted builds, each with a .releasegate.json marker once complete
//   DIR/shared/<path>                 persistent paths (uploads, .env...) linked into every release
//   DIR/current -> releases/<name>    the build the node serves
//   DIR/downloads/                    archives being downloaded (resumable .part files)
//   DIR/.releasegate/staging/<name>   the agent's note that it began staging releases/<name> (removed once complete)
//
// INVARIANTS
// - A release directory counts (listStaged, currentRelease, activateRelease) only once its marker exists, and the
//   marker is written last: a crash mid-stage leaves a directory that is ignored and later pruned, never served.
// - `current` is only ever replaced by rename(2) of a fresh symlink over it, so at every instant it points at a
//   complete release (the old one or the new one), and reverting is the same switch back, with no download.
// - Pruning never removes the release `current` points at.
// - Pruning removes only what this agent installed: complete releases (its marker) and its own unfinished stages
//   (noted in staging/ before extraction began). Anything else under releases/ belongs to whoever put it there
//   (the tool that deployed the server before Releasegate took over, whose rollback needs it) and is left alone.
// One store is used by one job at a time (the agent runs jobs one after another): pruning removes unfinished
// directories, which would include one being staged at that moment.
import { randomBytes } from "node:crypto";
import type { Dirent, Stats } from "node:fs";
import fs, { type FileHandle } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import type { TCurrentReport, TJobRelease } from "../../../lib/contracts/agent-api";
import { downloadArtifact, type DownloadOptions } from "./download";
import { extractArchive, type ExtractLimits } from "./extract";

export const MARKER_FILE = ".releasegate.json";

const ZReleaseMarkerSchema = z.object({
  releaseId: z.string().min(1),
  version: z.string(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  stagedAt: z.iso.datetime(),
});
export type TReleaseMarker = z.infer<typeof ZReleaseMarkerSchema>;

export interface StagedRelease extends TReleaseMarker {
  /** The directory's name under releases/. */
  name: string;
  /** Its absolute path. */
  dir: string;
}

/** Files in downloads/ untouched for this long belong to an abandoned install; younger .part files may be resumed. */
const STALE_DOWNLOAD_MS = 24 * 60 * 60 * 1000;
/** Extraction leftovers: `<name>.tmp-<16 hex>` (see extract.ts); no release name can end like that. */
const TEMP_SUFFIX = /\.tmp-[0-9a-f]{16}$/;

/**
 * "<version>-<first 12 hex of sha256>", with the version reduced to [A-Za-z0-9._-] so it is one safe path segment
 * whatever the uploader typed. The hash part keeps two builds that share a version apart.
 */
export function releaseDirName(version: string, sha256: string): string {
  if (!/^[0-9a-fA-F]{64}$/.test(sha256)) throw new Error(`Not a SHA-256: ${JSON.stringify(sha256)}`);
  const safe = version
    .replace(/[^A-Za-z0-9._-]/g, "_")
    .replace(/^\.+/, (dots) => "_".repeat(dots.length)) // no hidden directories, no "." or ".."
    .slice(0, 100);
  return `${safe || "release"}-${sha256.slice(0, 12).toLowerCase()}`;
}

export interface StageReleaseOptions {
  release: Pick<TJobRelease, "id" | "version" | "sha256" | "size" | "fileName">;
  /** Absolute URL of the artifact (the control plane's download path). */
  url: string;
  headers?: Record<string, string>;
  /** Linked before the marker is written, so a staged release is ready for an instant switch. */
  persistentPaths?: string[];
  limits?: Partial<ExtractLimits>;
  onProgress?: (bytesDone: number, total: number) => void;
  /** Download resumes and retries, for the deployment log. */
  onLog?: (message: string) => void;
  signal?: AbortSignal;
  download?: Pick<DownloadOptions, "retries" | "retryDelayMs">;
}

export class ReleaseStore {
  readonly root: string;
  readonly releasesDir: string;
  readonly sharedDir: string;
  readonly downloadsDir: string;
  readonly currentLink: string;
  /** One empty file per release directory whose staging began and has not completed (see pruneReleases). */
  readonly stagingLedgerDir: string;

  constructor(root: string) {
    this.root = path.resolve(root);
    this.releasesDir = path.join(this.root, "releases");
    this.sharedDir = path.join(this.root, "shared");
    this.downloadsDir = path.join(this.root, "downloads");
    this.currentLink = path.join(this.root, "current");
    this.stagingLedgerDir = path.join(this.root, ".releasegate", "staging");
  }

  releaseDir(name: string): string {
    return path.join(this.releasesDir, name);
  }

  /** Creates the layout's directories (not `current`: that appears with the first activation). */
  async init(): Promise<void> {
    for (const dir of [this.releasesDir, this.sharedDir, this.downloadsDir]) await fs.mkdir(dir, { recursive: true });
  }

  /** The release if it is completely staged here (marker written, same build), else null. */
  async findStaged(release: Pick<TJobRelease, "id" | "version" | "sha256">): Promise<StagedRelease | null> {
    const staged = await this.readStaged(releaseDirName(release.version, release.sha256));
    return staged && staged.releaseId === release.id && staged.sha256 === release.sha256.toLowerCase() ? staged : null;
  }

  /**
   * Makes the release available under releases/<name>: download (resuming), verify, extract, link persistent paths,
   * write the marker. Does nothing when it is already there. On failure nothing new is left under releases/.
   */
  async stageRelease(options: StageReleaseOptions): Promise<{ release: StagedRelease; alreadyStaged: boolean }> {
    const { release, signal } = options;
    const sha256 = release.sha256.toLowerCase();
    const name = releaseDirName(release.version, sha256);
    const dir = this.releaseDir(name);

    const existing = await this.readStaged(name);
    if (existing && existing.sha256 === sha256) {
      if (existing.releaseId === release.id) return { release: existing, alreadyStaged: true };
      // The same bytes uploaded again as another release: reuse the directory (it may well be live) under the new id.
      const marker = { releaseId: release.id, version: release.version, sha256, stagedAt: new Date().toISOString() };
      await writeMarker(dir, marker);
      return { release: { ...marker, name, dir }, alreadyStaged: true };
    }
    if (await pathExists(dir)) {
      // Unfinished (no marker) or, absurdly, another build whose hash shares the first 12 digits.
      if ((await this.currentTargetName()) === name) throw new Error(`${dir} is live but is not release ${release.id}.`);
      await fs.rm(dir, { recursive: true, force: true });
    }

    const archive = path.join(this.downloadsDir, name + archiveSuffix(release.fileName));
    // Noted before the first byte lands under releases/: a crash from here on leaves a directory (or an extraction
    // leftover) that pruning may remove because it is known to be ours.
    await fs.mkdir(this.stagingLedgerDir, { recursive: true, mode: 0o700 });
    await fs.writeFile(path.join(this.stagingLedgerDir, name), "");
    let complete = false;
    try {
      await downloadArtifact({
        url: options.url,
        headers: options.headers,
        dest: archive,
        expectedSha256: sha256,
        expectedSize: release.size,
        onProgress: options.onProgress,
        onLog: options.onLog,
        signal,
        ...options.download,
      });
      signal?.throwIfAborted();
      await extractArchive(archive, dir, options.limits);
      try {
        if (options.persistentPaths?.length) await this.linkPersistentPaths(dir, options.persistentPaths);
        const marker = { releaseId: release.id, version: release.version, sha256, stagedAt: new Date().toISOString() };
        await writeMarker(dir, marker);
        complete = true;
        return { release: { ...marker, name, dir }, alreadyStaged: false };
      } catch (error) {
        await fs.rm(dir, { recursive: true, force: true });
        throw error;
      }
    } finally {
      // Extracted or refused, the archive has served its purpose; only an interrupted download (.part) is kept.
      await fs.rm(archive, { force: true });
      // Complete (the marker says whose it is now), or nothing of it left under releases/: the note has done its job.
      if (complete || !(await pathExists(dir))) await fs.rm(path.join(this.stagingLedgerDir, name), { force: true });
    }
  }

  /**
   * For each path: DIR/shared/<path> holds the data across releases (created on first use, from the release's own
   * copy when it ships one, else as an empty directory), and the release gets a relative symlink to it in place of
   * its own copy. Safe to call again.
   */
  async linkPersistentPaths(releaseDir: string, paths: string[]): Promise<void> {
    const release = path.resolve(releaseDir);
    if (path.dirname(release) !== this.releasesDir) throw new Error(`${release} is not a release directory of ${this.root}.`);
    for (const raw of paths) {
      const rel = normalisePersistentPath(raw);
      const shared = path.join(this.sharedDir, rel);
      const inRelease = path.join(release, rel);
      // The link is relative to its lexical parent; through a symlinked parent it would resolve somewhere else.
      await assertNoSymlinkBetween(release, path.dirname(inRelease), raw);
      const linkTarget = path.relative(path.dirname(inRelease), shared);

      const own = await lstatOrNull(inRelease);
      if (own?.isSymbolicLink() && (await fs.readlink(inRelease)) === linkTarget) continue;

      if (!(await lstatOrNull(shared))) {
        await fs.mkdir(path.dirname(shared), { recursive: true });
        if (own && !own.isSymbolicLink()) await moveInto(inRelease, shared);
        else await fs.mkdir(shared);
      }
      await fs.rm(inRelease, { recursive: true, force: true });
      await fs.mkdir(path.dirname(inRelease), { recursive: true });
      await fs.symlink(linkTarget, inRelease);
    }
  }

  /** Points `current` at a completely staged release in one atomic step. Returns what it pointed at before. */
  async activateRelease(name: string): Promise<{ release: StagedRelease; previous: StagedRelease | null }> {
    const release = await this.readStaged(name);
    if (!release) throw new Error(`Release ${name} is not completely staged in ${this.releasesDir}; not switching to it.`);
    const existing = await lstatOrNull(this.currentLink);
    if (existing && !existing.isSymbolicLink()) {
      throw new Error(`${this.currentLink} exists and is not a symlink; move it away before the first install.`);
    }
    const previous = await this.currentRelease();
    await this.pointCurrentAt(path.join("releases", name));
    return { release, previous };
  }

  /** `current` -> `target` in one atomic step: a new link renamed over the old one, then the directory synced. */
  private async pointCurrentAt(target: string): Promise<void> {
    const tmp = path.join(this.root, `current.tmp-${randomBytes(8).toString("hex")}`);
    await fs.symlink(target, tmp);
    try {
      await fs.rename(tmp, this.currentLink);
    } catch (error) {
      await fs.rm(tmp, { force: true });
      throw error;
    }
    await fsyncDir(this.root);
  }

  /**
   * Points `current` at a directory this agent did not install (a build from before Releasegate took the server over),
   * written as `target` was reported (relative to DIR or absolute), in one atomic step like activateRelease.
   */
  async activateDirectory(target: string): Promise<void> {
    const resolved = path.resolve(this.root, target);
    const stat = await fs.stat(resolved).catch(() => null);
    if (!stat?.isDirectory()) throw new Error(`${resolved} is not a directory on this server; not switching to it.`);
    const existing = await lstatOrNull(this.currentLink);
    if (existing && !existing.isSymbolicLink()) throw new Error(`${this.currentLink} exists and is not a symlink; not replacing it.`);
    await this.pointCurrentAt(target);
  }

  /** What `current` is, whoever put it there (heartbeats report it; see ZCurrentReportSchema). */
  async describeCurrent(): Promise<TCurrentReport> {
    const link = await lstatOrNull(this.currentLink);
    if (!link) return { kind: "none" };
    if (!link.isSymbolicLink()) return link.isDirectory() ? { kind: "directory", revision: await readRevision(this.currentLink) } : { kind: "missing", path: "current" };
    const target = await fs.readlink(this.currentLink);
    const resolved = path.resolve(this.root, target);
    if (!(await fs.stat(resolved).catch(() => null))?.isDirectory()) return { kind: "missing", path: target };
    const name = await this.currentTargetName();
    const release = name === null ? null : await this.readStaged(name);
    if (release) return { kind: "release", path: target, releaseId: release.releaseId, version: release.version, sha256: release.sha256 };
    return { kind: "foreign", path: target, revision: await readRevision(resolved) };
  }

  /** The release `current` points at, or null before the first install (or if it points at something unmanaged). */
  async currentRelease(): Promise<StagedRelease | null> {
    const name = await this.currentTargetName();
    return name === null ? null : this.readStaged(name);
  }

  /** Every complete release, newest staged first. */
  async listStaged(): Promise<StagedRelease[]> {
    const staged: StagedRelease[] = [];
    for (const entry of await readdirOrEmpty(this.releasesDir)) {
      if (!entry.isDirectory()) continue;
      const release = await this.readStaged(entry.name);
      if (release) staged.push(release);
    }
    return staged.sort((a, b) => b.stagedAt.localeCompare(a.stagedAt) || a.name.localeCompare(b.name));
  }

  /**
   * Keeps the `keep` newest releases plus the current one and any in `protect` (release ids or directory names);
   * removes the others, this agent's unfinished stages, leftover temporary links, and downloads untouched for a
   * day. Directories under releases/ that this agent did not install are never touched. Returns the paths removed.
   */
  async pruneReleases(keep: number, protect: string[] = [], now = Date.now()): Promise<string[]> {
    const current = await this.currentTargetName();
    const staged = await this.listStaged();
    const keepNames = new Set(staged.slice(0, Math.max(0, keep)).map((r) => r.name));
    for (const release of staged) if (protect.includes(release.releaseId)) keepNames.add(release.name);
    for (const name of protect) keepNames.add(name);
    if (current !== null) keepNames.add(current);

    const removed: string[] = [];
    const remove = async (target: string) => {
      await fs.rm(target, { recursive: true, force: true });
      removed.push(target);
    };
    // Old releases, then this agent's unfinished stages (no marker yet) and their extraction leftovers.
    const completeNames = new Set(staged.map((r) => r.name));
    const unfinished = new Set((await readdirOrEmpty(this.stagingLedgerDir)).map((e) => e.name));
    for (const entry of await readdirOrEmpty(this.releasesDir)) {
      if (keepNames.has(entry.name)) continue;
      const ours = completeNames.has(entry.name) || unfinished.has(entry.name.replace(TEMP_SUFFIX, ""));
      if (ours) await remove(this.releaseDir(entry.name));
    }
    for (const name of unfinished) {
      if (!keepNames.has(name) && !completeNames.has(name)) await fs.rm(path.join(this.stagingLedgerDir, name), { force: true });
    }
    for (const entry of await readdirOrEmpty(this.root)) {
      if (entry.name.startsWith("current.tmp-")) await remove(path.join(this.root, entry.name));
    }
    for (const entry of await readdirOrEmpty(this.downloadsDir)) {
      const file = path.join(this.downloadsDir, entry.name);
      const stat = await lstatOrNull(file);
      if (stat && now - stat.mtimeMs > STALE_DOWNLOAD_MS) await remove(file);
    }
    return removed;
  }

  /** The name under releases/ that `current` points at, marker or not; null without a `current`. */
  private async currentTargetName(): Promise<string | null> {
    let target: string;
    try {
      target = await fs.readlink(this.currentLink);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "EINVAL") return null; // absent, or not a symlink
      throw error;
    }
    const resolved = path.resolve(this.root, target);
    return path.dirname(resolved) === this.releasesDir ? path.basename(resolved) : null;
  }

  /** The marker of releases/<name>, if it is there, well-formed and about the build that directory is named for. */
  private async readStaged(name: string): Promise<StagedRelease | null> {
    if (TEMP_SUFFIX.test(name)) return null;
    const dir = this.releaseDir(name);
    let text: string;
    try {
      text = await fs.readFile(path.join(dir, MARKER_FILE), "utf8");
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "ENOTDIR") return null;
      throw error;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return null;
    }
    const parsed = ZReleaseMarkerSchema.safeParse(json);
    if (!parsed.success || releaseDirName(parsed.data.version, parsed.data.sha256) !== name) return null;
    return { ...parsed.data, name, dir };
  }
}

/** What another tool says it deployed: the first line of REVISION (Capistrano writes it) or VERSION, if present. */
async function readRevision(dir: string): Promise<string | null> {
  for (const file of ["REVISION", "VERSION"]) {
    const text = await fs.readFile(path.join(dir, file), "utf8").catch(() => null);
    const first = text?.split("\n")[0]?.trim();
    if (first) return first.slice(0, 200);
  }
  return null;
}

/** Written to a temporary name and renamed, so a marker is either absent or complete. */
async function writeMarker(dir: string, marker: TReleaseMarker): Promise<void> {
  const file = path.join(dir, MARKER_FILE);
  const tmp = `${file}.tmp-${randomBytes(4).toString("hex")}`;
  const handle = await fs.open(tmp, "w", 0o644);
  try {
    await handle.writeFile(`${JSON.stringify(marker, null, 2)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.rename(tmp, file);
  await fsyncDir(dir);
}

/** Keeps the download's suffix so the archive's type is visible on disk (extraction goes by content anyway). */
function archiveSuffix(fileName: string): string {
  return /\.(tar\.gz|tgz|tar|zip)$/i.exec(fileName)?.[0].toLowerCase() ?? "";
}

/** "uploads/", "./storage/app" -> "uploads", "storage/app". Refuses what would leave the release or the shared dir. */
export function normalisePersistentPath(raw: string): string {
  if (raw.startsWith("/") || raw.includes("\0")) throw new Error(`Persistent path ${JSON.stringify(raw)} must be relative.`);
  const segments = raw.split("/").filter((s) => s !== "" && s !== ".");
  if (segments.includes("..")) throw new Error(`Persistent path ${JSON.stringify(raw)} must not contain "..".`);
  if (segments.length === 0) throw new Error(`Persistent path ${JSON.stringify(raw)} names the release itself.`);
  if (segments[0] === MARKER_FILE) throw new Error(`Persistent path ${JSON.stringify(raw)} is Releasegate's own.`);
  return segments.join("/");
}

async function assertNoSymlinkBetween(base: string, dir: string, raw: string): Promise<void> {
  const rel = path.relative(base, dir);
  if (rel === "") return;
  let at = base;
  for (const segment of rel.split(path.sep)) {
    at = path.join(at, segment);
    const stat = await lstatOrNull(at);
    if (stat?.isSymbolicLink()) {
      throw new Error(`Persistent path ${JSON.stringify(raw)} goes through the symlink ${path.relative(base, at)} in the release.`);
    }
  }
}

/** rename(2) when shared/ is on the same file system (instant, atomic); otherwise copy under a temporary name first. */
async function moveInto(from: string, to: string): Promise<void> {
  try {
    await fs.rename(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EXDEV") throw error;
    const tmp = `${to}.tmp-${randomBytes(8).toString("hex")}`;
    await fs.cp(from, tmp, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
    await fs.rename(tmp, to);
    await fs.rm(from, { recursive: true, force: true });
  }
}

/** Makes a rename in `dir` durable; not every platform can fsync a directory, and that is not worth failing for. */
async function fsyncDir(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await fs.open(dir, "r");
    await handle.sync();
  } catch {
    // best effort
  } finally {
    await handle?.close();
  }
}

async function lstatOrNull(p: string): Promise<Stats | null> {
  try {
    return await fs.lstat(p);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
}

async function pathExists(p: string): Promise<boolean> {
  return (await lstatOrNull(p)) !== null;
}

async function readdirOrEmpty(dir: string): Promise<Dirent[]> {
  try {
    return await fs.readdir(dir, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
}
