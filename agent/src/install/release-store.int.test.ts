// ReleaseStore on a real directory tree, staging real archives from a real local HTTP server.
import { randomUUID } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { gzipSync } from "node:zlib";
import * as tar from "tar";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ArtifactMismatchError } from "./download";
import { UnsafeArchiveError } from "./extract";
import { MARKER_FILE, ReleaseStore, releaseDirName, type StageReleaseOptions } from "./release-store";
import { listTree, makeTempDir, rawTar, sha256Hex, startArtifactServer, type ArtifactServer } from "./test-fixtures";

let work: { dir: string; cleanup: () => Promise<void> };
let store: ReleaseStore;
const servers: ArtifactServer[] = [];

beforeEach(async () => {
  work = await makeTempDir("rg-store-");
  store = new ReleaseStore(path.join(work.dir, "srv", "app"));
  await store.init();
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  await work.cleanup();
});

interface Artifact {
  release: StageReleaseOptions["release"];
  server: ArtifactServer;
  stage: (extra?: Partial<StageReleaseOptions>) => ReturnType<ReleaseStore["stageRelease"]>;
}

/** A build made the way a CI job would (node-tar over a directory), served over HTTP. */
async function artifact(version: string, files: Record<string, string> = {}, bytes?: Buffer): Promise<Artifact> {
  let body = bytes;
  if (!body) {
    const src = path.join(work.dir, `src-${version}-${randomUUID()}`);
    const all = { "index.js": `console.log("${version}")`, "storage/uploads/seed.txt": `seed from ${version}`, ...files };
    for (const [name, content] of Object.entries(all)) {
      await fs.mkdir(path.dirname(path.join(src, name)), { recursive: true });
      await fs.writeFile(path.join(src, name), content);
    }
    const file = `${src}.tar.gz`;
    await tar.c({ gzip: true, file, cwd: src }, ["."]);
    body = await fs.readFile(file);
  }
  const server = await startArtifactServer(body);
  servers.push(server);
  const release = { id: randomUUID(), version, sha256: sha256Hex(body), size: body.length, fileName: "app.tar.gz" };
  return {
    release,
    server,
    stage: (extra = {}) => store.stageRelease({ release, url: server.url, download: { retryDelayMs: 5 }, ...extra }),
  };
}

const readCurrent = (file: string) => fs.readFile(path.join(store.currentLink, file), "utf8");

describe("stageRelease", () => {
  it("downloads, verifies and extracts into releases/<version>-<sha12> with the marker, and keeps no archive", async () => {
    const v1 = await artifact("1.0.0+build.7");
    const { release, alreadyStaged } = await v1.stage();

    const name = `1.0.0_build.7-${v1.release.sha256.slice(0, 12)}`;
    expect(alreadyStaged).toBe(false);
    expect(release).toMatchObject({ name, releaseId: v1.release.id, version: "1.0.0+build.7", sha256: v1.release.sha256 });
    expect(await fs.readFile(path.join(store.releaseDir(name), "index.js"), "utf8")).toBe('console.log("1.0.0+build.7")');
    const marker = JSON.parse(await fs.readFile(path.join(store.releaseDir(name), MARKER_FILE), "utf8"));
    expect(marker).toEqual({ releaseId: v1.release.id, version: "1.0.0+build.7", sha256: v1.release.sha256, stagedAt: release.stagedAt });
    expect(await fs.readdir(store.downloadsDir)).toEqual([]);
    expect((await store.listStaged()).map((r) => r.releaseId)).toEqual([v1.release.id]);
    expect(await store.findStaged(v1.release)).toMatchObject({ name });
  });

  it("is idempotent: staging again touches neither the network nor the directory", async () => {
    const v1 = await artifact("1.0.0");
    const first = await v1.stage();
    await fs.writeFile(path.join(first.release.dir, "written-by-app"), "x");

    const second = await v1.stage();

    expect(second).toEqual({ release: first.release, alreadyStaged: true });
    expect(v1.server.requests).toHaveLength(1);
    expect(await fs.readFile(path.join(first.release.dir, "written-by-app"), "utf8")).toBe("x");
  });

  it("replaces an unfinished directory (no marker) instead of trusting it", async () => {
    const v1 = await artifact("1.0.0");
    const dir = store.releaseDir(releaseDirName("1.0.0", v1.release.sha256));
    await fs.mkdir(dir, { recursive: true });
    await fs.writeFile(path.join(dir, "index.js"), "half-written");

    expect((await v1.stage()).alreadyStaged).toBe(false);
    expect(await fs.readFile(path.join(dir, "index.js"), "utf8")).toBe('console.log("1.0.0")');
  });

  it("refuses a build whose bytes do not match the recorded SHA-256, leaving nothing behind", async () => {
    const v1 = await artifact("1.0.0");
    const error = await store
      .stageRelease({ release: { ...v1.release, sha256: "f".repeat(64) }, url: v1.server.url })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ArtifactMismatchError);
    expect(await listTree(store.releasesDir)).toEqual([]);
    expect(await listTree(store.downloadsDir)).toEqual([]);
    expect(await store.listStaged()).toEqual([]);
  });

  it("refuses an unsafe archive, leaving nothing behind", async () => {
    const evil = gzipSync(rawTar([{ name: "ok.txt", data: "ok" }, { name: "../../../escape", data: "pwned" }]));
    const v1 = await artifact("1.0.0", {}, evil);
    await expect(v1.stage()).rejects.toBeInstanceOf(UnsafeArchiveError);
    expect(await listTree(store.releasesDir)).toEqual([]);
    expect(await listTree(store.downloadsDir)).toEqual([]);
  });
});

describe("linkPersistentPaths", () => {
  it("moves the first release's copy to shared/, links every release to it, and keeps data across releases", async () => {
    const v1 = await artifact("1.0.0");
    const v2 = await artifact("2.0.0");
    const paths = ["storage/uploads", "logs/"];
    const r1 = (await v1.stage({ persistentPaths: paths })).release;
    await fs.writeFile(path.join(r1.dir, "storage/uploads/avatar.png"), "uploaded while v1 was live");
    const r2 = (await v2.stage({ persistentPaths: paths })).release;

    expect(await fs.readlink(path.join(r2.dir, "storage/uploads"))).toBe("../../../shared/storage/uploads");
    expect(await fs.readlink(path.join(r2.dir, "logs"))).toBe("../../shared/logs");
    // shared/ was seeded from v1's own copy (v2's was discarded) and keeps what was written through v1's link.
    expect(await fs.readFile(path.join(store.sharedDir, "storage/uploads/seed.txt"), "utf8")).toBe("seed from 1.0.0");
    expect(await fs.readFile(path.join(r2.dir, "storage/uploads/avatar.png"), "utf8")).toBe("uploaded while v1 was live");
    expect((await fs.stat(path.join(store.sharedDir, "logs"))).isDirectory()).toBe(true);

    // Linking again changes nothing.
    await store.linkPersistentPaths(r2.dir, paths);
    expect(await fs.readFile(path.join(r2.dir, "storage/uploads/seed.txt"), "utf8")).toBe("seed from 1.0.0");
  });

  it.each(["/etc", "../outside", "storage/../../outside", "", "."])("refuses the path %j", async (bad) => {
    const v1 = await artifact("1.0.0");
    const { release } = await v1.stage();
    await expect(store.linkPersistentPaths(release.dir, [bad])).rejects.toThrow(/Persistent path/);
    expect(await fs.readdir(store.sharedDir)).toEqual([]);
  });
});

describe("activateRelease and currentRelease", () => {
  it("switches current atomically and reverts to a staged release without downloading it again", async () => {
    const v1 = await artifact("1.0.0");
    const v2 = await artifact("2.0.0");
    const r1 = (await v1.stage()).release;
    const r2 = (await v2.stage()).release;
    expect(await store.currentRelease()).toBeNull();

    expect(await store.activateRelease(r1.name)).toMatchObject({ release: { name: r1.name }, previous: null });
    expect(await readCurrent("index.js")).toBe('console.log("1.0.0")');
    expect(await fs.readlink(store.currentLink)).toBe(path.join("releases", r1.name));

    const { previous } = await store.activateRelease(r2.name);
    expect(previous?.releaseId).toBe(v1.release.id);
    expect((await store.currentRelease())?.releaseId).toBe(v2.release.id);

    // Revert: stage is a no-op (already there), then the switch back.
    expect((await v1.stage()).alreadyStaged).toBe(true);
    await store.activateRelease(r1.name);
    expect(await readCurrent("index.js")).toBe('console.log("1.0.0")');
    expect(v1.server.requests).toHaveLength(1);
    expect((await fs.readdir(store.root)).filter((n) => n.startsWith("current.tmp-"))).toEqual([]);
  });

  it("never lets a reader see current missing or pointing at an incomplete release while switching", async () => {
    const r1 = (await (await artifact("1.0.0")).stage()).release;
    const r2 = (await (await artifact("2.0.0")).stage()).release;
    await store.activateRelease(r1.name);

    let switching = true;
    const seen = new Set<string>();
    const failures: string[] = [];
    const reader = (async () => {
      while (switching) {
        try {
          seen.add(JSON.parse(await readCurrent(MARKER_FILE)).version);
        } catch (error) {
          failures.push(String(error));
        }
      }
    })();
    for (let i = 0; i < 40; i++) await store.activateRelease(i % 2 === 0 ? r2.name : r1.name);
    switching = false;
    await reader;

    expect(failures).toEqual([]);
    expect(seen.size).toBeGreaterThan(0);
    expect([...seen].every((v) => v === "1.0.0" || v === "2.0.0")).toBe(true);
  });

  it("refuses to activate a directory without a marker, leaving current as it was", async () => {
    const r1 = (await (await artifact("1.0.0")).stage()).release;
    await store.activateRelease(r1.name);
    const unfinished = `2.0.0-${"a".repeat(12)}`;
    await fs.mkdir(store.releaseDir(unfinished));
    await fs.writeFile(path.join(store.releaseDir(unfinished), "index.js"), "half");

    await expect(store.activateRelease(unfinished)).rejects.toThrow(/not completely staged/);
    expect((await store.currentRelease())?.name).toBe(r1.name);
  });
});

describe("pruneReleases", () => {
  it("keeps the newest N, the current one and protected ones; removes leftovers and day-old downloads", async () => {
    const staged = [];
    for (const version of ["1.0.0", "2.0.0", "3.0.0", "4.0.0", "5.0.0"]) {
      staged.push((await (await artifact(version)).stage()).release);
      await new Promise((r) => setTimeout(r, 5)); // distinct stagedAt
    }
    const [r1, r2, r3, r5] = [staged[0]!, staged[1]!, staged[2]!, staged[4]!];
    await store.activateRelease(r1.name); // the oldest is live (e.g. after a revert)

    // What a crash mid-stage leaves: the agent noted both names before it began extracting them.
    const tmpDir = store.releaseDir(`${r5.name}.tmp-0123456789abcdef`);
    const unfinished = store.releaseDir(`6.0.0-${"b".repeat(12)}`);
    await fs.mkdir(tmpDir);
    await fs.mkdir(unfinished);
    await fs.mkdir(store.stagingLedgerDir, { recursive: true });
    await fs.writeFile(path.join(store.stagingLedgerDir, r5.name), "");
    await fs.writeFile(path.join(store.stagingLedgerDir, `6.0.0-${"b".repeat(12)}`), "");
    await fs.symlink("releases/whatever", path.join(store.root, "current.tmp-0123456789abcdef"));
    const oldPart = path.join(store.downloadsDir, "old.tar.gz.part");
    const freshPart = path.join(store.downloadsDir, "fresh.tar.gz.part");
    await fs.writeFile(oldPart, "x");
    await fs.writeFile(freshPart, "x");
    const twoDaysAgo = new Date(Date.now() - 2 * 24 * 3600 * 1000);
    await fs.utimes(oldPart, twoDaysAgo, twoDaysAgo);

    const removed = await store.pruneReleases(2, [r2.releaseId]);

    expect((await store.listStaged()).map((r) => r.version)).toEqual(["5.0.0", "4.0.0", "2.0.0", "1.0.0"]);
    expect(removed.sort()).toEqual(
      [r3.dir, tmpDir, unfinished, path.join(store.root, "current.tmp-0123456789abcdef"), oldPart].sort(),
    );
    expect(await fs.readdir(store.downloadsDir)).toEqual(["fresh.tar.gz.part"]);
    expect((await store.currentRelease())?.name).toBe(r1.name);

    // Keeping one: the newest and the current one survive, nothing else.
    await store.pruneReleases(1);
    expect((await store.listStaged()).map((r) => r.version)).toEqual(["5.0.0", "1.0.0"]);
  });

  it("removes only what the agent installed: another tool's releases (and their rollback) survive every prune", async () => {
    // A server taken over from Capistrano-style deploys: its releases/ holds the other tool's builds, and `current`
    // pointed at one of them until Releasegate's first activation.
    const foreign = ["20240101120000", "20240301090000", "legacy-1.4.2", `9.9.9-${"c".repeat(12)}`];
    for (const name of foreign) {
      await fs.mkdir(store.releaseDir(name), { recursive: true });
      await fs.writeFile(path.join(store.releaseDir(name), "index.js"), `console.log("${name}")`);
    }
    await fs.writeFile(path.join(store.releasesDir, "REVISION"), "abc123\n");
    await fs.symlink(path.join("releases", "20240301090000"), store.currentLink);

    const staged = [];
    for (const version of ["1.0.0", "2.0.0", "3.0.0"]) {
      staged.push((await (await artifact(version)).stage()).release);
      await new Promise((r) => setTimeout(r, 5));
    }
    await store.activateRelease(staged[2]!.name);

    const removed = await store.pruneReleases(1);

    expect(removed.sort()).toEqual([staged[0]!.dir, staged[1]!.dir].sort());
    for (const name of foreign) expect(await fs.readFile(path.join(store.releaseDir(name), "index.js"), "utf8")).toBe(`console.log("${name}")`);
    expect(await fs.readFile(path.join(store.releasesDir, "REVISION"), "utf8")).toBe("abc123\n");
    expect((await store.listStaged()).map((r) => r.version)).toEqual(["3.0.0"]);
  });
});

// A server Releasegate takes over may run a build another tool installed; the agent reports what `current` is,
// whoever put it there, and can switch back to such a build (a revert past Releasegate's first release).
describe("describeCurrent and activateDirectory", () => {
  async function foreignBuild(name: string, revision?: string) {
    const dir = store.releaseDir(name);
    await fs.mkdir(dir, { recursive: true });
    await fs.writeFile(path.join(dir, "index.js"), `console.log("${name}")`);
    if (revision) await fs.writeFile(path.join(dir, "REVISION"), `${revision}\nsecond line\n`);
    return dir;
  }

  it("tells what current is: nothing, a release of this agent, another tool's build, a plain directory, a dangling link", async () => {
    expect(await store.describeCurrent()).toEqual({ kind: "none" });

    await foreignBuild("20240301090000", "4f2a9c1");
    await fs.symlink("releases/20240301090000", store.currentLink);
    expect(await store.describeCurrent()).toEqual({ kind: "foreign", path: "releases/20240301090000", revision: "4f2a9c1" });

    const r1 = (await (await artifact("1.0.0")).stage()).release;
    await store.activateRelease(r1.name);
    expect(await store.describeCurrent()).toEqual({ kind: "release", path: `releases/${r1.name}`, releaseId: r1.releaseId, version: "1.0.0", sha256: r1.sha256 });

    await fs.rm(store.currentLink);
    await fs.symlink("/nonexistent/build", store.currentLink);
    expect(await store.describeCurrent()).toEqual({ kind: "missing", path: "/nonexistent/build" });

    await fs.rm(store.currentLink);
    await fs.mkdir(store.currentLink);
    await fs.writeFile(path.join(store.currentLink, "VERSION"), "7.1\n");
    expect(await store.describeCurrent()).toEqual({ kind: "directory", revision: "7.1" });
  });

  it("switches current back to another tool's build atomically, as it was written, and refuses what is not a directory", async () => {
    await foreignBuild("legacy-1.4.2");
    await fs.symlink("releases/legacy-1.4.2", store.currentLink);
    const r1 = (await (await artifact("1.0.0")).stage()).release;
    await store.activateRelease(r1.name);

    await store.activateDirectory("releases/legacy-1.4.2");
    expect(await fs.readlink(store.currentLink)).toBe("releases/legacy-1.4.2");
    expect(await readCurrent("index.js")).toBe('console.log("legacy-1.4.2")');

    await expect(store.activateDirectory("releases/gone")).rejects.toThrow(/not a directory/);
    await fs.writeFile(path.join(store.root, "a-file"), "x");
    await expect(store.activateDirectory("a-file")).rejects.toThrow(/not a directory/);
    expect(await fs.readlink(store.currentLink)).toBe("releases/legacy-1.4.2");
  });
});

