// Who is told what, in the in-app inbox, as a release goes through the procedure with real deployments (agents
// played through the agent-facing domain functions), and the inbox itself. SMTP_URL is unset here, so emails are
// logged instead (email.int.test.ts sends them to a real SMTP server).
import { beforeAll, describe, expect, it } from "vitest";
import { expectAppError } from "../../test/assertions";
import { createMember } from "../../test/factories";
import { deploy, driveToEnd, type Flow, releaseFlow, releaseInAcceptance, uploadRelease } from "../../test/release-flow";
import { tryClaim } from "../agents/claim-job";
import { reportStep } from "../agents/report-step";
import { approveRelease } from "../approvals/approve-release";
import { recordVerdict } from "../approvals/record-verdict";
import { db } from "../db/client";
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
    // The developer who deployed hears how their deployments ended (not that they started: they started them).
    expect(await of(f.dev.id)).toEqual([
      { kind: "deployment.succeeded", title: `${app.name} ${release.version} is live in QA`, body: `Requested by ${f.dev.name}.`, link: expect.stringMatching(/^\/deployments\//) },
      { kind: "deployment.succeeded", title: `${app.name} ${release.version} is live in Acceptance`, body: `Requested by ${f.dev.name}.`, link: `/deployments/${deployment.id}` },
    ]);
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

    // Production concerns every ops member; the one who promoted hears how it ended, the others also that it started.
    const promoted = await deploy(f, f.ops, "production", release.id, { reason: "Weekly release" });
    await onDeploymentFinished(promoted.id);
    await onDeploymentFinished(promoted.id);
    const link = `/deployments/${promoted.id}`;
    const started = { kind: "deployment.started", title: `Deployment of ${app.name} ${release.version} to Production started`, body: `Started by ${f.ops.name}: Weekly release`, link };
    const succeeded = { kind: "deployment.succeeded", title: `${app.name} ${release.version} is live in Production`, body: `Requested by ${f.ops.name}: Weekly release`, link };
    expect((await of(secondOps.id)).filter((n) => n.link === link)).toEqual([started, succeeded]);
    expect((await of(f.ops.id)).filter((n) => n.link === link)).toEqual([succeeded]);
    expect((await of(f.dev.id)).filter((n) => n.link === link)).toEqual([started, succeeded]);
    expect((await of(f.customer.id)).filter((n) => n.link === link)).toEqual([]);
    // Once released, it is no longer waiting for the customer's test: nothing new for them.
    expect((await of(f.customer.id)).map((n) => n.kind)).toEqual(["release.ready_for_acceptance"]);
    await settleBackgroundWork();
  });

  it("a revert tells ops and the developer whose release was taken out", async () => {
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
    expect(await of(f.ops.id, "deployment.reverted")).toEqual([reverted]);
    expect(await of(f.dev.id, "deployment.reverted")).toEqual([reverted]);
    expect(await of(f.customer.id, "deployment.reverted")).toEqual([]);
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
