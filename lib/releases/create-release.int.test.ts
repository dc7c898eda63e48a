// Uploading a release candidate through the domain function: bytes streamed into a real store first, then the row
// and its one audit event; refusals leave neither a row nor orphaned bytes.
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectAppError } from "../../test/assertions";
import { createMember, createTenant, testContext, uniq } from "../../test/factories";
import { authenticateApiToken } from "../api-tokens/authenticate-api-token";
import { createApiToken, ZCreateApiTokenRequestSchema } from "../api-tokens/create-api-token";
import type { UserActor } from "../auth/actor";
import { db } from "../db/client";
import { FilesystemArtifactStore } from "../storage/filesystem-store";
import { createRelease, storeReleaseArtifact, ZCreateReleaseRequestSchema } from "./create-release";
import { listReleases } from "./list-releases";

type Tenant = Awaited<ReturnType<typeof createTenant>>;
let tenant: Tenant;
let dev: UserActor;
let root: string;
let store: FilesystemArtifactStore;

beforeAll(async () => {
  tenant = await createTenant();
  dev = await createMember(tenant, "DEVELOPER");
  root = await mkdtemp(path.join(os.tmpdir(), "releasegate-releases-"));
  store = new FilesystemArtifactStore(root);
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const input = (over: Record<string, unknown> = {}) => ZCreateReleaseRequestSchema.parse({ applicationId: tenant.application.id, version: uniq("1.0.0"), ...over });
const upload = (actor: Parameters<typeof createRelease>[0], bytes: Buffer, over: Record<string, unknown> = {}, expectedSha256?: string) =>
  createRelease(actor, input(over), { stream: Readable.from([bytes]), fileName: "build.tar.gz", ...(expectedSha256 ? { expectedSha256 } : {}) }, store);
const stored = (b: Buffer) => store.statArtifact(`sha256/${sha(b).slice(0, 2)}/${sha(b)}`);
const storedFiles = async () => (await readdir(path.join(root, "sha256"), { recursive: true }).catch(() => [] as string[])).filter((f) => /[0-9a-f]{64}$/.test(f));

describe("createRelease", () => {
  it("stores the artifact, records the release by its uploader and writes one RELEASE_CREATED event", async () => {
    const bytes = randomBytes(300_000);
    const ctx = testContext();
    const version = uniq("2.0.0");
    const release = await upload({ ...dev, ctx }, bytes, { version, notes: "New checkout", needsMigration: "true", migrationInstructions: "Run migrate" });
    expect(release).toMatchObject({
      version,
      status: "CANDIDATE",
      notes: "New checkout",
      needsMigration: true,
      migrationInstructions: "Run migrate",
      artifactSha256: sha(bytes),
      artifactSize: 300_000n,
      artifactFileName: "build.tar.gz",
      uploadedById: dev.id,
      uploadedViaTokenId: null,
    });
    expect(await stored(bytes)).toEqual({ size: 300_000 });

    const events = await db.auditEvent.findMany({ where: { requestId: ctx.requestId } });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: "RELEASE_CREATED",
      actorType: "USER",
      actorId: dev.id,
      objectType: "Release",
      objectId: release.id,
      customerId: tenant.customer.id,
      applicationId: tenant.application.id,
      releaseId: release.id,
      after: { version, sha256: sha(bytes), size: 300_000, fileName: "build.tar.gz", needsMigration: true },
    });
    expect((await listReleases(dev, tenant.application.id))[0]).toMatchObject({ id: release.id, version, sha256: sha(bytes), size: 300_000 });
  });

  it("validates the version readably", () => {
    for (const bad of ["", " ", "-1.0", "1.0 beta", "v".repeat(65), "1.0/../x"]) {
      expect(ZCreateReleaseRequestSchema.safeParse({ applicationId: tenant.application.id, version: bad }).success, bad).toBe(false);
    }
    const message = ZCreateReleaseRequestSchema.safeParse({ applicationId: tenant.application.id, version: "1.0 beta" }).error?.issues[0]?.message;
    expect(message).toMatch(/Use letters, digits, dots, dashes, underscores and plus signs/);
    expect(ZCreateReleaseRequestSchema.parse({ applicationId: tenant.application.id, version: " 1.4.0+build.7 " })).toEqual({
      applicationId: tenant.application.id,
      version: "1.4.0+build.7",
      notes: "",
      needsMigration: false,
      migrationInstructions: "",
    });
    expect(ZCreateReleaseRequestSchema.safeParse({ applicationId: tenant.application.id, version: "1", needsMigration: "maybe" }).error?.issues[0]?.message).toBe("Use true or false.");
  });

  it("refuses a duplicate version before storing anything", async () => {
    const version = uniq("1.2.3");
    await upload(dev, randomBytes(1000), { version });
    const bytes = randomBytes(1000);
    const ctx = testContext();
    await expectAppError(upload({ ...dev, ctx }, bytes, { version }), "CONFLICT", `Version ${version} already exists for ${tenant.application.name}.`);
    expect(await stored(bytes)).toBeNull();
    expect(await db.auditEvent.count({ where: { requestId: ctx.requestId } })).toBe(0);
  });

  it("removes bytes stored ahead of their metadata when the release is then refused, unless another release uses them", async () => {
    const version = uniq("1.2.3");
    const first = randomBytes(1000);
    await upload(dev, first, { version });

    // Other bytes, sent before the version was known: stored, then refused as a duplicate, then removed.
    const other = randomBytes(1000);
    const early = await storeReleaseArtifact(dev, { applicationId: tenant.application.id }, Readable.from([other]), { store });
    expect(await stored(other)).not.toBeNull();
    await expectAppError(createRelease(dev, input({ version }), { stored: early, fileName: "x.tgz" }, store), "CONFLICT");
    expect(await stored(other)).toBeNull();

    // The same bytes as the existing release: refused too, but the existing release keeps its file.
    const again = await storeReleaseArtifact(dev, { applicationId: tenant.application.id }, Readable.from([first]), { store });
    await expectAppError(createRelease(dev, input({ version }), { stored: again, fileName: "x.tgz" }, store), "CONFLICT");
    expect(await stored(first)).toEqual({ size: 1000 });
  });

  it("keeps one file for the same bytes in two releases", async () => {
    const bytes = randomBytes(5000);
    const a = await upload(dev, bytes);
    const b = await upload(dev, bytes);
    expect(a.artifactStorageKey).toBe(b.artifactStorageKey);
    expect((await storedFiles()).filter((f) => f.endsWith(sha(bytes)))).toHaveLength(1);
  });

  it("refuses bytes that differ from the declared digest, keeping neither release nor bytes", async () => {
    const bytes = randomBytes(4000);
    const version = uniq("3.0.0");
    const declared = sha(randomBytes(10));
    await expectAppError(upload(dev, bytes, { version }, declared), "INVALID_INPUT", `The artifact's SHA-256 does not match the declared one: expected ${declared}, received ${sha(bytes)}.`);
    expect(await stored(bytes)).toBeNull();
    expect(await db.release.count({ where: { applicationId: tenant.application.id, version } })).toBe(0);
    // Declared after the bytes were stored: the same answer, and the bytes are removed.
    const early = await storeReleaseArtifact(dev, { applicationId: tenant.application.id }, Readable.from([bytes]), { store });
    await expectAppError(createRelease(dev, input({ version }), { stored: early, fileName: "x", expectedSha256: declared }, store), "INVALID_INPUT", /expected .*, received/);
    expect(await stored(bytes)).toBeNull();
  });

  it("refuses an empty artifact", async () => {
    await expectAppError(upload(dev, Buffer.alloc(0)), "INVALID_INPUT", /The artifact is empty/);
    expect(await stored(Buffer.alloc(0))).toBeNull();
  });

  it("is refused to a customer and to ops (who do not upload), before a byte is read", async () => {
    for (const role of ["CUSTOMER", "OPS"] as const) {
      const member = await createMember(tenant, role, { customerSide: role === "CUSTOMER" });
      const bytes = randomBytes(1000);
      const source = Readable.from([bytes]);
      const ctx = testContext();
      const version = uniq("9.9.9");
      await expectAppError(createRelease({ ...member, ctx }, input({ version }), { stream: source, fileName: "a" }, store), "FORBIDDEN");
      expect(source.readableDidRead).toBe(false);
      expect(await stored(bytes)).toBeNull();
      expect(await db.release.count({ where: { version } })).toBe(0);
      expect(await db.auditEvent.count({ where: { requestId: ctx.requestId } })).toBe(0);
    }
  });

  it("answers NOT_FOUND for another tenant's application, even to its developers", async () => {
    const other = await createTenant();
    const outsider = await createMember(other, "DEVELOPER");
    await expectAppError(upload(outsider, randomBytes(10)), "NOT_FOUND");
    await expectAppError(listReleases(outsider, tenant.application.id), "NOT_FOUND");
  });

  it("through a pipeline's token: uploaded in the creator's name, via the token, audited as the token", async () => {
    const { plaintext, token } = await createApiToken(
      dev,
      ZCreateApiTokenRequestSchema.parse({ applicationId: tenant.application.id, name: uniq("ci"), roles: ["DEVELOPER"] }),
    );
    const ctx = testContext();
    const pipeline = await authenticateApiToken(`Bearer ${plaintext}`, ctx);
    const release = await upload(pipeline, randomBytes(2000));
    expect(release).toMatchObject({ uploadedById: dev.id, uploadedViaTokenId: token.id });
    const events = await db.auditEvent.findMany({ where: { requestId: ctx.requestId } });
    expect(events.map((e) => [e.type, e.actorType, e.actorId, e.actorLabel])).toEqual([["RELEASE_CREATED", "API_TOKEN", token.id, pipeline.label]]);
    expect(events[0]!.data).toEqual({ uploadedById: dev.id, uploadedViaTokenId: token.id });
  });
});
