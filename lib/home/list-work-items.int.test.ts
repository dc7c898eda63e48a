// "What needs you now", per role. Release history is seeded directly as rows; the people and applications come from
// the domain functions.
import { randomBytes } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import {
  actorFor,
  createAdmin,
  createDeploymentRow,
  createMember,
  createReleaseRow,
  createTenant,
  createUserRow,
  environmentsOf,
  uniq,
} from "../../test/factories";
import { createApplication } from "../applications/create-application";
import type { UserActor } from "../auth/actor";
import { createCustomer } from "../customers/create-customer";
import { grantRole } from "../memberships/grant-role";
import { db } from "../db/client";
import { listWorkItems, type WorkItem } from "./list-work-items";

type Tenant = Awaited<ReturnType<typeof createTenant>>;

const kinds = (items: WorkItem[], kind: WorkItem["kind"]) => items.filter((i) => i.kind === kind);
const releaseHref = (appId: string, releaseId: string) => `/apps/${appId}/releases/${releaseId}`;
/** Testing and approving happen on the release's focused review page. */
const reviewHref = (appId: string, releaseId: string) => `/apps/${appId}/releases/${releaseId}/decide`;
const hrefs = (items: WorkItem[], kind: WorkItem["kind"]) => kinds(items, kind).map((i) => i.href);

let a: Tenant;
let b: Tenant;
let developer: UserActor;

beforeAll(async () => {
  [a, b] = await Promise.all([createTenant(), createTenant()]);
  developer = await createMember(a, "DEVELOPER");
});

/** A candidate that has been deployed to the environment before production (Acceptance) and awaits a verdict. */
async function candidateInAcceptance(tenant: Tenant, uploadedById: string) {
  const [, acceptance] = await environmentsOf(tenant.application.id);
  const release = await createReleaseRow({ applicationId: tenant.application.id, uploadedById, version: uniq("2.0") });
  await createDeploymentRow({ releaseId: release.id, environmentId: acceptance!.id, status: "SUCCEEDED" });
  return { release, acceptance: acceptance! };
}

describe("accept: for customers", () => {
  it("a customer sees the candidate live in acceptance, only for their own application", async () => {
    const customerOfA = await createMember(a, "CUSTOMER", { customerSide: true });
    const customerOfB = await createMember(b, "CUSTOMER", { customerSide: true });
    const { release, acceptance } = await candidateInAcceptance(a, developer.id);
    await db.environment.update({ where: { id: acceptance.id }, data: { url: "https://acc.example.test" } });

    const items = await listWorkItems(customerOfA);
    const item = kinds(items, "accept").find((i) => i.href === reviewHref(a.application.id, release.id));
    expect(item).toEqual({
      kind: "accept",
      title: `Test ${a.application.name} ${release.version}`,
      detail: "Live in Acceptance at https://acc.example.test: accept or reject it.",
      href: reviewHref(a.application.id, release.id),
    });
    expect(items.every((i) => i.href.startsWith(`/apps/${a.application.id}/`))).toBe(true);

    expect(hrefs(await listWorkItems(customerOfB), "accept")).not.toContain(reviewHref(a.application.id, release.id));
  });

  it("nothing to accept before the candidate reaches acceptance, or when its deployment failed", async () => {
    const customer = await createMember(a, "CUSTOMER", { customerSide: true });
    const [qa, acceptance] = await environmentsOf(a.application.id);
    const onlyInQa = await createReleaseRow({ applicationId: a.application.id, uploadedById: developer.id });
    await createDeploymentRow({ releaseId: onlyInQa.id, environmentId: qa!.id, status: "SUCCEEDED" });
    const failed = await createReleaseRow({ applicationId: a.application.id, uploadedById: developer.id });
    await createDeploymentRow({ releaseId: failed.id, environmentId: acceptance!.id, status: "FAILED" });

    const accept = hrefs(await listWorkItems(customer), "accept");
    expect(accept).not.toContain(reviewHref(a.application.id, onlyInQa.id));
    expect(accept).not.toContain(reviewHref(a.application.id, failed.id));
  });

  it("the item goes away once a verdict is given on these bytes, and not for a verdict on other bytes", async () => {
    const customer = await createMember(a, "CUSTOMER", { customerSide: true });
    const judged = await candidateInAcceptance(a, developer.id);
    const rebuilt = await candidateInAcceptance(a, developer.id);
    await db.acceptanceVerdict.create({
      data: { releaseId: judged.release.id, environmentId: judged.acceptance.id, userId: customer.id, verdict: "ACCEPTED", artifactSha256: judged.release.artifactSha256 },
    });
    await db.acceptanceVerdict.create({
      data: { releaseId: rebuilt.release.id, environmentId: rebuilt.acceptance.id, userId: customer.id, verdict: "ACCEPTED", artifactSha256: randomBytes(32).toString("hex") },
    });

    const accept = hrefs(await listWorkItems(customer), "accept");
    expect(accept).not.toContain(reviewHref(a.application.id, judged.release.id));
    expect(accept).toContain(reviewHref(a.application.id, rebuilt.release.id));
  });

  it("a customer tester who uploaded the release is not asked to judge it", async () => {
    const both = await createMember(a, "CUSTOMER");
    await grantRole(a.admin, { applicationId: a.application.id, userId: both.id, role: "DEVELOPER" });
    const { release } = await candidateInAcceptance(a, both.id);
    expect(hrefs(await listWorkItems(await actorFor(both.id)), "accept")).not.toContain(reviewHref(a.application.id, release.id));
  });

  it("a developer of the same application is not asked to accept", async () => {
    const { release } = await candidateInAcceptance(a, developer.id);
    expect(hrefs(await listWorkItems(developer), "accept")).not.toContain(reviewHref(a.application.id, release.id));
  });
});

describe("approve: for approvers", () => {
  it("an approver sees an accepted release for production, but not one they uploaded themselves", async () => {
    const approver = await createMember(a, "APPROVER");
    const byOthers = await createReleaseRow({ applicationId: a.application.id, uploadedById: developer.id, status: "ACCEPTED" });
    const byThemselves = await createReleaseRow({ applicationId: a.application.id, uploadedById: approver.id, status: "ACCEPTED" });

    const approve = kinds(await listWorkItems(approver), "approve");
    expect(approve.find((i) => i.href === reviewHref(a.application.id, byOthers.id))).toEqual({
      kind: "approve",
      title: `Approve ${a.application.name} ${byOthers.version} for Production`,
      detail: "0 of 1 approvals so far.",
      href: reviewHref(a.application.id, byOthers.id),
    });
    expect(approve.map((i) => i.href)).not.toContain(reviewHref(a.application.id, byThemselves.id));
  });

  it("the item goes away once they approved these bytes", async () => {
    const approver = await createMember(a, "APPROVER");
    const release = await createReleaseRow({ applicationId: a.application.id, uploadedById: developer.id, status: "ACCEPTED" });
    const production = (await environmentsOf(a.application.id)).find((e) => e.isProduction)!;
    await db.approval.create({ data: { releaseId: release.id, environmentId: production.id, userId: approver.id, artifactSha256: release.artifactSha256 } });
    expect(hrefs(await listWorkItems(approver), "approve")).not.toContain(reviewHref(a.application.id, release.id));
  });

  it("candidates that are not yet accepted, and other tenants' releases, are not offered", async () => {
    const approver = await createMember(a, "APPROVER");
    const candidate = await createReleaseRow({ applicationId: a.application.id, uploadedById: developer.id, status: "CANDIDATE" });
    const developerOfB = await createMember(b, "DEVELOPER");
    const foreign = await createReleaseRow({ applicationId: b.application.id, uploadedById: developerOfB.id, status: "ACCEPTED" });
    const approve = hrefs(await listWorkItems(approver), "approve");
    expect(approve).not.toContain(reviewHref(a.application.id, candidate.id));
    expect(approve).not.toContain(reviewHref(b.application.id, foreign.id));
  });
});

/**
 * A release that passes production's gates: deployed to acceptance, accepted there by a customer on these bytes and
 * approved by an approver (the state the procedure leaves it in), status APPROVED.
 */
async function approvedRelease(tenant: Tenant, uploadedById: string) {
  const { release, acceptance } = await candidateInAcceptance(tenant, uploadedById);
  const production = (await environmentsOf(tenant.application.id)).find((e) => e.isProduction)!;
  const customer = await createMember(tenant, "CUSTOMER", { customerSide: true });
  const approver = await createMember(tenant, "APPROVER");
  await db.acceptanceVerdict.create({
    data: { releaseId: release.id, environmentId: acceptance.id, userId: customer.id, verdict: "ACCEPTED", artifactSha256: release.artifactSha256 },
  });
  await db.approval.create({ data: { releaseId: release.id, environmentId: production.id, userId: approver.id, artifactSha256: release.artifactSha256 } });
  return { release: await db.release.update({ where: { id: release.id }, data: { status: "APPROVED" } }), production };
}

describe("promote: for ops", () => {
  it("ops see a release that passes production's gates, customers and developers do not", async () => {
    const ops = await createMember(a, "OPS");
    const customer = await createMember(a, "CUSTOMER", { customerSide: true });
    const { release } = await approvedRelease(a, developer.id);
    const href = releaseHref(a.application.id, release.id);

    expect(kinds(await listWorkItems(ops), "promote").find((i) => i.href === href)).toEqual({
      kind: "promote",
      title: `Promote ${a.application.name} ${release.version} to production`,
      detail: "Accepted and approved: ready to roll out.",
      href,
    });
    expect((await listWorkItems(customer)).map((i) => i.href)).not.toContain(href);
    expect((await listWorkItems(developer)).map((i) => i.href)).not.toContain(href);
  });

  it("ops of another application do not see it", async () => {
    const opsOfB = await createMember(b, "OPS");
    const { release } = await approvedRelease(a, developer.id);
    expect(hrefs(await listWorkItems(opsOfB), "promote")).not.toContain(releaseHref(a.application.id, release.id));
  });

  it("a release whose gates do not pass is not offered, whatever its status says", async () => {
    const ops = await createMember(a, "OPS");
    // Marked approved, but never deployed to acceptance, accepted or approved on these bytes.
    const unfounded = await createReleaseRow({ applicationId: a.application.id, uploadedById: developer.id, status: "APPROVED" });
    // Accepted, but production still needs its approval.
    const { release: accepted } = await candidateInAcceptance(a, developer.id);
    await db.release.update({ where: { id: accepted.id }, data: { status: "ACCEPTED" } });
    const promote = hrefs(await listWorkItems(ops), "promote");
    expect(promote).not.toContain(releaseHref(a.application.id, unfounded.id));
    expect(promote).not.toContain(releaseHref(a.application.id, accepted.id));
  });

  it("an accepted release is ready when production needs no approvals; one being deployed is not offered again", async () => {
    const tenant = await createTenant();
    const dev = await createMember(tenant, "DEVELOPER");
    const ops = await createMember(tenant, "OPS");
    const production = (await environmentsOf(tenant.application.id)).find((e) => e.isProduction)!;
    await db.environment.update({ where: { id: production.id }, data: { requiredApprovals: 0 } });
    const { release, acceptance } = await candidateInAcceptance(tenant, dev.id);
    const customer = await createMember(tenant, "CUSTOMER", { customerSide: true });
    await db.acceptanceVerdict.create({ data: { releaseId: release.id, environmentId: acceptance.id, userId: customer.id, verdict: "ACCEPTED", artifactSha256: release.artifactSha256 } });
    await db.release.update({ where: { id: release.id }, data: { status: "ACCEPTED" } });
    const href = releaseHref(tenant.application.id, release.id);
    expect(kinds(await listWorkItems(ops), "promote").find((i) => i.href === href)?.detail).toBe("Accepted; Production needs no approvals: ready to roll out.");

    await createDeploymentRow({ releaseId: release.id, environmentId: production.id, status: "RUNNING" });
    expect(hrefs(await listWorkItems(ops), "promote")).not.toContain(href);
  });

  it("ops of several applications see every ready release of each, and only those", async () => {
    const [x, y] = [await createTenant(), await createTenant()];
    const ops = await createUserRow();
    for (const t of [x, y]) await grantRole(t.admin, { applicationId: t.application.id, userId: ops.id, role: "OPS" });
    const [devX, devY] = [await createMember(x, "DEVELOPER"), await createMember(y, "DEVELOPER")];
    const readyX = [(await approvedRelease(x, devX.id)).release, (await approvedRelease(x, devX.id)).release];
    const readyY = (await approvedRelease(y, devY.id)).release;
    // Accepted in Y but not approved yet; approved in X but on other bytes than the ones accepted.
    const { release: unapproved } = await candidateInAcceptance(y, devY.id);
    const customerY = await createMember(y, "CUSTOMER", { customerSide: true });
    const [, acceptanceY] = await environmentsOf(y.application.id);
    await db.acceptanceVerdict.create({ data: { releaseId: unapproved.id, environmentId: acceptanceY!.id, userId: customerY.id, verdict: "ACCEPTED", artifactSha256: unapproved.artifactSha256 } });
    await db.release.update({ where: { id: unapproved.id }, data: { status: "ACCEPTED" } });
    const { release: otherBytes } = await approvedRelease(x, devX.id);
    await db.release.update({ where: { id: otherBytes.id }, data: { artifactSha256: randomBytes(32).toString("hex") } });

    const promote = hrefs(await listWorkItems(await actorFor(ops.id)), "promote");
    expect(promote.sort()).toEqual(
      [...readyX.map((r) => releaseHref(x.application.id, r.id)), releaseHref(y.application.id, readyY.id)].sort(),
    );
  });

  it("during a freeze the item says until when and why", async () => {
    const tenant = await createTenant();
    const dev = await createMember(tenant, "DEVELOPER");
    const ops = await createMember(tenant, "OPS");
    const { release, production } = await approvedRelease(tenant, dev.id);
    const endsAt = new Date(Date.now() + 3 * 60 * 60_000);
    await db.freeze.create({ data: { environmentId: production.id, startsAt: new Date(Date.now() - 60_000), endsAt, reason: "Black Friday", createdById: ops.id } });
    const item = kinds(await listWorkItems(ops), "promote").find((i) => i.href === releaseHref(tenant.application.id, release.id));
    expect(item?.detail).toBe(
      `Ready, but Production is frozen until ${endsAt.toISOString().slice(0, 16).replace("T", " ")} UTC (Black Friday): deploying needs an override reason.`,
    );
  });
});

describe("against what production and acceptance run now", () => {
  /** Production runs `release` (a successful deployment that finished now), whatever the release's status says. */
  const runInProduction = async (releaseId: string, production: { id: string }) =>
    db.deployment.update({ where: { id: (await createDeploymentRow({ releaseId, environmentId: production.id })).id }, data: { finishedAt: new Date() } });

  it("ops are not asked to promote a release older than what production runs, nor the one that runs there", async () => {
    const tenant = await createTenant();
    const dev = await createMember(tenant, "DEVELOPER");
    const ops = await createMember(tenant, "OPS");
    const { release: older, production } = await approvedRelease(tenant, dev.id);
    const { release: running } = await approvedRelease(tenant, dev.id);
    const { release: newer } = await approvedRelease(tenant, dev.id);
    // Deployed while its environment was not yet marked production, so its status never followed: the item must
    // still read what production runs.
    await runInProduction(running.id, production);

    const promote = hrefs(await listWorkItems(ops), "promote");
    expect(promote).not.toContain(releaseHref(tenant.application.id, older.id));
    expect(promote).not.toContain(releaseHref(tenant.application.id, running.id));
    expect(promote).toEqual([releaseHref(tenant.application.id, newer.id)]);
  });

  it("approvers are not asked to approve a release older than what production runs", async () => {
    const tenant = await createTenant();
    const dev = await createMember(tenant, "DEVELOPER");
    const approver = await createMember(tenant, "APPROVER");
    const production = (await environmentsOf(tenant.application.id)).find((e) => e.isProduction)!;
    const older = await createReleaseRow({ applicationId: tenant.application.id, uploadedById: dev.id, status: "ACCEPTED" });
    const live = await createReleaseRow({ applicationId: tenant.application.id, uploadedById: dev.id, status: "RELEASED" });
    await runInProduction(live.id, production);
    const newer = await createReleaseRow({ applicationId: tenant.application.id, uploadedById: dev.id, status: "ACCEPTED" });

    expect(hrefs(await listWorkItems(approver), "approve")).toEqual([reviewHref(tenant.application.id, newer.id)]);
  });

  it("customers are asked to test only what acceptance runs now: a candidate replaced there is no longer theirs to test", async () => {
    const tenant = await createTenant();
    const dev = await createMember(tenant, "DEVELOPER");
    const customer = await createMember(tenant, "CUSTOMER", { customerSide: true });
    const first = await candidateInAcceptance(tenant, dev.id);
    await db.deployment.updateMany({ where: { releaseId: first.release.id }, data: { finishedAt: new Date(Date.now() - 60_000) } });
    const second = await candidateInAcceptance(tenant, dev.id);
    await db.deployment.updateMany({ where: { releaseId: second.release.id }, data: { finishedAt: new Date() } });

    expect(hrefs(await listWorkItems(customer), "accept")).toEqual([reviewHref(tenant.application.id, second.release.id)]);
  });
});

describe("fix: for developers", () => {
  /** A release of `tenant` rejected by a customer tester, uploaded by `uploader` (through `token`, if given). */
  async function rejected(tenant: Tenant, uploader: UserActor, token?: { id: string }) {
    const customer = await createMember(tenant, "CUSTOMER", { customerSide: true });
    const { release, acceptance } = await candidateInAcceptance(tenant, uploader.id);
    await db.release.update({ where: { id: release.id }, data: { status: "REJECTED", uploadedViaTokenId: token?.id ?? null } });
    await db.acceptanceVerdict.create({
      data: { releaseId: release.id, environmentId: acceptance.id, userId: customer.id, verdict: "REJECTED", reason: "Totals are wrong", artifactSha256: release.artifactSha256 },
    });
    return release;
  }

  it("every developer of the application sees a rejection, and whoever created the pipeline token that uploaded it", async () => {
    const tenant = await createTenant();
    const uploader = await createMember(tenant, "DEVELOPER");
    const colleague = await createMember(tenant, "DEVELOPER");
    // Ops created the pipeline's token (with the developer role): their pipeline's release was rejected.
    const tokenOwner = await createMember(tenant, "OPS");
    const token = await db.apiToken.create({
      data: { applicationId: tenant.application.id, name: "ci", prefix: "rgt_x", tokenHash: randomBytes(32).toString("hex"), roles: ["DEVELOPER"], createdById: tokenOwner.id },
    });
    const approver = await createMember(tenant, "APPROVER");
    const release = await rejected(tenant, uploader, token);
    const href = releaseHref(tenant.application.id, release.id);

    for (const person of [uploader, colleague, tokenOwner]) expect(hrefs(await listWorkItems(person), "fix"), person.name).toEqual([href]);
    expect(hrefs(await listWorkItems(approver), "fix")).toEqual([]);
  });

  it("the item is done once a newer release has been uploaded", async () => {
    const tenant = await createTenant();
    const dev = await createMember(tenant, "DEVELOPER");
    const release = await rejected(tenant, dev);
    expect(hrefs(await listWorkItems(dev), "fix")).toEqual([releaseHref(tenant.application.id, release.id)]);
    await createReleaseRow({ applicationId: tenant.application.id, uploadedById: dev.id });
    expect(hrefs(await listWorkItems(dev), "fix")).toEqual([]);
  });

  it("the developer who uploaded a rejected release sees it with the customer's reason", async () => {
    const customer = await createMember(a, "CUSTOMER", { customerSide: true });
    const colleague = await createMember(a, "DEVELOPER");
    const { release, acceptance } = await candidateInAcceptance(a, developer.id);
    await db.release.update({ where: { id: release.id }, data: { status: "REJECTED" } });
    await db.acceptanceVerdict.create({
      data: {
        releaseId: release.id,
        environmentId: acceptance.id,
        userId: customer.id,
        verdict: "REJECTED",
        reason: "Checkout button does nothing",
        artifactSha256: release.artifactSha256,
      },
    });
    const href = releaseHref(a.application.id, release.id);

    expect(kinds(await listWorkItems(developer), "fix").find((i) => i.href === href)).toEqual({
      kind: "fix",
      title: `${a.application.name} ${release.version} was rejected`,
      detail: `${customer.name}: “Checkout button does nothing”`,
      href,
    });
    // The application's other developers too: whoever picks the fix up.
    expect(hrefs(await listWorkItems(colleague), "fix")).toContain(href);
  });
});

describe("setup: for platform admins", () => {
  it("an admin sees customers without applications and applications without members", async () => {
    // Names that sort first, so the items are inside the list's limit however many other tests left behind.
    const admin = await createAdmin();
    const lonelyCustomer = await createCustomer(admin, { name: `0000 ${uniq("Lonely")}` });
    const hostCustomer = await createCustomer(admin, { name: `0000 ${uniq("Host")}` });
    const emptyApp = await createApplication(admin, { customerId: hostCustomer.id, name: `0000 ${uniq("Empty")}`, description: "" });

    const setup = kinds(await listWorkItems(admin), "setup");
    expect(setup).toContainEqual({
      kind: "setup",
      title: `Add an application for ${lonelyCustomer.name}`,
      detail: "This customer has no applications yet.",
      href: "/admin/customers",
    });
    expect(setup).toContainEqual({
      kind: "setup",
      title: `Give people roles on ${emptyApp.name}`,
      detail: `${hostCustomer.name}'s application has no members yet.`,
      href: `/apps/${emptyApp.id}/settings`,
    });
    expect(setup.map((i) => i.title)).not.toContain(`Add an application for ${hostCustomer.name}`);
  });

  it("setup items go away once done, and non-admins never see them", async () => {
    const admin = await createAdmin();
    const customer = await createCustomer(admin, { name: `0000 ${uniq("Soon")}` });
    const app = await createApplication(admin, { customerId: customer.id, name: `0000 ${uniq("Staffed")}`, description: "" });
    const member = await createMember({ admin, customer, application: app }, "OPS");

    const titles = kinds(await listWorkItems(admin), "setup").map((i) => i.title);
    expect(titles).not.toContain(`Add an application for ${customer.name}`);
    expect(titles).not.toContain(`Give people roles on ${app.name}`);
    expect(kinds(await listWorkItems(member), "setup")).toEqual([]);
  });
});

describe("people with nothing to act on", () => {
  it("a person without roles, and an auditor, have nothing to do even with work waiting", async () => {
    await candidateInAcceptance(a, developer.id);
    await createReleaseRow({ applicationId: a.application.id, uploadedById: developer.id, status: "APPROVED" });
    const nobody = await actorFor((await createUserRow()).id);
    const auditor = await createMember(a, "AUDITOR");
    expect(await listWorkItems(nobody)).toEqual([]);
    expect(await listWorkItems(auditor)).toEqual([]);
  });
});
