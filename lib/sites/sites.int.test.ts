// Ops manage an environment's sites (data centres) and put servers in them, against real PostgreSQL. Each change
// writes one audit event; a refused one (bad input, no permission, another tenant, the wrong environment, a rollout
// running) changes nothing and records nothing.
import { beforeAll, describe, expect, it } from "vitest";
import { expectAppError } from "../../test/assertions";
import { auditEventsSince, createMember, createTenant, environmentsOf, lastAuditSeq } from "../../test/factories";
import type { UserActor } from "../auth/actor";
import { db } from "../db/client";
import { addTarget } from "../targets/add-target";
import { assignTargetSite } from "./assign-target-site";
import { createSite } from "./create-site";
import { deleteSite } from "./delete-site";
import { getEnvironmentSites } from "./get-environment-sites";
import { moveSite } from "./move-site";
import { renameSite } from "./rename-site";
import { updateSiteSettings } from "./update-site-settings";

type Tenant = Awaited<ReturnType<typeof createTenant>>;
let tenant: Tenant;
let other: Tenant;
let ops: UserActor;
let dev: UserActor;
let auditor: UserActor;
let otherOps: UserActor;
let qaId: string;
let productionId: string;

beforeAll(async () => {
  [tenant, other] = await Promise.all([createTenant(), createTenant()]);
  [ops, dev, auditor, otherOps] = await Promise.all([createMember(tenant, "OPS"), createMember(tenant, "DEVELOPER"), createMember(tenant, "AUDITOR"), createMember(other, "OPS")]);
  const envs = await environmentsOf(tenant.application.id);
  qaId = envs[0]!.id;
  productionId = envs[2]!.id;
});

const typesSince = async (seq: bigint) => (await auditEventsSince(seq)).filter((e) => e.applicationId === tenant.application.id).map((e) => e.type);

describe("sites", () => {
  it("ops add, rename, reorder and remove sites; each change is one audit event", async () => {
    const since = await lastAuditSeq();
    const fra = await createSite(ops, { environmentId: productionId, name: " fra-1 " });
    const ams = await createSite(ops, { environmentId: productionId, name: "ams-1" });
    expect([fra.name, fra.position, ams.position]).toEqual(["fra-1", 0, 1]);
    await expectAppError(createSite(ops, { environmentId: productionId, name: "fra-1" }), "CONFLICT", "Production already has a site named fra-1.");
    await expectAppError(createSite(ops, { environmentId: productionId, name: "fra/1; rm" }), "INVALID_INPUT", /Use letters, digits, spaces/);
    expect(await moveSite(ops, { siteId: ams.id, direction: "up" })).toEqual(["ams-1", "fra-1"]);
    await expectAppError(moveSite(ops, { siteId: ams.id, direction: "up" }), "INVALID_INPUT", "Site ams-1 is already first.");
    expect((await renameSite(ops, { siteId: fra.id, name: "fra-2" })).changed).toBe(true);
    expect((await renameSite(ops, { siteId: fra.id, name: "fra-2" })).changed).toBe(false);
    await deleteSite(ops, { siteId: fra.id });
    expect(await typesSince(since)).toEqual(["SITE_CREATED", "SITE_CREATED", "SITES_REORDERED", "SITE_RENAMED", "SITE_DELETED"]);
    const view = await getEnvironmentSites(auditor, { applicationId: tenant.application.id, environmentId: productionId });
    expect(view.sites.map((s) => s.name)).toEqual(["ams-1"]);
    expect(view.manages).toBe(false);
    await deleteSite(ops, { siteId: ams.id });
  });

  it("puts servers in a site of their own environment only, and refuses to remove a site that holds servers", async () => {
    const site = await createSite(ops, { environmentId: productionId, name: "dc-a" });
    const qaSite = await createSite(ops, { environmentId: qaId, name: "dc-qa" });
    const { target } = await addTarget(ops, { environmentId: productionId, name: "web-a1" });
    const since = await lastAuditSeq();
    expect((await assignTargetSite(ops, { targetId: target.id, siteId: site.id })).changed).toBe(true);
    expect((await assignTargetSite(ops, { targetId: target.id, siteId: site.id })).changed).toBe(false);
    await expectAppError(assignTargetSite(ops, { targetId: target.id, siteId: qaSite.id }), "NOT_FOUND", "Site not found.");
    await expectAppError(deleteSite(ops, { siteId: site.id }), "CONFLICT", "Site dc-a still holds web-a1: move it to another site (or to none) first.");
    const event = (await auditEventsSince(since)).find((e) => e.type === "TARGET_SITE_CHANGED")!;
    expect(event).toMatchObject({ actorId: ops.id, environmentId: productionId, summary: expect.stringContaining("moved server web-a1 of") });
    expect(event.summary).toContain("from no site to site dc-a");
    const view = await getEnvironmentSites(ops, { applicationId: tenant.application.id, environmentId: productionId });
    expect(view.sites.find((s) => s.name === "dc-a")?.servers.map((t) => t.name)).toEqual(["web-a1"]);
    // "" takes it out of its site: it joins the servers without a site.
    await assignTargetSite(ops, { targetId: target.id, siteId: "" });
    await deleteSite(ops, { siteId: site.id });
    expect(await typesSince(since)).toEqual(["TARGET_SITE_CHANGED", "TARGET_SITE_CHANGED", "SITE_DELETED"]);
  });

  it("saves the site settings with only what changed, and warns when a site could not be updated under the floor", async () => {
    const since = await lastAuditSeq();
    const site = await createSite(ops, { environmentId: qaId, name: "solo" });
    const { target } = await addTarget(ops, { environmentId: qaId, name: "qa-solo" });
    await assignTargetSite(ops, { targetId: target.id, siteId: site.id });
    const saved = await updateSiteSettings(ops, { environmentId: qaId, siteOrder: "SMALLEST_FIRST", siteFloor: "1", pauseAfterFirstSite: "on" });
    expect(saved.changed).toEqual(["siteOrder", "siteFloor", "pauseAfterFirstSite"]);
    expect(saved.warning).toMatch(/^Site solo has 1 server and the floor is 1 serving server per site/);
    expect((await updateSiteSettings(ops, { environmentId: qaId, siteOrder: "SMALLEST_FIRST", siteFloor: 1, pauseAfterFirstSite: true })).changed).toEqual([]);
    await expectAppError(updateSiteSettings(ops, { environmentId: qaId, siteOrder: "SMALLEST_FIRST", siteFloor: -1, pauseAfterFirstSite: false }), "INVALID_INPUT", /At least 0/);
    const events = (await auditEventsSince(since)).filter((e) => e.type === "ENVIRONMENT_UPDATED");
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ before: { siteOrder: "CHOSEN", siteFloor: 0, pauseAfterFirstSite: false }, after: { siteOrder: "SMALLEST_FIRST", siteFloor: 1, pauseAfterFirstSite: true } });
    expect(await db.environment.findUniqueOrThrow({ where: { id: qaId } })).toMatchObject({ siteOrder: "SMALLEST_FIRST", siteFloor: 1, pauseAfterFirstSite: true });
  });

  it("only those who manage servers change sites; another tenant's ops find nothing, and nothing is recorded in this application", async () => {
    const site = await createSite(ops, { environmentId: productionId, name: "dc-guarded" });
    const { target } = await addTarget(ops, { environmentId: productionId, name: "web-guarded" });
    const since = await lastAuditSeq();
    await expectAppError(createSite(dev, { environmentId: productionId, name: "dc-x" }), "FORBIDDEN");
    await expectAppError(renameSite(dev, { siteId: site.id, name: "dc-y" }), "FORBIDDEN");
    await expectAppError(assignTargetSite(dev, { targetId: target.id, siteId: site.id }), "FORBIDDEN");
    await expectAppError(updateSiteSettings(dev, { environmentId: productionId, siteOrder: "CHOSEN", siteFloor: 0, pauseAfterFirstSite: false }), "FORBIDDEN");
    await expectAppError(createSite(otherOps, { environmentId: productionId, name: "dc-x" }), "NOT_FOUND", "Environment not found.");
    await expectAppError(deleteSite(otherOps, { siteId: site.id }), "NOT_FOUND", "Site not found.");
    await expectAppError(moveSite(otherOps, { siteId: site.id, direction: "down" }), "NOT_FOUND", "Site not found.");
    await expectAppError(assignTargetSite(otherOps, { targetId: target.id, siteId: site.id }), "NOT_FOUND", "Server not found.");
    await expectAppError(getEnvironmentSites(otherOps, { applicationId: tenant.application.id, environmentId: productionId }), "NOT_FOUND");
    expect(await typesSince(since)).toEqual([]);
    expect((await db.site.findUniqueOrThrow({ where: { id: site.id } })).name).toBe("dc-guarded");
  });
});
