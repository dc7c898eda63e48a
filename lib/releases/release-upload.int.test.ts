// Browser uploads (tus) and the release form that completes them, against real PostgreSQL (advisory locks, the
// release row and its audit event) and a real filesystem (the staging area and the artifact store). Requests go
// through the same domain entry the route uses, handleReleaseUpload, as the signed-in person would send them.
import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, rm, utimes, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectAppError } from "../../test/assertions";
import { createMember, createTenant, testContext, uniq } from "../../test/factories";
import type { UserActor } from "../auth/actor";
import { db } from "../db/client";
import { env } from "../env";
import { FilesystemArtifactStore } from "../storage/filesystem-store";
import { PostgresUploadLocker } from "../storage/upload-locker";
import { STAGED_UPLOAD_TTL_MS, UploadStaging } from "../storage/upload-staging";
import { completeReleaseUpload, type TCompleteReleaseUploadRequest } from "./complete-release-upload";
import { describeUploadProtocol, handleReleaseUpload } from "./handle-release-upload";

type Tenant = Awaited<ReturnType<typeof createTenant>>;
let tenant: Tenant;
let dev: UserActor;
let root: string;
let store: FilesystemArtifactStore;
let staging: UploadStaging;
let locker: PostgresUploadLocker;

beforeAll(async () => {
  tenant = await createTenant();
  dev = await createMember(tenant, "DEVELOPER");
  root = await mkdtemp(path.join(os.tmpdir(), "releasegate-uploads-"));
  store = new FilesystemArtifactStore(path.join(root, "artifacts"));
  locker = new PostgresUploadLocker(env().DATABASE_URL!, { acquireTimeoutMs: 5_000 });
  staging = new UploadStaging(path.join(root, "uploads"), { maxBytes: env().MAX_ARTIFACT_BYTES, locker });
});
afterAll(async () => {
  await locker.close();
  await rm(root, { recursive: true, force: true });
});

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");
const stagedFiles = async () => (await readdir(staging.directory)).sort();
const inStore = (b: Buffer) => store.statArtifact(`sha256/${sha(b).slice(0, 2)}/${sha(b)}`);
const URL_BASE = "http://releasegate.test/api/uploads";

function createRequest(size: number, metadata: Record<string, string>, body?: Buffer): Request {
  return new Request(URL_BASE, {
    method: "POST",
    headers: {
      "tus-resumable": "1.0.0",
      "upload-length": String(size),
      "upload-metadata": Object.entries(metadata).map(([k, v]) => `${k} ${b64(v)}`).join(","),
      ...(body ? { "content-type": "application/offset+octet-stream" } : {}),
    },
    ...(body ? { body: new Uint8Array(body) } : {}),
  });
}
const patchRequest = (id: string, offset: number, bytes: Buffer) =>
  new Request(`${URL_BASE}/${id}`, {
    method: "PATCH",
    headers: { "tus-resumable": "1.0.0", "upload-offset": String(offset), "content-type": "application/offset+octet-stream" },
    body: new Uint8Array(bytes),
  });
const headRequest = (id: string) => new Request(`${URL_BASE}/${id}`, { method: "HEAD", headers: { "tus-resumable": "1.0.0" } });

/** Starts an upload as `actor`; returns its id. */
async function startUpload(actor: UserActor, size: number, applicationId = tenant.application.id): Promise<string> {
  const res = await handleReleaseUpload(actor, createRequest(size, { applicationId, fileName: "webshop.tar.gz", filetype: "application/gzip" }), staging);
  expect(res.status, await res.clone().text()).toBe(201);
  const id = /\/api\/uploads\/([0-9a-f]{32})$/.exec(res.headers.get("location") ?? "")?.[1];
  expect(id).toBeDefined();
  return id!;
}

/** Uploads `bytes` completely (two PATCHes, as a resumed upload would) and returns the upload id. */
async function upload(actor: UserActor, bytes: Buffer, applicationId = tenant.application.id): Promise<string> {
  const id = await startUpload(actor, bytes.length, applicationId);
  const half = Math.floor(bytes.length / 2);
  for (const [offset, part] of [
    [0, bytes.subarray(0, half)],
    [half, bytes.subarray(half)],
  ] as const) {
    const res = await handleReleaseUpload(actor, patchRequest(id, offset, Buffer.from(part)), staging);
    expect(res.status).toBe(204);
    expect(res.headers.get("upload-offset")).toBe(String(offset + part.length));
  }
  return id;
}

const form = (uploadId: string, over: Partial<TCompleteReleaseUploadRequest> = {}): TCompleteReleaseUploadRequest => ({
  applicationId: tenant.application.id,
  uploadId,
  version: uniq("1.0.0"),
  notes: "## Changes\n\n- faster checkout",
  needsMigration: "on",
  migrationInstructions: "php artisan migrate",
  ...over,
});
const complete = (actor: UserActor, request: TCompleteReleaseUploadRequest) => completeReleaseUpload(actor, request, { staging, store });

describe("browser upload, then the release form", () => {
  it("streams the upload into the store, records the release with its SHA-256 and one RELEASE_CREATED, and removes the staged file", async () => {
    const bytes = randomBytes(3 * 1024 * 1024 + 17);
    const id = await upload(dev, bytes);
    const head = await handleReleaseUpload(dev, headRequest(id), staging);
    expect([head.status, head.headers.get("upload-offset"), head.headers.get("upload-length")]).toEqual([200, String(bytes.length), String(bytes.length)]);

    const ctx = testContext();
    const request = form(id, { sha256: sha(bytes).toUpperCase() });
    const release = await complete({ ...dev, ctx }, request);
    expect(release).toMatchObject({
      version: request.version,
      artifactSha256: sha(bytes),
      artifactSize: BigInt(bytes.length),
      artifactFileName: "webshop.tar.gz",
      needsMigration: true,
      migrationInstructions: "php artisan migrate",
      notes: "## Changes\n\n- faster checkout",
      uploadedById: dev.id,
    });
    expect(await inStore(bytes)).toEqual({ size: bytes.length });
    const events = await db.auditEvent.findMany({ where: { requestId: ctx.requestId } });
    expect(events.map((e) => [e.type, e.actorId, e.releaseId])).toEqual([["RELEASE_CREATED", dev.id, release.id]]);
    expect(await staging.find(id)).toBeNull();
    expect((await stagedFiles()).filter((f) => f.startsWith(id))).toEqual([]);
    // Used once: the same upload id cannot make a second release.
    await expectAppError(complete(dev, form(id)), "NOT_FOUND", /no longer available/);
  });

  it("resumes: a second request continues at the offset the server reports, and an unfinished upload cannot be saved", async () => {
    const bytes = randomBytes(500_000);
    const id = await startUpload(dev, bytes.length);
    expect((await handleReleaseUpload(dev, patchRequest(id, 0, bytes.subarray(0, 200_000)), staging)).status).toBe(204);
    const version = uniq("2.0.0");
    await expectAppError(complete(dev, form(id, { version })), "CONFLICT", "The upload is not finished yet: 195.3 KiB of 488.3 KiB received. Save again when it is complete.");
    const head = await handleReleaseUpload(dev, headRequest(id), staging);
    expect(head.headers.get("upload-offset")).toBe("200000");
    // A stale offset is refused by tus without touching the file.
    expect((await handleReleaseUpload(dev, patchRequest(id, 0, bytes), staging)).status).toBe(409);
    expect((await handleReleaseUpload(dev, patchRequest(id, 200_000, bytes.subarray(200_000)), staging)).status).toBe(204);
    const release = await complete(dev, form(id, { version }));
    expect(release.artifactSha256).toBe(sha(bytes));
  });

  it("refuses bytes that differ from the declared digest: no release, no artifact, and the upload stays for a corrected form", async () => {
    const bytes = randomBytes(200_000);
    const id = await upload(dev, bytes);
    const version = uniq("3.0.0");
    const declared = sha(randomBytes(8));
    const ctx = testContext();
    const e = await expectAppError(
      complete({ ...dev, ctx }, form(id, { version, sha256: declared })),
      "INVALID_INPUT",
      `The artifact's SHA-256 does not match the declared one: expected ${declared}, received ${sha(bytes)}.`,
    );
    expect(e.fieldErrors?.sha256).toEqual([`The uploaded bytes hash to ${sha(bytes)}.`]);
    expect(await db.release.count({ where: { applicationId: tenant.application.id, version } })).toBe(0);
    expect(await inStore(bytes)).toBeNull();
    expect(await db.auditEvent.count({ where: { requestId: ctx.requestId } })).toBe(0);
    expect(await staging.find(id)).toMatchObject({ complete: true, offset: bytes.length });
    // Fixed, the same upload becomes the release.
    expect((await complete(dev, form(id, { version, sha256: sha(bytes) }))).artifactSha256).toBe(sha(bytes));
  });

  it("refuses a duplicate version with a message on the version field, keeping no artifact for it", async () => {
    const version = uniq("4.0.0");
    const first = randomBytes(10_000);
    await complete(dev, form(await upload(dev, first), { version }));
    const second = randomBytes(10_000);
    const id = await upload(dev, second);
    const e = await expectAppError(complete(dev, form(id, { version })), "CONFLICT", `Version ${version} already exists for ${tenant.application.name}.`);
    expect(e.fieldErrors?.version).toEqual([`${version} is taken: choose another version.`]);
    expect(await inStore(second)).toBeNull();
    expect(await inStore(first)).toEqual({ size: 10_000 });
    expect(await staging.find(id)).toMatchObject({ complete: true });
  });

  it("two forms saving the same new version at once: one release, and the loser's artifact is removed", async () => {
    const version = uniq("5.0.0");
    const a = randomBytes(2 * 1024 * 1024);
    const b = randomBytes(2 * 1024 * 1024);
    const [ida, idb] = [await upload(dev, a), await upload(dev, b)];
    const results = await Promise.allSettled([complete(dev, form(ida, { version })), complete(dev, form(idb, { version }))]);
    expect(results.map((r) => r.status).sort()).toEqual(["fulfilled", "rejected"]);
    const lost = results.find((r) => r.status === "rejected");
    expect(String((lost as PromiseRejectedResult).reason)).toContain(`Version ${version} already exists`);
    const won = results.findIndex((r) => r.status === "fulfilled");
    const [winner, loser] = won === 0 ? [a, b] : [b, a];
    expect(await inStore(winner)).not.toBeNull();
    expect(await inStore(loser)).toBeNull();
    expect(await db.release.count({ where: { applicationId: tenant.application.id, version } })).toBe(1);
  });

  it("refuses a file over MAX_ARTIFACT_BYTES with 413 before creating anything, and empty or undeclared sizes with 400", async () => {
    const before = await stagedFiles();
    const max = env().MAX_ARTIFACT_BYTES;
    await expectAppError(handleReleaseUpload(dev, createRequest(max + 1, { applicationId: tenant.application.id, fileName: "big.tgz" }), staging), "PAYLOAD_TOO_LARGE", /^The file is .*; releases are limited to 4 GiB\.$/);
    await expectAppError(handleReleaseUpload(dev, createRequest(0, { applicationId: tenant.application.id, fileName: "empty.tgz" }), staging), "INVALID_INPUT", /The file is empty/);
    await expectAppError(handleReleaseUpload(dev, createRequest(10, { fileName: "x.tgz" }), staging), "INVALID_INPUT", /must name the application/);
    const deferred = new Request(URL_BASE, { method: "POST", headers: { "tus-resumable": "1.0.0", "upload-defer-length": "1" } });
    await expectAppError(handleReleaseUpload(dev, deferred, staging), "INVALID_INPUT", /Declare the file's size/);
    expect(await stagedFiles()).toEqual(before);
  });
});

describe("protocol discovery", () => {
  // tus clients and people checking an endpoint ask OPTIONS what it speaks; the answer must be the truth about this
  // endpoint: the extensions it refuses (deferred length, concatenation) are not offered.
  it("answers OPTIONS with the tus version, the extensions this endpoint accepts and the size limit", async () => {
    const res = await describeUploadProtocol(new Request(URL_BASE, { method: "OPTIONS" }), staging);
    expect(res.status).toBe(204);
    expect(res.headers.get("tus-resumable")).toBe("1.0.0");
    expect(res.headers.get("tus-version")).toBe("1.0.0");
    expect(res.headers.get("tus-max-size")).toBe(String(env().MAX_ARTIFACT_BYTES));
    expect(res.headers.get("tus-extension")?.split(",").sort()).toEqual(["creation", "creation-with-upload", "expiration", "termination"]);
  });
});

describe("who may upload", () => {
  it("a customer (or ops) is refused before a byte is stored, even when the body comes with the creation", async () => {
    for (const role of ["CUSTOMER", "OPS"] as const) {
      const member = await createMember(tenant, role, { customerSide: role === "CUSTOMER" });
      const before = await stagedFiles();
      const request = createRequest(1000, { applicationId: tenant.application.id, fileName: "x.tgz" }, randomBytes(1000));
      await expectAppError(handleReleaseUpload(member, request, staging), "FORBIDDEN");
      expect(request.bodyUsed).toBe(false);
      expect(await stagedFiles()).toEqual(before);
    }
  });

  it("tus alone creates nothing: an upload must come through the domain's admission", async () => {
    const before = await stagedFiles();
    const res = await staging.handle(createRequest(10, { applicationId: tenant.application.id, fileName: "x.tgz", uploaderId: dev.id }));
    expect(res.status).toBe(403);
    expect(await stagedFiles()).toEqual(before);
  });

  it("nobody but its uploader can read, append to, cancel or complete an upload: another tenant, another developer", async () => {
    const bytes = randomBytes(20_000);
    const id = await startUpload(dev, bytes.length);
    expect((await handleReleaseUpload(dev, patchRequest(id, 0, bytes.subarray(0, 5_000)), staging)).status).toBe(204);
    const other = await createTenant();
    const outsider = await createMember(other, "DEVELOPER");
    const colleague = await createMember(tenant, "DEVELOPER");
    for (const actor of [outsider, colleague]) {
      await expectAppError(handleReleaseUpload(actor, headRequest(id), staging), "NOT_FOUND");
      await expectAppError(handleReleaseUpload(actor, patchRequest(id, 5_000, bytes.subarray(5_000)), staging), "NOT_FOUND");
      await expectAppError(handleReleaseUpload(actor, new Request(`${URL_BASE}/${id}`, { method: "DELETE", headers: { "tus-resumable": "1.0.0" } }), staging), "NOT_FOUND");
    }
    expect(await staging.find(id)).toMatchObject({ offset: 5_000 });
    expect((await handleReleaseUpload(dev, patchRequest(id, 5_000, bytes.subarray(5_000)), staging)).status).toBe(204);

    // Completing it: into the outsider's own application (the upload is not theirs) or into ours (not visible).
    const version = uniq("6.0.0");
    await expectAppError(complete(outsider, form(id, { applicationId: other.application.id, version })), "NOT_FOUND", /no longer available/);
    await expectAppError(complete(outsider, form(id, { version })), "NOT_FOUND", "Application not found.");
    await expectAppError(complete(colleague, form(id, { version })), "NOT_FOUND", /no longer available/);
    expect(await db.release.count({ where: { version } })).toBe(0);
    expect(await inStore(bytes)).toBeNull();
    expect(await staging.find(id)).toMatchObject({ complete: true });
  });

  it("an upload started for one application cannot become a release of another, even the same developer's", async () => {
    const second = await createTenant();
    const { grantRole } = await import("../memberships/grant-role");
    await grantRole(second.admin, { applicationId: second.application.id, userId: dev.id, role: "DEVELOPER" });
    const { actorFor } = await import("../../test/factories");
    const both = await actorFor(dev.id);
    const id = await upload(both, randomBytes(1_000));
    await expectAppError(complete(both, form(id, { applicationId: second.application.id })), "NOT_FOUND", /no longer available/);
  });

  it("a developer whose role was revoked cannot continue their upload", async () => {
    const member = await createMember(tenant, "DEVELOPER");
    const id = await startUpload(member, 100);
    const { revokeRole } = await import("../memberships/revoke-role");
    const membership = await db.membership.findFirstOrThrow({ where: { userId: member.id, applicationId: tenant.application.id } });
    await revokeRole(tenant.admin, { membershipId: membership.id });
    const { actorFor } = await import("../../test/factories");
    await expectAppError(handleReleaseUpload(await actorFor(member.id), patchRequest(id, 0, randomBytes(100)), staging), "NOT_FOUND");
  });
});

describe("staging housekeeping", () => {
  it("sweeps uploads older than 24 hours, complete or not, and stray files; PATCH to an expired one is refused", async () => {
    const fresh = await startUpload(dev, 100);
    const old = await startUpload(dev, 100);
    const oldInfo = path.join(staging.directory, `${old}.json`);
    const { readFile } = await import("node:fs/promises");
    const info = JSON.parse(await readFile(oldInfo, "utf8")) as Record<string, unknown>;
    await writeFile(oldInfo, JSON.stringify({ ...info, creation_date: new Date(Date.now() - STAGED_UPLOAD_TTL_MS - 60_000).toISOString() }));
    const stray = path.join(staging.directory, "f".repeat(32));
    await writeFile(stray, "left by a crash between the file and its record");
    const longAgo = new Date(Date.now() - STAGED_UPLOAD_TTL_MS - 60_000);
    await utimes(stray, longAgo, longAgo);

    expect(await staging.find(old)).toBeNull();
    const refused = await handleReleaseUpload(dev, patchRequest(old, 0, randomBytes(100)), staging).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: "NOT_FOUND" });

    expect(await staging.sweepExpired()).toBeGreaterThanOrEqual(2);
    expect(existsSync(path.join(staging.directory, old))).toBe(false);
    expect(existsSync(oldInfo)).toBe(false);
    expect(existsSync(stray)).toBe(false);
    expect(await staging.find(fresh)).not.toBeNull();
  });

  it("locks hold across instances: a second locker waits, asks the holder to let go, and gets the upload once released", async () => {
    const other = new PostgresUploadLocker(env().DATABASE_URL!, { acquireTimeoutMs: 5_000 });
    try {
      const id = randomBytes(16).toString("hex");
      const first = locker.newLock(id);
      let asked = 0;
      await first.lock(new AbortController().signal, () => {
        asked++;
        setTimeout(() => void first.unlock(), 200);
      });
      const second = other.newLock(id);
      const t = Date.now();
      await second.lock(new AbortController().signal, () => undefined);
      expect(asked).toBeGreaterThanOrEqual(1);
      expect(Date.now() - t).toBeGreaterThanOrEqual(150);
      await second.unlock();
    } finally {
      await other.close();
    }
  });
});
