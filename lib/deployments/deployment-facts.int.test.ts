// The gates' facts for many releases at once (loadDeploymentFactsForReleases, behind the deploy form and the home
// page), against real PostgreSQL: each release gets exactly its own verdicts, approvals and previous-stage success,
// never a neighbour's, and the deploy form words each release's blockers as the server would refuse it.
import { beforeAll, describe, expect, it } from "vitest";
import { expectAppError } from "../../test/assertions";
import { createDeploymentRow, createMember, createReleaseRow, createTenant, environmentsOf, uniq } from "../../test/factories";
import type { UserActor } from "../auth/actor";
import { db } from "../db/client";
import { deploymentBlockers } from "../releases/policy";
import { deployOptions } from "./deploy-options";
import { loadDeploymentFactsForReleases } from "./load-deployment-facts-for-releases";
import { requestDeployment } from "./request-deployment";

type Tenant = Awaited<ReturnType<typeof createTenant>>;
type Env = Awaited<ReturnType<typeof environmentsOf>>[number];
type Release = Awaited<ReturnType<typeof createReleaseRow>>;

let a: Tenant;
let b: Tenant;
let dev: UserActor;
let ops: UserActor;
let customer: UserActor;
let approver: UserActor;
let qa: Env;
let acceptance: Env;
let production: Env;
const asked = (r: Release) => ({ id: r.id, version: r.version, status: r.status, sha256: r.artifactSha256, uploadedById: r.uploadedById });
const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000);

beforeAll(async () => {
  [a, b] = await Promise.all([createTenant(), createTenant()]);
  [dev, ops, customer, approver] = await Promise.all([
    createMember(a, "DEVELOPER"),
    createMember(a, "OPS"),
    createMember(a, "CUSTOMER", { customerSide: true }),
    createMember(a, "APPROVER"),
  ]);
  [qa, acceptance, production] = (await environmentsOf(a.application.id)) as [Env, Env, Env];
});

describe("loadDeploymentFactsForReleases", () => {
  it("gives every release its own verdicts, approvals and previous-stage success, as loaded for it alone", async () => {
    const [accepted, mixed, untouched, reverted] = await Promise.all([0, 1, 2, 3].map(() => createReleaseRow({ applicationId: a.application.id, uploadedById: dev.id, version: uniq("7.0") })));
    const otherBytes = "f".repeat(64);
    // accepted: in acceptance, accepted by the customer and approved for production, on its bytes.
    await createDeploymentRow({ releaseId: accepted!.id, environmentId: acceptance.id, status: "SUCCEEDED" });
    await db.acceptanceVerdict.create({ data: { releaseId: accepted!.id, environmentId: acceptance.id, userId: customer.id, verdict: "ACCEPTED", artifactSha256: accepted!.artifactSha256 } });
    await db.approval.create({ data: { releaseId: accepted!.id, environmentId: production.id, userId: approver.id, artifactSha256: accepted!.artifactSha256 } });
    // mixed: acceptance failed (QA succeeded); a rejection on other bytes, then an acceptance, oldest first; a
    // "verdict" by the developer, who is no customer member, does not count; an approval for another environment
    // is no approval for production.
    await createDeploymentRow({ releaseId: mixed!.id, environmentId: qa.id, status: "SUCCEEDED" });
    await createDeploymentRow({ releaseId: mixed!.id, environmentId: acceptance.id, status: "FAILED" });
    await db.acceptanceVerdict.create({ data: { releaseId: mixed!.id, environmentId: acceptance.id, userId: customer.id, verdict: "REJECTED", reason: "Totals are wrong", artifactSha256: otherBytes, createdAt: minutesAgo(20) } });
    await db.acceptanceVerdict.create({ data: { releaseId: mixed!.id, environmentId: acceptance.id, userId: customer.id, verdict: "ACCEPTED", artifactSha256: mixed!.artifactSha256, createdAt: minutesAgo(10) } });
    await db.acceptanceVerdict.create({ data: { releaseId: mixed!.id, environmentId: acceptance.id, userId: dev.id, verdict: "ACCEPTED", artifactSha256: mixed!.artifactSha256 } });
    await db.approval.create({ data: { releaseId: mixed!.id, environmentId: acceptance.id, userId: approver.id, artifactSha256: mixed!.artifactSha256 } });
    // reverted: it reached acceptance only by a revert, which is no successful deployment of it there.
    await db.deployment.create({ data: { releaseId: reverted!.id, environmentId: acceptance.id, kind: "REVERT", strategy: "ALL_AT_ONCE", status: "SUCCEEDED" } });
    // A freeze on production covers all of them; one on QA none.
    const endsAt = new Date(Date.now() + 3_600_000);
    await db.freeze.create({ data: { environmentId: production.id, startsAt: minutesAgo(1), endsAt, reason: "Sales weekend", createdById: ops.id } });
    await db.freeze.create({ data: { environmentId: qa.id, startsAt: minutesAgo(1), endsAt, reason: "QA rebuild", createdById: ops.id } });

    try {
      const facts = await loadDeploymentFactsForReleases(db, ops, { kind: "DEPLOY", environment: production, releases: [accepted!, mixed!, untouched!, reverted!].map(asked), freezeOverrideReason: null });
      expect([...facts.keys()]).toEqual([accepted!.id, mixed!.id, untouched!.id, reverted!.id]);
      const common = { kind: "DEPLOY", actorRoles: new Set(["OPS"]), previousEnvironment: { id: acceptance.id, name: "Acceptance" }, activeFreeze: { reason: "Sales weekend", endsAt }, freezeOverrideReason: null };
      expect(facts.get(accepted!.id)).toMatchObject({
        ...common,
        release: asked(accepted!),
        succeededInPreviousEnvironment: true,
        verdicts: [{ verdict: "ACCEPTED", artifactSha256: accepted!.artifactSha256, userId: customer.id, reason: "", userName: customer.name }],
        approvals: [{ artifactSha256: accepted!.artifactSha256, userId: approver.id, roles: new Set(["APPROVER"]) }],
      });
      expect(facts.get(mixed!.id)).toMatchObject({
        ...common,
        release: asked(mixed!),
        succeededInPreviousEnvironment: false,
        verdicts: [
          { verdict: "REJECTED", artifactSha256: otherBytes, userId: customer.id, reason: "Totals are wrong" },
          { verdict: "ACCEPTED", artifactSha256: mixed!.artifactSha256, userId: customer.id },
        ],
        approvals: [],
      });
      expect(facts.get(mixed!.id)!.verdicts).toHaveLength(2);
      for (const r of [untouched!, reverted!]) expect(facts.get(r.id)).toMatchObject({ ...common, release: asked(r), succeededInPreviousEnvironment: false, verdicts: [], approvals: [] });

      // What the gates make of them: only the accepted, approved one is held by nothing but the freeze.
      expect(deploymentBlockers(facts.get(accepted!.id)!).map((x) => x.code)).toEqual(["FROZEN"]);
      expect(deploymentBlockers(facts.get(mixed!.id)!).map((x) => x.code)).toEqual(["PREVIOUS_ENVIRONMENT", "APPROVALS", "FROZEN"]);
      expect(deploymentBlockers(facts.get(untouched!.id)!).map((x) => x.code)).toEqual(["PREVIOUS_ENVIRONMENT", "ACCEPTANCE", "APPROVALS", "FROZEN"]);
    } finally {
      await db.freeze.deleteMany({ where: { environmentId: { in: [production.id, qa.id] } } });
    }
  });

  it("the first environment has no previous stage, and another tenant's facts never join in", async () => {
    const mine = await createReleaseRow({ applicationId: a.application.id, uploadedById: dev.id, version: uniq("8.0") });
    const [bQa, bAcceptance] = await environmentsOf(b.application.id);
    const bCustomer = await createMember(b, "CUSTOMER", { customerSide: true });
    const theirs = await createReleaseRow({ applicationId: b.application.id, uploadedById: (await createMember(b, "DEVELOPER")).id, version: uniq("8.0") });
    await createDeploymentRow({ releaseId: theirs.id, environmentId: bQa!.id, status: "SUCCEEDED" });
    await db.acceptanceVerdict.create({ data: { releaseId: theirs.id, environmentId: bAcceptance!.id, userId: bCustomer.id, verdict: "ACCEPTED", artifactSha256: theirs.artifactSha256 } });

    const facts = await loadDeploymentFactsForReleases(db, dev, { kind: "DEPLOY", environment: qa, releases: [asked(mine)], freezeOverrideReason: null });
    expect(facts.get(mine.id)).toMatchObject({ previousEnvironment: null, succeededInPreviousEnvironment: false, verdicts: [], approvals: [], activeFreeze: null, actorRoles: new Set(["DEVELOPER"]) });
    expect(deploymentBlockers(facts.get(mine.id)!)).toEqual([]);
  });
});

describe("deployOptions with many releases", () => {
  it("words each release's own blockers, exactly as a request for it would be refused", async () => {
    const tenant = await createTenant();
    const [tDev, tOps, tCustomer, tApprover] = await Promise.all([
      createMember(tenant, "DEVELOPER"),
      createMember(tenant, "OPS"),
      createMember(tenant, "CUSTOMER", { customerSide: true }),
      createMember(tenant, "APPROVER"),
    ]);
    const [, tAcceptance, tProduction] = (await environmentsOf(tenant.application.id)) as [Env, Env, Env];
    // Twelve releases, oldest first; every third is accepted and approved, every other one has reached acceptance,
    // one is rejected and one withdrawn.
    const releases: Release[] = [];
    for (let i = 0; i < 12; i++) {
      const status = i === 4 ? "REJECTED" : i === 7 ? "WITHDRAWN" : i % 3 === 0 ? "APPROVED" : "CANDIDATE";
      const r = await db.release.update({ where: { id: (await createReleaseRow({ applicationId: tenant.application.id, uploadedById: tDev.id, version: `9.${i}.0` })).id }, data: { status, createdAt: minutesAgo(100 - i) } });
      releases.push(r);
      if (i % 2 === 0 || i % 3 === 0) await createDeploymentRow({ releaseId: r.id, environmentId: tAcceptance.id, status: "SUCCEEDED" });
      if (i % 3 === 0) {
        await db.acceptanceVerdict.create({ data: { releaseId: r.id, environmentId: tAcceptance.id, userId: tCustomer.id, verdict: "ACCEPTED", artifactSha256: r.artifactSha256 } });
        await db.approval.create({ data: { releaseId: r.id, environmentId: tProduction.id, userId: tApprover.id, artifactSha256: r.artifactSha256 } });
      }
      if (i === 4) await db.acceptanceVerdict.create({ data: { releaseId: r.id, environmentId: tAcceptance.id, userId: tCustomer.id, verdict: "REJECTED", reason: "Broken login", artifactSha256: r.artifactSha256 } });
    }

    const options = await deployOptions(tOps, { environmentId: tProduction.id, limit: 10 });
    // The newest ten that are not withdrawn, newest first.
    expect(options.releases.map((o) => o.version)).toEqual(["9.11.0", "9.10.0", "9.9.0", "9.8.0", "9.6.0", "9.5.0", "9.4.0", "9.3.0", "9.2.0", "9.1.0"]);
    expect(options.releases.filter((o) => o.selectable).map((o) => o.version)).toEqual(["9.9.0", "9.6.0", "9.3.0"]);
    expect(options.releases.find((o) => o.version === "9.4.0")!.blockers.map((x) => x.code)).toEqual(["REJECTED", "APPROVALS"]);
    expect(options.releases.find((o) => o.version === "9.11.0")!.blockers.map((x) => x.code)).toEqual(["PREVIOUS_ENVIRONMENT", "ACCEPTANCE", "APPROVALS"]);
    // The server's answer, for a production with an online server (so the refusal is the gates', not the fleet's).
    await db.target.create({ data: { environmentId: tProduction.id, name: "web-1", status: "ACTIVE", lastSeenAt: new Date() } });
    for (const option of options.releases.filter((o) => !o.selectable)) {
      const refusal = await expectAppError(requestDeployment(tOps, { environmentId: tProduction.id, releaseId: option.releaseId }), "PRECONDITION_FAILED");
      expect(refusal.message).toBe(option.blockers.map((x) => x.message).join(" "));
    }
  });
});
