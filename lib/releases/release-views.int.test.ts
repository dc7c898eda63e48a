// The release list and the release page's reads, against real PostgreSQL: filters, search, newest first, pages,
// where each release is live, the timeline from deployments and the audit record, and the tenant boundary.
import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectAppError } from "../../test/assertions";
import { createDeploymentRow, createMember, createReleaseRow, createTenant, environmentsOf } from "../../test/factories";
import type { UserActor } from "../auth/actor";
import { db } from "../db/client";
import { FilesystemArtifactStore } from "../storage/filesystem-store";
import { createRelease } from "./create-release";
import { getRelease } from "./get-release";
import { listReleasePage, listReleases, RELEASE_PAGE_SIZE } from "./list-releases";

type Tenant = Awaited<ReturnType<typeof createTenant>>;
let tenant: Tenant;
let dev: UserActor;
let customer: UserActor;
let root: string;

beforeAll(async () => {
  tenant = await createTenant();
  dev = await createMember(tenant, "DEVELOPER");
  customer = await createMember(tenant, "CUSTOMER", { customerSide: true });
  root = await mkdtemp(path.join(os.tmpdir(), "releasegate-views-"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Release rows with distinct creation times (oldest first), so "newest first" is observable. */
async function releases(versions: string[], extra: (v: string) => { notes?: string; status?: "CANDIDATE" | "REJECTED" | "ACCEPTED" } = () => ({})) {
  const rows = [];
  for (const [i, version] of versions.entries()) {
    const row = await createReleaseRow({ applicationId: tenant.application.id, uploadedById: dev.id, version, status: extra(version).status ?? "CANDIDATE" });
    rows.push(
      await db.release.update({
        where: { id: row.id },
        data: { createdAt: new Date(Date.UTC(2026, 0, 1, 0, i)), notes: extra(version).notes ?? "" },
      }),
    );
  }
  return rows;
}

/** Deployment rows finish in the order the test says (succeeded ones always have a finish time). */
const finished = (d: { id: string }, minute: number) => db.deployment.update({ where: { id: d.id }, data: { finishedAt: new Date(Date.UTC(2026, 0, 2, 0, minute)) } });

describe("listReleasePage", () => {
  it("filters by status, searches version and notes, newest first, in pages, with where each release is live", async () => {
    const versions = Array.from({ length: RELEASE_PAGE_SIZE + 3 }, (_, i) => `7.${i}.0`);
    const rows = await releases(versions, (v) => ({
      notes: v === "7.3.0" ? "Fixes the VAT Rounding on invoices" : "",
      status: v === "7.5.0" ? "REJECTED" : "CANDIDATE",
    }));
    const [qa, acceptance] = await environmentsOf(tenant.application.id);
    await finished(await createDeploymentRow({ releaseId: rows[3]!.id, environmentId: qa!.id }), 1);
    await finished(await createDeploymentRow({ releaseId: rows[3]!.id, environmentId: acceptance!.id }), 2);
    // A later failed deployment does not change what is live.
    await finished(await createDeploymentRow({ releaseId: rows[4]!.id, environmentId: qa!.id, status: "FAILED" }), 3);

    const first = await listReleasePage(customer, tenant.application.id, {});
    expect(first.total).toBe(versions.length);
    expect(first.pageCount).toBe(2);
    expect(first.releases).toHaveLength(RELEASE_PAGE_SIZE);
    expect(first.releases[0]!.version).toBe(versions.at(-1));
    const second = await listReleasePage(customer, tenant.application.id, { page: "2" });
    expect(second.releases.map((r) => r.version)).toEqual(["7.2.0", "7.1.0", "7.0.0"]);

    const found = await listReleasePage(customer, tenant.application.id, { q: "vat rounding" });
    expect(found.releases.map((r) => [r.version, r.liveIn.map((e) => e.name)])).toEqual([["7.3.0", ["QA", "Acceptance"]]]);
    expect((await listReleasePage(customer, tenant.application.id, { q: "7.1" })).releases.map((r) => r.version)).toEqual(["7.19.0", "7.18.0", "7.17.0", "7.16.0", "7.15.0", "7.14.0", "7.13.0", "7.12.0", "7.11.0", "7.10.0", "7.1.0"]);
    expect((await listReleasePage(customer, tenant.application.id, { status: "REJECTED" })).releases.map((r) => r.version)).toEqual(["7.5.0"]);
    expect((await listReleasePage(customer, tenant.application.id, { status: "REJECTED", q: "7.3" })).total).toBe(0);
    // The API reads through the same filter.
    expect((await listReleases(dev, tenant.application.id, { status: "REJECTED" })).map((r) => r.version)).toEqual(["7.5.0"]);
  });

  it("answers NOT_FOUND outside the tenant and for ids that are not ids, and readably for a bad filter", async () => {
    const other = await createTenant();
    const outsider = await createMember(other, "DEVELOPER");
    await expectAppError(listReleasePage(outsider, tenant.application.id), "NOT_FOUND");
    await expectAppError(listReleasePage(dev, "not-a-uuid"), "NOT_FOUND");
    await expectAppError(listReleasePage(dev, tenant.application.id, { status: "SHIPPED" }), "INVALID_INPUT", /status must be one of CANDIDATE/);
  });
});

describe("getRelease", () => {
  it("shows the artifact, where it is live and its timeline: upload by name, deployments with outcome, the revert that took it out", async () => {
    const store = new FilesystemArtifactStore(root);
    const release = await createRelease(
      dev,
      { applicationId: tenant.application.id, version: "8.0.0", notes: "n", needsMigration: false, migrationInstructions: "" },
      { stream: Readable.from([randomBytes(1000)]), fileName: "shop-8.0.0.tgz" },
      store,
    );
    const previous = (await releases(["7.99.0"]))[0]!;
    const [qa, , production] = await environmentsOf(tenant.application.id);
    const ops = await createMember(tenant, "OPS");
    const deployed = await createDeploymentRow({ releaseId: release.id, environmentId: qa!.id, requestedById: dev.id });
    const toProd = await createDeploymentRow({ releaseId: release.id, environmentId: production!.id, requestedById: ops.id });
    const revert = await db.deployment.create({
      data: { releaseId: previous.id, previousReleaseId: release.id, environmentId: production!.id, kind: "REVERT", strategy: "ROLLING", status: "SUCCEEDED", requestedById: ops.id, reason: "Checkout errors" },
    });
    // After the upload (now) and after the first test's deployments.
    await db.deployment.update({ where: { id: deployed.id }, data: { finishedAt: new Date(Date.now() + 10_000) } });
    await db.deployment.update({ where: { id: toProd.id }, data: { finishedAt: new Date(Date.now() + 30_000) } });
    await db.deployment.update({ where: { id: revert.id }, data: { finishedAt: new Date(Date.now() + 60_000) } });

    const view = await getRelease(customer, { applicationId: tenant.application.id, releaseId: release.id });
    expect(view.release).toMatchObject({ version: "8.0.0", artifactFileName: "shop-8.0.0.tgz", uploadedBy: { name: dev.name } });
    expect(view.liveIn.map((e) => e.name)).toEqual(["QA"]);
    expect(view.mayDeploy).toBe(false);
    expect(view.timeline.map((e) => [e.title, e.actor])).toEqual([
      ["Uploaded", dev.name],
      ["Deployed to QA: succeeded", dev.name],
      ["Deployed to Production: succeeded", ops.name],
      ["Reverted in Production to 7.99.0: succeeded", ops.name],
    ]);
    expect(view.timeline[3]).toMatchObject({ detail: "Reason: Checkout errors", href: `/deployments/${revert.id}`, tone: "amber" });
    expect((await getRelease(dev, { applicationId: tenant.application.id, releaseId: release.id })).mayDeploy).toBe(true);
  });

  it("is NOT_FOUND for another tenant's member, for another application's id, and for malformed ids", async () => {
    const row = (await releases(["9.0.0"]))[0]!;
    const other = await createTenant();
    const outsider = await createMember(other, "DEVELOPER");
    await expectAppError(getRelease(outsider, { applicationId: tenant.application.id, releaseId: row.id }), "NOT_FOUND");
    await expectAppError(getRelease(outsider, { applicationId: other.application.id, releaseId: row.id }), "NOT_FOUND");
    await expectAppError(getRelease(dev, { applicationId: tenant.application.id, releaseId: "nope" }), "NOT_FOUND");
  });
});
