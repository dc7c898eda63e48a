// Who is told what, in the in-app inbox, as a release goes through the procedure with real deployments (agents
// played through the agent-facing domain functions), and the inbox itself. SMTP_URL is unset here, so emails are
// logged instead (email.int.test.ts sends them to a real SMTP server).
import { randomBytes } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { expectAppError } from "../../test/assertions";
import { createMember, testContext } from "../../test/factories";
import { deploy, driveToEnd, type Flow, releaseFlow, releaseInAcceptance, uploadRelease } from "../../test/release-flow";
import { tryClaim } from "../agents/claim-job";
import { authenticateApiToken } from "../api-tokens/authenticate-api-token";
import { createApiToken, ZCreateApiTokenRequestSchema } from "../api-tokens/create-api-token";
import { reportStep } from "../agents/report-step";
import { approveRelease } from "../approvals/approve-release";
import { recordVerdict } from "../approvals/record-verdict";
import { db } from "../db/client";
import { cancelDeployment } from "../deployments/cancel-deployment";
import { requestDeployment } from "../deployments/request-deployment";
import { requestRevert } from "../deployments/request-revert";
import { setUserStatus } from "../users/set-user-status";
import { settleBackgroundWork } from "./background";
import { countUnreadNotifications, listNotifications } from "./list-notifications";
import { markNotificationsRead } from "./mark-notifications-read";
import { catchUpDeploymentNotifications } from "./notification-timer";
import { onDeploymentFinished } from "./on-deployment-finished";
import { sendEmail } from "./send-email";

const of = async (userId: string, kind?: string) =>
  (await db.notification.findMany({ where: { userId, ...(kind ? { kind } : {}) }, orderBy: { createdAt: "asc" } })).map((n) => ({ kind: n.kind, title: n.title, body: n.body, link: n.link }));

let flow: Flow;

beforeAll(async () => {
  flow = await releaseFlow();
});

describe("through the procedure", () => {
  it("each step tells the people who act next, once, and not the person who acted", async () => {
    const f = flow;
    const app = f.tenant.application;
    const secondOps = await createMember(f.tenant, "OPS");
    const { release, deployment } = await releaseInAcceptance(f);
    // The engine's call after each commit, repeated as it may be: still one notification each.
    for (const d of await db.deployment.findMany({ where: { releaseId: release.id } })) {
      await onDeploymentFinished(d.id);
      await onDeploymentFinished(d.id);
    }
    const review = `/apps/${app.id}/releases/${release.id}/decide`;

    // Ready for acceptance: the customer tester, with where to test.
    expect(await of(f.customer.id)).toEqual([
      {
        kind: "release.ready_for_acceptance",
        title: `Test ${app.name} ${release.version}`,
        body: "It runs in Acceptance at https://acceptance.shop.example.test: test it, then accept it or reject it with a reason.",
        link: `${review}?deployment=${deployment.id}`,
      },
    ]);
    // The developer who deployed is not told of their own deployments: they started them, and they went as asked.
    expect(await of(f.dev.id)).toEqual([]);
    // Test environments do not concern ops or approvers.
    expect(await of(f.ops.id)).toEqual([]);
    expect(await of(f.approver.id)).toEqual([]);

    await recordVerdict(f.customer, { releaseId: release.id, verdict: "ACCEPTED", artifactSha256: release.artifactSha256 });
    expect((await of(f.approver.id)).map((n) => n.title)).toEqual([`Approve ${app.name} ${release.version} for Production`]);
    expect((await of(f.dev.id, "release.accepted")).map((n) => n.title)).toEqual([`${app.name} ${release.version} was accepted`]);
    expect(await of(f.customer.id, "release.accepted")).toEqual([]);

    await approveRelease(f.approver, { releaseId: release.id, artifactSha256: release.artifactSha256 });
    expect((await of(f.ops.id, "release.approved")).map((n) => [n.title, n.link])).toEqual([[`Promote ${app.name} ${release.version} to Production`, `/apps/${app.id}`]]);
    expect((await of(f.dev.id, "release.approved")).map((n) => n.title)).toEqual([`${app.name} ${release.version} was approved by ${f.approver.name}`]);
    expect(await of(f.approver.id, "release.approved")).toEqual([]);

    // Production concerns every ops member; the one who promoted is not told of their own promotion.
    const promoted = await deploy(f, f.ops, "production", release.id, { reason: "Weekly release" });
    await onDeploymentFinished(promoted.id);
    await onDeploymentFinished(promoted.id);
    const link = `/deployments/${promoted.id}`;
    const started = { kind: "deployment.started", title: `Deployment of ${app.name} ${release.version} to Production started`, body: `Started by ${f.ops.name}: Weekly release`, link };
    const succeeded = { kind: "deployment.succeeded", title: `${app.name} ${release.version} is live in Production`, body: `Requested by ${f.ops.name}: Weekly release`, link };
    expect((await of(secondOps.id)).filter((n) => n.link === link)).toEqual([started, succeeded]);
    expect((await of(f.ops.id)).filter((n) => n.link === link)).toEqual([]);
    expect((await of(f.dev.id)).filter((n) => n.link === link)).toEqual([started, succeeded]);
    expect((await of(f.customer.id)).filter((n) => n.link === link)).toEqual([]);
    // Once released, it is no longer waiting for the customer's test: nothing new for them.
    expect((await of(f.customer.id)).map((n) => n.kind)).toEqual(["release.ready_for_acceptance"]);
    await settleBackgroundWork();
  });

  it("a revert tells ops and the developer whose release was taken out, not the person who reverted", async () => {
    const f = await releaseFlow();
    const app = f.tenant.application;
    const ship = async () => {
      const { release } = await releaseInAcceptance(f);
      await recordVerdict(f.customer, { releaseId: release.id, verdict: "ACCEPTED", artifactSha256: release.artifactSha256 });
      await approveRelease(f.approver, { releaseId: release.id, artifactSha256: release.artifactSha256 });
      await deploy(f, f.ops, "production", release.id);
      return release;
    };
    const v1 = await ship();
    const v2 = await ship();
    const otherOps = await createMember(f.tenant, "OPS");
    const { deployment } = await requestRevert(f.ops, { environmentId: f.env.production.id, reason: "Checkout errors after 2.0" });
    const done = await driveToEnd(f, "production", deployment.id);
    expect(done.status).toBe("SUCCEEDED");
    await onDeploymentFinished(done.id);
    const reverted = {
      kind: "deployment.reverted",
      title: `${app.name} / Production was reverted to ${v1.version}`,
      body: `${v2.version} was taken out by ${f.ops.name}: Checkout errors after 2.0`,
      link: `/deployments/${done.id}`,
    };
    expect(await of(otherOps.id, "deployment.reverted")).toEqual([reverted]);
    expect(await of(f.ops.id, "deployment.reverted")).toEqual([]);
    expect(await of(f.dev.id, "deployment.reverted")).toEqual([reverted]);
    expect(await of(f.customer.id, "deployment.reverted")).toEqual([]);
  });

  it("a deployment a person asked for is news to them when it ran without them: through their pipeline's token, or at a scheduled time", async () => {
    const f = await releaseFlow();
    const app = f.tenant.application;
    const { plaintext } = await createApiToken(f.dev, ZCreateApiTokenRequestSchema.parse({ applicationId: app.id, name: "ci", roles: ["DEVELOPER"] }));
    const pipeline = await authenticateApiToken(`Bearer ${plaintext}`, testContext());
    const release = await uploadRelease(f);
    const { deployment } = await requestDeployment(pipeline, { environmentId: f.env.qa.id, releaseId: release.id });
    expect((await driveToEnd(f, "qa", deployment.id)).status).toBe("SUCCEEDED");
    await onDeploymentFinished(deployment.id);
    expect((await of(f.dev.id, "deployment.succeeded")).map((n) => n.title)).toEqual([`${app.name} ${release.version} is live in QA`]);

    // By the developer themselves: nothing. Had they scheduled it (it started later, without them): told how it ended.
    const own = await deploy(f, f.dev, "acceptance", release.id);
    await onDeploymentFinished(own.id);
    expect(await of(f.dev.id, "deployment.succeeded")).toHaveLength(1);
    await db.deployment.update({ where: { id: own.id }, data: { scheduledFor: own.createdAt } });
    await onDeploymentFinished(own.id);
    expect((await of(f.dev.id, "deployment.succeeded")).map((n) => n.title)).toEqual([`${app.name} ${release.version} is live in QA`, `${app.name} ${release.version} is live in Acceptance`]);
  });

  it("a deployment someone else cancelled is news to the person who started it; the one who cancelled is not told", async () => {
    const f = await releaseFlow();
    const release = await uploadRelease(f);
    const { deployment } = await requestDeployment(f.dev, { environmentId: f.env.qa.id, releaseId: release.id });
    await cancelDeployment(f.ops, { deploymentId: deployment.id });
    expect((await driveToEnd(f, "qa", deployment.id)).status).toBe("CANCELLED");
    await onDeploymentFinished(deployment.id);
    expect((await of(f.dev.id, "deployment.cancelled")).map((n) => n.title)).toEqual([`Deployment of ${f.tenant.application.name} ${release.version} to QA was cancelled`]);
    expect(await of(f.ops.id, "deployment.cancelled")).toEqual([]);
  });

  it("a failed deployment tells the developer why; the notification timer catches up on deployments nobody reported", async () => {
    const f = await releaseFlow();
    const release = await uploadRelease(f);
    const { deployment } = await requestDeployment(f.dev, { environmentId: f.env.qa.id, releaseId: release.id });
    const job = (await tryClaim(f.agents.qa))!;
    await reportStep(f.agents.qa, job.stepId, { leaseId: job.leaseId, status: "FAILED", message: "checksum mismatch" });
    const failed = await driveToEnd(f, "qa", deployment.id);
    expect(failed.status).toBe("FAILED");
    // Nobody called onDeploymentFinished: the sweep finds the deployment through its audit record.
    expect(await catchUpDeploymentNotifications()).toBeGreaterThanOrEqual(1);
    expect(await of(f.dev.id, "deployment.failed")).toEqual([
      { kind: "deployment.failed", title: `Deployment of ${f.tenant.application.name} ${release.version} to QA failed`, body: failed.failureReason, link: `/deployments/${deployment.id}` },
    ]);
    await catchUpDeploymentNotifications();
    expect(await of(f.dev.id, "deployment.failed")).toHaveLength(1);
  });

  it("disabled people are not notified", async () => {
    const f = await releaseFlow();
    await setUserStatus(f.tenant.admin, { userId: f.customer.id, status: "DISABLED" });
    const { deployment } = await releaseInAcceptance(f);
    await onDeploymentFinished(deployment.id);
    expect(await of(f.customer.id)).toEqual([]);
  });
});

describe("rejections reach the people who work on the release", () => {
  it("the uploader, every developer of the application and the pipeline token's creator; not the customer who rejected, not ops", async () => {
    const f = await releaseFlow();
    const app = f.tenant.application;
    const colleague = await createMember(f.tenant, "DEVELOPER");
    const otherCustomer = await createMember(f.tenant, "CUSTOMER", { customerSide: true });
    const { release } = await releaseInAcceptance(f);
    // Uploaded by the developer's pipeline: the token the developer created.
    const token = await db.apiToken.create({
      data: { applicationId: app.id, name: "ci", prefix: "rgt_test", tokenHash: randomBytes(32).toString("hex"), roles: ["DEVELOPER"], createdById: f.dev.id },
    });
    await db.release.update({ where: { id: release.id }, data: { uploadedViaTokenId: token.id } });
    await recordVerdict(f.customer, { releaseId: release.id, verdict: "REJECTED", reason: "Totals are wrong", artifactSha256: release.artifactSha256 });

    const told = { kind: "release.rejected", title: `${app.name} ${release.version} was rejected`, body: `${f.customer.name} rejected it in Acceptance: “Totals are wrong”. Fix it and upload a new release candidate.`, link: `/apps/${app.id}/releases/${release.id}/decide` };
    expect(await of(f.dev.id, "release.rejected")).toEqual([told]);
    expect(await of(colleague.id, "release.rejected")).toEqual([told]);
    for (const person of [f.customer, otherCustomer, f.ops, f.approver]) expect(await of(person.id, "release.rejected"), person.name).toEqual([]);
  });
});

describe("what the inbox asks of whom, and when it is no longer needed", () => {
  /** The actor's inbox as they read it: title, and whether (and why) what it asked is done or moot. */
  const inbox = async (actor: Flow["dev"]) => (await listNotifications(actor)).map((n) => ({ title: n.title, resolved: n.resolved }));
  const asked = async (actor: Flow["dev"], title: string) => (await inbox(actor)).find((n) => n.title === title);

  it("test, approve, promote: each resolves itself once done, and stops counting as unread", async () => {
    const f = await releaseFlow();
    const app = f.tenant.application;
    const otherCustomer = await createMember(f.tenant, "CUSTOMER", { customerSide: true });
    const { release, deployment } = await releaseInAcceptance(f);
    await onDeploymentFinished(deployment.id);
    const test = `Test ${app.name} ${release.version}`;
    expect(await asked(otherCustomer, test)).toEqual({ title: test, resolved: null });
    expect(await countUnreadNotifications(otherCustomer)).toBe(1);

    // Another customer tester accepts it: nobody needs to test it any more.
    await recordVerdict(f.customer, { releaseId: release.id, verdict: "ACCEPTED", artifactSha256: release.artifactSha256 });
    expect(await asked(otherCustomer, test)).toEqual({ title: test, resolved: { state: "done", note: `Accepted by ${f.customer.name}.` } });
    expect(await countUnreadNotifications(otherCustomer)).toBe(0);

    const approve = `Approve ${app.name} ${release.version} for Production`;
    expect(await asked(f.approver, approve)).toEqual({ title: approve, resolved: null });
    await approveRelease(f.approver, { releaseId: release.id, artifactSha256: release.artifactSha256 });
    expect(await asked(f.approver, approve)).toEqual({ title: approve, resolved: { state: "done", note: "You approved it." } });
    // Ops hold an approver role by default: enough approvals from someone else settle theirs too.
    expect(await asked(f.ops, approve)).toEqual({ title: approve, resolved: { state: "done", note: `Approved (1 of 1).` } });

    const promote = `Promote ${app.name} ${release.version} to Production`;
    expect(await asked(f.ops, promote)).toEqual({ title: promote, resolved: null });
    await deploy(f, f.ops, "production", release.id);
    expect(await asked(f.ops, promote)).toEqual({ title: promote, resolved: { state: "done", note: "Live in production." } });
    expect((await listNotifications(f.ops)).filter((n) => n.resolved === null && /^(Approve|Promote)/.test(n.title))).toEqual([]);
  });

  it("moot: a candidate replaced in acceptance, an approval of a release since rejected, a rejection since followed up by a newer upload", async () => {
    const f = await releaseFlow();
    const app = f.tenant.application;
    const other = await createMember(f.tenant, "CUSTOMER", { customerSide: true });
    const first = await releaseInAcceptance(f);
    await onDeploymentFinished(first.deployment.id);
    const second = await releaseInAcceptance(f);
    await onDeploymentFinished(second.deployment.id);
    expect(await asked(other, `Test ${app.name} ${first.release.version}`)).toEqual({
      title: `Test ${app.name} ${first.release.version}`,
      resolved: { state: "moot", note: `Acceptance now runs ${second.release.version}.` },
    });
    expect((await asked(other, `Test ${app.name} ${second.release.version}`))?.resolved).toBeNull();

    await recordVerdict(f.customer, { releaseId: second.release.id, verdict: "ACCEPTED", artifactSha256: second.release.artifactSha256 });
    await recordVerdict(other, { releaseId: second.release.id, verdict: "REJECTED", reason: "Invoice totals are wrong", artifactSha256: second.release.artifactSha256 });
    expect((await asked(f.approver, `Approve ${app.name} ${second.release.version} for Production`))?.resolved).toEqual({ state: "moot", note: `Rejected by ${other.name}.` });

    const fix = `${app.name} ${second.release.version} was rejected`;
    expect((await asked(f.dev, fix))?.resolved).toBeNull();
    const next = await uploadRelease(f);
    expect((await asked(f.dev, fix))?.resolved).toEqual({ state: "done", note: `${next.version} was uploaded since.` });
  });

  it("nobody is asked to approve what they cannot: not a role the permission matrix refuses, not the uploader", async () => {
    const f = await releaseFlow();
    const app = f.tenant.application;
    // Production names developers among its approver roles, which the permission matrix does not let approve.
    await db.environment.update({ where: { id: f.env.production.id }, data: { approverRoles: ["APPROVER", "DEVELOPER"] } });
    const otherDev = await createMember(f.tenant, "DEVELOPER");
    const { release } = await releaseInAcceptance(f);
    await recordVerdict(f.customer, { releaseId: release.id, verdict: "ACCEPTED", artifactSha256: release.artifactSha256 });
    const approve = `Approve ${app.name} ${release.version} for Production`;
    expect((await of(f.approver.id, "release.accepted")).map((n) => n.title)).toEqual([approve]);
    for (const person of [otherDev, f.dev, f.ops]) expect((await of(person.id)).map((n) => n.title), person.name).not.toContain(approve);
  });
});

describe("the inbox", () => {
  it("lists one's own notifications newest first, counts the unread, and marks them read; others' are NOT_FOUND", async () => {
    const me = await createMember(flow.tenant, "DEVELOPER");
    const someone = await createMember(flow.tenant, "DEVELOPER");
    const make = (userId: string, title: string) => db.notification.create({ data: { userId, kind: "release.rejected", title, body: "", link: "/" } });
    const older = await make(me.id, "older");
    await new Promise((r) => setTimeout(r, 5));
    const newer = await make(me.id, "newer");
    const theirs = await make(someone.id, "theirs");

    expect((await listNotifications(me)).map((n) => n.title)).toEqual(["newer", "older"]);
    expect(await countUnreadNotifications(me)).toBe(2);
    await expectAppError(markNotificationsRead(me, { notificationId: theirs.id }), "NOT_FOUND", "Notification not found.");
    expect(await countUnreadNotifications(someone)).toBe(1);

    expect(await markNotificationsRead(me, { notificationId: older.id })).toEqual({ marked: 1 });
    expect(await markNotificationsRead(me, { notificationId: older.id })).toEqual({ marked: 0 });
    expect((await listNotifications(me, { unreadOnly: true })).map((n) => n.id)).toEqual([newer.id]);
    expect(await markNotificationsRead(me, {})).toEqual({ marked: 1 });
    expect(await countUnreadNotifications(me)).toBe(0);
    expect(await countUnreadNotifications(someone)).toBe(1);
    await expectAppError(markNotificationsRead(me, { notificationId: "not-a-uuid" }), "INVALID_INPUT");
  });

  it("without SMTP_URL an email is logged, not sent", async () => {
    expect(await sendEmail({ to: "someone@example.test", subject: "Test", text: "Body", userId: flow.dev.id, kind: "release.accepted" })).toBe("logged");
  });
});
