// Customer verdicts, approvals and freezes against real PostgreSQL, on releases that really went through QA and
// Acceptance (test/release-flow.ts plays one agent per environment). Each refusal is checked to change nothing.
import { randomBytes } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { expectAppError } from "../../test/assertions";
import { actorFor, createMember, environmentsOf, testContext, uniq } from "../../test/factories";
import { deploy, driveToEnd, type Flow, releaseFlow, releaseInAcceptance, uploadRelease } from "../../test/release-flow";
import type { UserActor } from "../auth/actor";
import { db } from "../db/client";
import { deployOptions } from "../deployments/deploy-options";
import { requestDeployment } from "../deployments/request-deployment";
import { requestRevert } from "../deployments/request-revert";
import { grantRole } from "../memberships/grant-role";
import { settleBackgroundWork } from "../notifications/background";
import { approveRelease } from "./approve-release";
import { createFreeze } from "./create-freeze";
import { endFreeze } from "./end-freeze";
import { getReleaseDecisions } from "./get-release-decisions";
import { listFreezes } from "./list-freezes";
import { recordVerdict } from "./record-verdict";

/** The same person acting in a request of its own, so the audit events of that call can be found. */
const inRequest = (actor: UserActor) => ({ ...actor, ctx: testContext() });
const eventsOf = (actor: UserActor) => db.auditEvent.findMany({ where: { requestId: actor.ctx.requestId }, orderBy: { seq: "asc" } });
const statusOf = async (releaseId: string) => (await db.release.findUniqueOrThrow({ where: { id: releaseId } })).status;
const inbox = (userId: string) => db.notification.findMany({ where: { userId }, orderBy: { createdAt: "asc" } });

let flow: Flow;
let other: Flow;

beforeAll(async () => {
  [flow, other] = await Promise.all([releaseFlow(), releaseFlow()]);
});

describe("recordVerdict", () => {
  it("a customer accepts a release running in acceptance: bound to its SHA-256, audited, the uploader and approvers told", async () => {
    const { release } = await releaseInAcceptance(flow);
    const customer = inRequest(flow.customer);
    const { verdict } = await recordVerdict(customer, { releaseId: release.id, verdict: "ACCEPTED", artifactSha256: release.artifactSha256.toUpperCase() });

    expect(await statusOf(release.id)).toBe("ACCEPTED");
    expect(verdict).toMatchObject({ verdict: "ACCEPTED", userId: flow.customer.id, environmentId: flow.env.acceptance.id, artifactSha256: release.artifactSha256 });
    const [event, ...more] = await eventsOf(customer);
    expect(more).toEqual([]);
    expect(event).toMatchObject({
      type: "RELEASE_ACCEPTED",
      actorId: flow.customer.id,
      objectType: "AcceptanceVerdict",
      objectId: verdict.id,
      customerId: flow.tenant.customer.id,
      applicationId: flow.tenant.application.id,
      environmentId: flow.env.acceptance.id,
      releaseId: release.id,
      before: { status: "CANDIDATE" },
      after: { status: "ACCEPTED", verdict: "ACCEPTED", reason: "", artifactSha256: release.artifactSha256, version: release.version },
    });

    const review = `/apps/${flow.tenant.application.id}/releases/${release.id}/decide`;
    expect((await inbox(flow.dev.id)).filter((n) => n.kind === "release.accepted")).toEqual([
      expect.objectContaining({ title: `${flow.tenant.application.name} ${release.version} was accepted`, link: review, readAt: null }),
    ]);
    expect((await inbox(flow.approver.id)).filter((n) => n.kind === "release.accepted").map((n) => n.title)).toEqual([
      `Approve ${flow.tenant.application.name} ${release.version} for Production`,
    ]);
    // Ops are approvers of production too by default; the customer who acted is not told about their own verdict.
    expect((await inbox(flow.ops.id)).some((n) => n.kind === "release.accepted")).toBe(true);
    expect((await inbox(flow.customer.id)).some((n) => n.kind === "release.accepted")).toBe(false);
  });

  it("a rejection needs a reason; with one, the release is rejected and the uploader is told why", async () => {
    const { release } = await releaseInAcceptance(flow);
    const noReason = await expectAppError(recordVerdict(flow.customer, { releaseId: release.id, verdict: "REJECTED", reason: "  ", artifactSha256: release.artifactSha256 }), "INVALID_INPUT");
    expect(noReason.fieldErrors?.reason).toEqual(["Say what is wrong, so the developers can fix it."]);
    expect(await statusOf(release.id)).toBe("CANDIDATE");

    const rejecting = inRequest(flow.customer);
    const { verdict } = await recordVerdict(rejecting, { releaseId: release.id, verdict: "REJECTED", reason: "Checkout button does nothing", artifactSha256: release.artifactSha256 });
    expect(await statusOf(release.id)).toBe("REJECTED");
    expect((await eventsOf(rejecting)).map((e) => [e.type, e.objectId, e.releaseId, e.summary])).toEqual([
      ["RELEASE_REJECTED", verdict.id, release.id, `rejected ${flow.tenant.application.name} ${release.version} in Acceptance: Checkout button does nothing`],
    ]);
    const told = (await inbox(flow.dev.id)).find((n) => n.kind === "release.rejected" && n.title.includes(release.version));
    expect(told?.body).toBe(`${flow.customer.name} rejected it in Acceptance: “Checkout button does nothing”. Fix it and upload a new release candidate.`);
    // Rejected is final for these bytes: no later acceptance, and production refuses it.
    await expectAppError(
      recordVerdict(flow.customer, { releaseId: release.id, verdict: "ACCEPTED", artifactSha256: release.artifactSha256 }),
      "CONFLICT",
      `${release.version} was rejected by ${flow.customer.name}: Checkout button does nothing. Next: its developers upload a fixed release candidate.`,
    );
    await expectAppError(requestDeployment(flow.ops, { environmentId: flow.env.production.id, releaseId: release.id }), "PRECONDITION_FAILED", /was rejected by/);
  });

  it("the uploader is refused even holding the customer role, with the reason, and nothing changes", async () => {
    await grantRole(flow.tenant.admin, { applicationId: flow.tenant.application.id, userId: flow.dev.id, role: "CUSTOMER" });
    const devAsCustomer = inRequest(await actorFor(flow.dev.id));
    try {
      const { release } = await releaseInAcceptance(flow);
      for (const verdict of ["ACCEPTED", "REJECTED"] as const) {
        await expectAppError(
          recordVerdict(devAsCustomer, { releaseId: release.id, verdict, reason: "looks fine to me", artifactSha256: release.artifactSha256 }),
          "FORBIDDEN",
          `You uploaded ${release.version}, so you can neither accept nor approve it: another person must (separation of duties).`,
        );
      }
      expect(await statusOf(release.id)).toBe("CANDIDATE");
      expect(await db.acceptanceVerdict.count({ where: { releaseId: release.id } })).toBe(0);
      expect(await eventsOf(devAsCustomer)).toEqual([]);
    } finally {
      const m = await db.membership.findFirstOrThrow({ where: { userId: flow.dev.id, applicationId: flow.tenant.application.id, role: "CUSTOMER" } });
      await db.membership.delete({ where: { id: m.id } });
    }
  });

  it("a forged request from another tenant's customer is NOT_FOUND and changes nothing; a developer is FORBIDDEN", async () => {
    const { release } = await releaseInAcceptance(flow);
    const outsider = inRequest(other.customer);
    await expectAppError(recordVerdict(outsider, { releaseId: release.id, verdict: "ACCEPTED", artifactSha256: release.artifactSha256 }), "NOT_FOUND", "Release not found.");
    await expectAppError(recordVerdict(outsider, { releaseId: release.id, verdict: "REJECTED", reason: "x", artifactSha256: release.artifactSha256 }), "NOT_FOUND");
    await expectAppError(getReleaseDecisions(other.customer, release.id), "NOT_FOUND");
    const colleague = await createMember(flow.tenant, "DEVELOPER");
    await expectAppError(recordVerdict(colleague, { releaseId: release.id, verdict: "ACCEPTED", artifactSha256: release.artifactSha256 }), "FORBIDDEN");
    expect(await statusOf(release.id)).toBe("CANDIDATE");
    expect(await db.acceptanceVerdict.count({ where: { releaseId: release.id } })).toBe(0);
    expect(await eventsOf(outsider)).toEqual([]);
  });

  it("needs a successful deployment to acceptance, and the SHA-256 of the release", async () => {
    const release = await uploadRelease(flow);
    await deploy(flow, flow.dev, "qa", release.id);
    await expectAppError(
      recordVerdict(flow.customer, { releaseId: release.id, verdict: "ACCEPTED", artifactSha256: release.artifactSha256 }),
      "PRECONDITION_FAILED",
      `${release.version} has not been deployed successfully to Acceptance yet: it can be judged once it runs there.`,
    );
    await deploy(flow, flow.dev, "acceptance", release.id);
    await expectAppError(recordVerdict(flow.customer, { releaseId: release.id, verdict: "ACCEPTED", artifactSha256: randomBytes(32).toString("hex") }), "CONFLICT", /is not .*'s/);
    await expectAppError(recordVerdict(flow.customer, { releaseId: release.id, verdict: "ACCEPTED", artifactSha256: "abc" }), "INVALID_INPUT");
    expect(await statusOf(release.id)).toBe("CANDIDATE");
  });

  it("only what acceptance runs now can be accepted: a release replaced there, or reverted away from, is refused and the review page says why", async () => {
    const f = await releaseFlow();
    const { release: older } = await releaseInAcceptance(f);
    const { release: newer } = await releaseInAcceptance(f);
    const replaced = `${older.version} no longer runs in Acceptance (it runs ${newer.version} now): only the release running there can be accepted.`;
    await expectAppError(recordVerdict(f.customer, { releaseId: older.id, verdict: "ACCEPTED", artifactSha256: older.artifactSha256 }), "PRECONDITION_FAILED", replaced);
    expect(await statusOf(older.id)).toBe("CANDIDATE");
    expect(await db.acceptanceVerdict.count({ where: { releaseId: older.id } })).toBe(0);
    const review = await getReleaseDecisions(f.customer, older.id);
    expect(review.you).toMatchObject({ canAccept: false, why: [replaced] });
    expect(review.acceptance).toMatchObject({ runsThis: false, runs: newer.version });

    // Acceptance reverted to the older one: now it is the one to accept, and the newer one is not.
    const { deployment } = await requestRevert(f.ops, { environmentId: f.env.acceptance.id, reason: "Back to the previous build" });
    expect((await driveToEnd(f, "acceptance", deployment.id)).status).toBe("SUCCEEDED");
    await expectAppError(
      recordVerdict(f.customer, { releaseId: newer.id, verdict: "ACCEPTED", artifactSha256: newer.artifactSha256 }),
      "PRECONDITION_FAILED",
      `${newer.version} no longer runs in Acceptance (it runs ${older.version} now): only the release running there can be accepted.`,
    );
    expect((await getReleaseDecisions(f.customer, older.id)).you).toMatchObject({ canAccept: true, why: [] });
    await recordVerdict(f.customer, { releaseId: older.id, verdict: "ACCEPTED", artifactSha256: older.artifactSha256 });
    expect(await statusOf(older.id)).toBe("ACCEPTED");
    await settleBackgroundWork();
  });

  it("the same person sending the same verdict again (an answer lost on the way) gets the one recorded, not a second", async () => {
    const { release } = await releaseInAcceptance(flow);
    const first = await recordVerdict(flow.customer, { releaseId: release.id, verdict: "ACCEPTED", artifactSha256: release.artifactSha256 });
    const again = inRequest(flow.customer);
    const second = await recordVerdict(again, { releaseId: release.id, verdict: "ACCEPTED", artifactSha256: release.artifactSha256 });
    expect(second).toMatchObject({ repeated: true, verdict: { id: first.verdict.id }, release: { status: "ACCEPTED" } });
    expect(await db.acceptanceVerdict.count({ where: { releaseId: release.id } })).toBe(1);
    expect(await eventsOf(again)).toEqual([]);
    // Another customer is still told it was decided; a different verdict is a new decision.
    await expectAppError(recordVerdict(await createMember(flow.tenant, "CUSTOMER", { customerSide: true }), { releaseId: release.id, verdict: "ACCEPTED", artifactSha256: release.artifactSha256 }), "CONFLICT", /was already accepted by/);
  });

  it("two customers clicking at once: one verdict wins, the other is told, one event", async () => {
    const { release } = await releaseInAcceptance(flow);
    const second = await createMember(flow.tenant, "CUSTOMER", { customerSide: true });
    const results = await Promise.allSettled([
      recordVerdict(flow.customer, { releaseId: release.id, verdict: "ACCEPTED", artifactSha256: release.artifactSha256 }),
      recordVerdict(second, { releaseId: release.id, verdict: "ACCEPTED", artifactSha256: release.artifactSha256 }),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(["fulfilled", "rejected"]);
    const refused = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
    expect(refused.reason).toMatchObject({ code: "CONFLICT", message: expect.stringMatching(/was already accepted by/) });
    expect(await db.acceptanceVerdict.count({ where: { releaseId: release.id } })).toBe(1);
    expect(await db.auditEvent.count({ where: { releaseId: release.id, type: "RELEASE_ACCEPTED" } })).toBe(1);
  });

  it("a problem found after acceptance: a customer can still reject, which stops the promotion", async () => {
    const { release } = await releaseInAcceptance(flow);
    await recordVerdict(flow.customer, { releaseId: release.id, verdict: "ACCEPTED", artifactSha256: release.artifactSha256 });
    await approveRelease(flow.approver, { releaseId: release.id, artifactSha256: release.artifactSha256 });
    expect(await statusOf(release.id)).toBe("APPROVED");
    await recordVerdict(flow.customer, { releaseId: release.id, verdict: "REJECTED", reason: "Found a rounding bug in invoices", artifactSha256: release.artifactSha256 });
    expect(await statusOf(release.id)).toBe("REJECTED");
    await expectAppError(requestDeployment(flow.ops, { environmentId: flow.env.production.id, releaseId: release.id }), "PRECONDITION_FAILED", /rounding bug/);
  });
});

describe("approveRelease", () => {
  it("an approver approves an accepted release: bound to its SHA-256, audited, approved, ops asked to promote", async () => {
    const { release } = await releaseInAcceptance(flow);
    await expectAppError(approveRelease(flow.approver, { releaseId: release.id, artifactSha256: release.artifactSha256 }), "PRECONDITION_FAILED", `${release.version} needs a customer's acceptance first.`);
    await recordVerdict(flow.customer, { releaseId: release.id, verdict: "ACCEPTED", artifactSha256: release.artifactSha256 });

    const approver = inRequest(flow.approver);
    const outcome = await approveRelease(approver, { releaseId: release.id, artifactSha256: release.artifactSha256, comment: "Change board ok" });
    expect(outcome).toMatchObject({ approvals: 1, requiredApprovals: 1, releaseApproved: true });
    expect(outcome.approval).toMatchObject({ userId: flow.approver.id, environmentId: flow.env.production.id, artifactSha256: release.artifactSha256, comment: "Change board ok" });
    expect(await statusOf(release.id)).toBe("APPROVED");
    const [event, ...more] = await eventsOf(approver);
    expect(more).toEqual([]);
    expect(event).toMatchObject({
      type: "RELEASE_APPROVED",
      actorId: flow.approver.id,
      objectType: "Approval",
      objectId: outcome.approval.id,
      environmentId: flow.env.production.id,
      releaseId: release.id,
      before: { status: "ACCEPTED" },
      after: { status: "APPROVED", approvals: 1, requiredApprovals: 1, artifactSha256: release.artifactSha256 },
    });
    expect((await inbox(flow.ops.id)).filter((n) => n.kind === "release.approved").map((n) => n.title)).toContain(
      `Promote ${flow.tenant.application.name} ${release.version} to Production`,
    );
    expect((await inbox(flow.dev.id)).filter((n) => n.kind === "release.approved").map((n) => n.body)).toContain("It is approved for Production.");

    await expectAppError(approveRelease(flow.ops, { releaseId: release.id, artifactSha256: release.artifactSha256 }), "CONFLICT", `${release.version} is already accepted and approved.`);
  });

  it("counts only approvals of these bytes, one per person, by the environment's approver roles; two at once both count", async () => {
    const f = await releaseFlow();
    await db.environment.update({ where: { id: f.env.production.id }, data: { requiredApprovals: 3 } });
    const { release } = await releaseInAcceptance(f);
    await recordVerdict(f.customer, { releaseId: release.id, verdict: "ACCEPTED", artifactSha256: release.artifactSha256 });
    // An approval given to an earlier build under this release id would not count (policy: bound to the SHA-256).
    const earlier = await createMember(f.tenant, "APPROVER");
    await db.approval.create({ data: { releaseId: release.id, environmentId: f.env.production.id, userId: earlier.id, artifactSha256: randomBytes(32).toString("hex") } });

    const first = await approveRelease(f.approver, { releaseId: release.id, artifactSha256: release.artifactSha256 });
    expect(first.releaseApproved).toBe(false);
    expect(await statusOf(release.id)).toBe("ACCEPTED");
    // Sent again (an answer lost on the way): the approval already given, not a second one, and no new event.
    const again = inRequest(f.approver);
    expect(await approveRelease(again, { releaseId: release.id, artifactSha256: release.artifactSha256 })).toMatchObject({ repeated: true, approval: { id: first.approval.id }, approvals: 1 });
    expect(await eventsOf(again)).toEqual([]);
    expect(await db.approval.count({ where: { releaseId: release.id } })).toBe(2);

    // The second and third approvals at the same moment: the release lock makes the later one see the earlier, so
    // together they reach the three required (each alone counting two would leave the release unapproved).
    const third = await createMember(f.tenant, "APPROVER");
    const both = await Promise.all([
      approveRelease(f.ops, { releaseId: release.id, artifactSha256: release.artifactSha256 }),
      approveRelease(third, { releaseId: release.id, artifactSha256: release.artifactSha256 }),
    ]);
    expect(both.map((o) => o.releaseApproved).sort()).toEqual([false, true]);
    expect(await statusOf(release.id)).toBe("APPROVED");
  });

  it("the uploader is refused even as an approver; the environment's approverRoles decide; another tenant gets NOT_FOUND", async () => {
    const f = await releaseFlow();
    await grantRole(f.tenant.admin, { applicationId: f.tenant.application.id, userId: f.dev.id, role: "APPROVER" });
    const { release } = await releaseInAcceptance(f);
    await recordVerdict(f.customer, { releaseId: release.id, verdict: "ACCEPTED", artifactSha256: release.artifactSha256 });
    const devAsApprover = inRequest(await actorFor(f.dev.id));
    await expectAppError(approveRelease(devAsApprover, { releaseId: release.id, artifactSha256: release.artifactSha256 }), "FORBIDDEN", /^You uploaded .*\(separation of duties\)\.$/);
    expect(await eventsOf(devAsApprover)).toEqual([]);

    await db.environment.update({ where: { id: f.env.production.id }, data: { approverRoles: ["APPROVER"] } });
    await expectAppError(approveRelease(f.ops, { releaseId: release.id, artifactSha256: release.artifactSha256 }), "FORBIDDEN", "Only approvers may approve releases for Production.");
    await expectAppError(approveRelease(f.customer, { releaseId: release.id, artifactSha256: release.artifactSha256 }), "FORBIDDEN", "You are not allowed to do that.");
    await expectAppError(approveRelease(other.approver, { releaseId: release.id, artifactSha256: release.artifactSha256 }), "NOT_FOUND");
    await expectAppError(approveRelease(f.approver, { releaseId: release.id, artifactSha256: randomBytes(32).toString("hex") }), "CONFLICT");
    expect(await db.approval.count({ where: { releaseId: release.id } })).toBe(0);
    expect(await statusOf(release.id)).toBe("ACCEPTED");
  });
});

describe("when nobody can approve", () => {
  it("the uploader is the only approver: the review page and the deploy panel say an administrator must grant the role", async () => {
    const f = await releaseFlow();
    await db.environment.update({ where: { id: f.env.production.id }, data: { approverRoles: ["APPROVER"] } });
    await grantRole(f.tenant.admin, { applicationId: f.tenant.application.id, userId: f.dev.id, role: "APPROVER" });
    await db.membership.deleteMany({ where: { applicationId: f.tenant.application.id, userId: f.approver.id } });
    const { release } = await releaseInAcceptance(f);
    await recordVerdict(f.customer, { releaseId: release.id, verdict: "ACCEPTED", artifactSha256: release.artifactSha256 });
    const why = "Nobody else holds the Approver role on this application: an administrator must grant it.";

    expect((await getReleaseDecisions(f.customer, release.id)).approvalGate).toMatchObject({ requiredApprovals: 1, approvals: 0, lacking: why });
    const production = await deployOptions(f.ops, { environmentId: f.env.production.id });
    expect(production.releases.find((r) => r.releaseId === release.id)?.blockers.map((b) => b.message)).toEqual([
      `${release.version} has 0 of 1 required approval for Production. ${why}`,
    ]);

    // Once someone else holds it, the wait is an ordinary one again.
    await grantRole(f.tenant.admin, { applicationId: f.tenant.application.id, userId: f.approver.id, role: "APPROVER" });
    expect((await getReleaseDecisions(f.customer, release.id)).approvalGate?.lacking).toBeNull();
  });
});

describe("freezes", () => {
  it("ops freeze an environment; a deployment is refused during it unless ops override with a reason; lifting it ends that", async () => {
    const f = await releaseFlow();
    // The whole procedure first, so only the freeze stands between the release and production.
    const { release } = await releaseInAcceptance(f);
    await recordVerdict(f.customer, { releaseId: release.id, verdict: "ACCEPTED", artifactSha256: release.artifactSha256 });
    await approveRelease(f.approver, { releaseId: release.id, artifactSha256: release.artifactSha256 });

    const ops = inRequest(f.ops);
    const endsAt = new Date(Date.now() + 2 * 60 * 60_000);
    const freeze = await createFreeze(ops, { environmentId: f.env.production.id, endsAt: endsAt.toISOString(), reason: "Black Friday sales" });
    const [created, ...more] = await eventsOf(ops);
    expect(more).toEqual([]);
    expect(created).toMatchObject({ type: "FREEZE_CREATED", objectId: freeze.id, environmentId: f.env.production.id, after: { endsAt: endsAt.toISOString(), reason: "Black Friday sales" } });

    await expectAppError(
      requestDeployment(f.ops, { environmentId: f.env.production.id, releaseId: release.id }),
      "PRECONDITION_FAILED",
      `Production is frozen until ${endsAt.toISOString().slice(0, 16).replace("T", " ")} UTC (Black Friday sales). Ops may override with a reason.`,
    );
    expect(await db.deployment.count({ where: { releaseId: release.id, environmentId: f.env.production.id } })).toBe(0);

    const through = await deploy(f, f.ops, "production", release.id, { freezeOverrideReason: "Payment outage fix, approved by the CTO" });
    expect(through).toMatchObject({ status: "SUCCEEDED", freezeOverrideReason: "Payment outage fix, approved by the CTO" });
    expect(await statusOf(release.id)).toBe("RELEASED");

    const lift = inRequest(f.ops);
    await endFreeze(lift, { freezeId: freeze.id });
    const [ended, ...andMore] = await eventsOf(lift);
    expect(andMore).toEqual([]);
    expect(ended).toMatchObject({ type: "FREEZE_ENDED", objectId: freeze.id, before: { endsAt: endsAt.toISOString() } });
    await expectAppError(endFreeze(f.ops, { freezeId: freeze.id }), "CONFLICT", "The freeze of Production is already over.");
    const [, , production] = await listFreezes(f.ops, f.tenant.application.id);
    expect(production?.freezes.map((x) => [x.id, x.state])).toEqual([[freeze.id, "over"]]);

    // Without the freeze, the next release needs no override.
    const next = await releaseInAcceptance(f);
    await recordVerdict(f.customer, { releaseId: next.release.id, verdict: "ACCEPTED", artifactSha256: next.release.artifactSha256 });
    await approveRelease(f.approver, { releaseId: next.release.id, artifactSha256: next.release.artifactSha256 });
    expect((await deploy(f, f.ops, "production", next.release.id)).status).toBe("SUCCEEDED");
    await settleBackgroundWork();
  });

  it("a planned freeze does not block yet; calling it off keeps it as history", async () => {
    const ops = inRequest(flow.ops);
    const startsAt = new Date(Date.now() + 24 * 60 * 60_000);
    const planned = await createFreeze(ops, { environmentId: flow.env.qa.id, startsAt: startsAt.toISOString(), endsAt: new Date(startsAt.getTime() + 3_600_000).toISOString(), reason: uniq("Migration weekend") });
    const [qa] = await listFreezes(flow.ops, flow.tenant.application.id, { environmentId: flow.env.qa.id });
    expect(qa?.freezes.find((x) => x.id === planned.id)?.state).toBe("planned");
    const release = await uploadRelease(flow);
    expect((await deploy(flow, flow.dev, "qa", release.id)).status).toBe("SUCCEEDED");
    await endFreeze(flow.ops, { freezeId: planned.id });
    const row = await db.freeze.findUniqueOrThrow({ where: { id: planned.id } });
    expect(row.endsAt).toEqual(row.startsAt);
  });

  it("only ops of the application manage freezes; input is checked", async () => {
    const envId = flow.env.production.id;
    const endsAt = new Date(Date.now() + 3_600_000).toISOString();
    await expectAppError(createFreeze(flow.dev, { environmentId: envId, endsAt, reason: "x" }), "FORBIDDEN");
    await expectAppError(createFreeze(flow.tenant.admin, { environmentId: envId, endsAt, reason: "x" }), "FORBIDDEN");
    await expectAppError(createFreeze(other.ops, { environmentId: envId, endsAt, reason: "x" }), "NOT_FOUND", "Environment not found.");
    const past = await expectAppError(createFreeze(flow.ops, { environmentId: envId, endsAt: new Date(Date.now() - 1000).toISOString(), reason: "x" }), "INVALID_INPUT");
    expect(past.fieldErrors?.endsAt).toEqual(["The end must be in the future."]);
    const noReason = await expectAppError(createFreeze(flow.ops, { environmentId: envId, endsAt, reason: " " }), "INVALID_INPUT");
    expect(noReason.fieldErrors?.reason?.[0]).toMatch(/^Say why/);
    // A year JavaScript dates reach and PostgreSQL's timestamp does not (it failed in the insert: 500).
    const ancient = await expectAppError(createFreeze(flow.ops, { environmentId: envId, startsAt: "-100000-01-01T00:00:00Z", endsAt, reason: "x" }), "INVALID_INPUT");
    expect(ancient.fieldErrors?.startsAt).toEqual(["Enter a valid start time."]);
    const freeze = await createFreeze(flow.ops, { environmentId: envId, endsAt, reason: "Audit week" });
    await expectAppError(endFreeze(other.ops, { freezeId: freeze.id }), "NOT_FOUND");
    await expectAppError(endFreeze(flow.dev, { freezeId: freeze.id }), "FORBIDDEN");
    expect((await db.freeze.findUniqueOrThrow({ where: { id: freeze.id } })).endsAt.toISOString()).toBe(endsAt);
    await endFreeze(flow.ops, { freezeId: freeze.id });
  });
});

describe("getReleaseDecisions", () => {
  it("shows each person what they may do, why not, and what changed since production", async () => {
    const f = await releaseFlow();
    const envs = await environmentsOf(f.tenant.application.id);
    expect(envs.map((e) => e.name)).toEqual(["QA", "Acceptance", "Production"]);
    // 1.0 goes all the way to production; 1.1 is skipped; 1.2 is in acceptance.
    const first = await releaseInAcceptance(f);
    await recordVerdict(f.customer, { releaseId: first.release.id, verdict: "ACCEPTED", artifactSha256: first.release.artifactSha256 });
    await approveRelease(f.approver, { releaseId: first.release.id, artifactSha256: first.release.artifactSha256 });
    await deploy(f, f.ops, "production", first.release.id);
    const skipped = await uploadRelease(f);
    await db.release.update({ where: { id: skipped.id }, data: { notes: "## Faster search\n\nDetails" } });
    const { release } = await releaseInAcceptance(f);

    const forCustomer = await getReleaseDecisions(f.customer, release.id);
    expect(forCustomer.you).toEqual({ isUploader: false, canAccept: true, canReject: true, canApprove: false, approved: null, why: [] });
    expect(forCustomer.acceptance).toEqual({ id: f.env.acceptance.id, name: "Acceptance", url: "https://acceptance.shop.example.test", deployed: true, runsThis: true, runs: release.version });
    expect(forCustomer.production?.live?.version).toBe(first.release.version);
    expect(forCustomer.changes.map((c) => [c.version, c.title, c.isThis])).toEqual([
      [release.version, "", true],
      [skipped.version, "Faster search", false],
    ]);

    const forUploader = await getReleaseDecisions(f.dev, release.id);
    expect(forUploader.you).toMatchObject({ isUploader: true, canAccept: false, canReject: false, canApprove: false });
    expect(forUploader.you.why).toEqual([`You uploaded ${release.version}, so you can neither accept nor approve it: another person must (separation of duties).`]);

    const forApprover = await getReleaseDecisions(f.approver, release.id);
    expect(forApprover.you).toMatchObject({ canApprove: false, why: [`${release.version} needs a customer's acceptance first.`] });
    await recordVerdict(f.customer, { releaseId: release.id, verdict: "ACCEPTED", artifactSha256: release.artifactSha256, reason: "Checkout works on mobile" });
    expect((await getReleaseDecisions(f.approver, release.id)).you).toMatchObject({ canApprove: true, why: [] });
    const after = await getReleaseDecisions(f.customer, release.id);
    // The verdict given, by whom, when and why, instead of a reason why there is no Accept button; a rejection
    // stays possible (a problem found since), as a second thought, not a form beside the verdict.
    expect(after.you).toMatchObject({ canAccept: false, canReject: true, why: [] });
    expect(after.decided).toEqual({ verdict: "ACCEPTED", by: f.customer.name, byYou: true, at: expect.any(Date), environment: "Acceptance", reason: "Checkout works on mobile" });
    expect((await getReleaseDecisions(f.dev, release.id)).decided).toMatchObject({ verdict: "ACCEPTED", byYou: false });
    expect(after.verdicts).toEqual([expect.objectContaining({ verdict: "ACCEPTED", by: f.customer.name, sha256: release.artifactSha256, onThisBuild: true })]);

    // The approver, once they approved: what they did, not a warning that it is "already approved".
    await approveRelease(f.approver, { releaseId: release.id, artifactSha256: release.artifactSha256, comment: "CAB-42" });
    const approved = await getReleaseDecisions(f.approver, release.id);
    expect(approved.you).toMatchObject({ canApprove: false, why: [], approved: { at: expect.any(Date), comment: "CAB-42" } });
    const otherApprover = await getReleaseDecisions(f.ops, release.id);
    expect(otherApprover.you).toMatchObject({ canApprove: false, why: [], approved: null });
    await settleBackgroundWork();
  });
});
