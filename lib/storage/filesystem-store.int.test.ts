// The artifact store on a real filesystem: large streams, digests, limits, concurrent writers, and the clean-up
// that must never remove bytes a release still references.
import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectAppError } from "../../test/assertions";
import { createReleaseRow, createTenant } from "../../test/factories";
import { db } from "../db/client";
import { deleteArtifactIfUnreferenced } from "./artifact-store";
import { FilesystemArtifactStore } from "./filesystem-store";

let root: string;
let store: FilesystemArtifactStore;

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "releasegate-store-"));
  store = new FilesystemArtifactStore(root);
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/**
 * `total` bytes of pseudo-random data produced on demand (never held whole), with the SHA-256 of what was produced
 * and how much the consumer pulled.
 */
function generated(total: number, chunkSize = 1024 * 1024) {
  const hash = createHash("sha256");
  const state = { pulled: 0 };
  const seed = randomBytes(chunkSize);
  let chunkNo = 0;
  const stream = new Readable({
    read() {
      if (state.pulled >= total) {
        this.push(null);
        return;
      }
      const n = Math.min(chunkSize, total - state.pulled);
      // Every chunk differs (a counter in its first bytes), so repeated content cannot hide a hashing mistake.
      const chunk = Buffer.from(seed.subarray(0, n));
      chunk.writeUInt32BE(chunkNo++ >>> 0, 0);
      hash.update(chunk);
      state.pulled += n;
      this.push(chunk);
    },
  });
  return { stream, state, digest: () => hash.digest("hex") };
}

const bytesStream = (b: Buffer) => Readable.from([b]);
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const tmpFiles = async () => (await readdir(path.join(root, "tmp")).catch(() => [] as string[])).filter((f) => f.endsWith(".part"));

describe("putArtifact", () => {
  it("streams 200 MB into one content-addressed file with the right digest", async () => {
    const total = 200 * 1024 * 1024;
    const source = generated(total);
    const stored = await store.putArtifact(source.stream, { maxBytes: 4 * 1024 ** 3 });
    expect(stored).toEqual({ sha256: source.digest(), size: total, storageKey: `sha256/${stored.sha256.slice(0, 2)}/${stored.sha256}` });
    expect(await store.statArtifact(stored.storageKey)).toEqual({ size: total });
    expect(await tmpFiles()).toEqual([]);
    await store.deleteArtifact(stored.storageKey);
  }, 120_000);

  it("keeps the same bytes once, from Node and web streams alike", async () => {
    const bytes = randomBytes(100_000);
    const a = await store.putArtifact(bytesStream(bytes), { maxBytes: 1e6 });
    const web = new Blob([bytes]).stream();
    const b = await store.putArtifact(web, { maxBytes: 1e6, expectedSha256: sha(bytes).toUpperCase() });
    expect(b).toEqual(a);
    expect(await readdir(path.join(root, "sha256", a.sha256.slice(0, 2)))).toEqual([a.sha256]);
    expect(await readFile(path.join(root, a.storageKey))).toEqual(bytes);
  });

  it("two instances sharing the directory store the same bytes at once: both succeed, one complete file", async () => {
    const bytes = randomBytes(3 * 1024 * 1024);
    const other = new FilesystemArtifactStore(root);
    const chunks = (b: Buffer) => Readable.from([b.subarray(0, 1_000_000), b.subarray(1_000_000, 2_000_000), b.subarray(2_000_000)]);
    const [a, b] = await Promise.all([store.putArtifact(chunks(bytes), { maxBytes: 1e7 }), other.putArtifact(chunks(bytes), { maxBytes: 1e7 })]);
    expect(a).toEqual(b);
    expect(sha(await readFile(path.join(root, a.storageKey)))).toBe(sha(bytes));
    expect(await tmpFiles()).toEqual([]);
  });

  it("refuses bytes that do not match the declared digest, and keeps nothing", async () => {
    const bytes = randomBytes(50_000);
    const declared = "0".repeat(64);
    const e = await expectAppError(store.putArtifact(bytesStream(bytes), { maxBytes: 1e6, expectedSha256: declared }), "INVALID_INPUT");
    expect(e.message).toContain(`expected ${declared}, received ${sha(bytes)}`);
    expect(existsSync(path.join(root, "sha256", sha(bytes).slice(0, 2), sha(bytes)))).toBe(false);
    expect(await tmpFiles()).toEqual([]);
  });

  it("stops reading at the size limit, refuses with PAYLOAD_TOO_LARGE and keeps nothing", async () => {
    const source = generated(100 * 1024 * 1024, 64 * 1024);
    await expectAppError(store.putArtifact(source.stream, { maxBytes: 1024 * 1024 }), "PAYLOAD_TOO_LARGE", /larger than the limit of 1 MiB/);
    // Aborted early: the rest of the 100 MB was never pulled from the source.
    expect(source.state.pulled).toBeLessThan(4 * 1024 * 1024);
    expect(await tmpFiles()).toEqual([]);
  });

  it("keeps nothing when the source breaks off", async () => {
    const broken = new Readable({
      read() {
        this.push(randomBytes(10_000));
        this.destroy(new Error("connection reset"));
      },
    });
    await expect(store.putArtifact(broken, { maxBytes: 1e6 })).rejects.toThrow(/connection reset/);
    expect(await tmpFiles()).toEqual([]);
  });
});

describe("openArtifact and statArtifact", () => {
  it("reads all of it, or a range (inclusive ends)", async () => {
    const bytes = randomBytes(10_000);
    const { storageKey } = await store.putArtifact(bytesStream(bytes), { maxBytes: 1e6 });
    const read = async (s: Readable) => Buffer.concat(await s.toArray());
    const all = await store.openArtifact(storageKey);
    expect(all.size).toBe(10_000);
    expect(await read(all.stream)).toEqual(bytes);
    expect(await read((await store.openArtifact(storageKey, { start: 9_000 })).stream)).toEqual(bytes.subarray(9_000));
    expect(await read((await store.openArtifact(storageKey, { start: 10, end: 19 })).stream)).toEqual(bytes.subarray(10, 20));
  });

  it("answers NOT_FOUND for absent artifacts and keys that are not storage keys", async () => {
    await expectAppError(store.openArtifact(`sha256/ab/ab${"0".repeat(62)}`), "NOT_FOUND");
    await expectAppError(store.openArtifact("sha256/ab/../../../etc/passwd"), "NOT_FOUND");
    await expectAppError(store.openArtifact(`sha256/cd/ab${"0".repeat(62)}`), "NOT_FOUND");
    expect(await store.statArtifact(`sha256/ab/ab${"0".repeat(62)}`)).toBeNull();
  });
});

describe("deleteArtifactIfUnreferenced", () => {
  it("keeps bytes a release references and removes them once nothing does", async () => {
    const tenant = await createTenant();
    const bytes = randomBytes(2_000);
    const stored = await store.putArtifact(bytesStream(bytes), { maxBytes: 1e6 });
    const release = await createReleaseRow({ applicationId: tenant.application.id, uploadedById: tenant.admin.id, artifactSha256: stored.sha256 });
    await db.release.update({ where: { id: release.id }, data: { artifactStorageKey: stored.storageKey } });

    expect(await deleteArtifactIfUnreferenced(stored.storageKey, store)).toBe(false);
    expect(await store.statArtifact(stored.storageKey)).toEqual({ size: 2_000 });

    await db.release.update({ where: { id: release.id }, data: { artifactStorageKey: `sha256/00/${"0".repeat(64)}` } });
    expect(await deleteArtifactIfUnreferenced(stored.storageKey, store)).toBe(true);
    expect(await store.statArtifact(stored.storageKey)).toBeNull();
  });
});
