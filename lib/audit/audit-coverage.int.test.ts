// Every state change leaves exactly one audit event, with who did it, what it was about and which tenant it
// belongs to; a change that does not happen leaves none. Each call runs with its own request id, and events are
// found by that id, so this file can run next to others writing to the same database.
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectAppError } from "../../test/assertions";
import { actorFor, createMember, createTenant, createUserRow, environmentsOf, testContext, uniq, environmentUpdate } from "../../test/factories";
import { createApplication } from "../applications/create-application";
import type { RequestContext, UserActor } from "../auth/actor";
import { loadSessionActor, revokeSession } from "../auth/session";
import { signInWithPassword } from "../auth/sign-in-with-password";
import { createCustomer } from "../customers/create-customer";
import { db } from "../db/client";
import { createEnvironment } from "../environments/create-environment";
import { deleteEnvironment } from "../environments/delete-environment";
import { reorderEnvironments } from "../environments/reorder-environments";
import { updateEnvironment } from "../environments/update-environment";
import { grantRole } from "../memberships/grant-role";
import { revokeRole } from "../memberships/revoke-role";
import { changeOwnPassword } from "../users/change-own-password";
import { createUser, ZCreateUserRequestSchema } from "../users/create-user";
import { resetUserPassword } from "../users/reset-user-password";
import { setUserStatus } from "../users/set-user-status";
import { AUDIT_EVENT_TYPES, type AuditEventType } from "./event-types";
import { recordDenial } from "./record-denial";
import { enrollAgent } from "../agents/enroll-agent";
import { addTarget } from "../targets/add-target";
import { reissueEnrollment } from "../targets/reissue-enrollment";
import { revokeAgent } from "../targets/revoke-agent";
import { addBalancerMember } from "../balancers/add-balancer-member";
import { createBalancer } from "../balancers/create-balancer";
import { deleteBalancer } from "../balancers/delete-balancer";
import { removeBalancerMember } from "../balancers/remove-balancer-member";
import { updateBalancer } from "../balancers/update-balancer";
import { updateRolloutSettings } from "../environments/update-rollout-settings";
import { assignTargetSite } from "../sites/assign-target-site";
import { createSite } from "../sites/create-site";
import { deleteSite } from "../sites/delete-site";
import { moveSite } from "../sites/move-site";
import { renameSite } from "../sites/rename-site";
import { updateSiteSettings } from "../sites/update-site-settings";
import { authenticateApiToken } from "../api-tokens/authenticate-api-token";
import { createApiToken, ZCreateApiTokenRequestSchema } from "../api-tokens/create-api-token";
import { revokeApiToken } from "../api-tokens/revoke-api-token";
import { createRelease, ZCreateReleaseRequestSchema } from "../releases/create-release";
import { FilesystemArtifactStore } from "../storage/filesystem-store";

type Tenant = Awaited<ReturnType<typeof createTenant>>;

const PASSWORD = "correct horse battery staple";

/** The same person acting within a request of its own, so its audit events can be told apart. */
const inRequest = (actor: UserActor): { actor: UserActor; ctx: RequestContext } => {
  const ctx = testContext();
  return { actor: { ...actor, ctx }, ctx };
};

const eventsOf = (ctx: RequestContext) => db.auditEvent.findMany({ where: { requestId: ctx.requestId }, orderBy: { seq: "asc" } });

/** Exactly one event was written for the request, and it is `expected`. */
async function expectOneEvent(
  ctx: RequestContext,
  expected: {
    type: AuditEventType;
    actor: UserActor | { system: string };
    objectType: string;
    objectId: string | null;
    customerId?: string | null;
    applicationId?: string | null;
    environmentId?: string | null;
  },
) {
  const events = await eventsOf(ctx);
  expect(events.map((e) => e.type)).toEqual([expected.type]);
  const event = events[0]!;
  const actor = expected.actor;
  expect(event).toMatchObject({
    actorType: "system" in actor ? "SYSTEM" : "USER",
    actorId: "system" in actor ? null : actor.id,
    actorLabel: "system" in actor ? `system: ${actor.system}` : actor.email,
    objectType: expected.objectType,
    objectId: expected.objectId,
    customerId: expected.customerId ?? null,
    applicationId: expected.applicationId ?? null,
    environmentId: expected.environmentId ?? null,
    releaseId: null,
    ip: ctx.ip,
    userAgent: ctx.userAgent,
  });
  expect(event.summary.length).toBeGreaterThan(10);
  // Credentials never reach the audit trail, in clear or hashed.
  expect(JSON.stringify(event, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v))).not.toMatch(/argon2|correct horse|new password/);
  return event;
}


let tenant: Tenant;
let admin: UserActor;

beforeAll(async () => {
  tenant = await createTenant();
  admin = tenant.admin;
});

// The files that write audit events and the tests below that cover them. A new mutating domain function makes
// the first test fail until it is added here with a test of its own.
const COVERED: Record<string, string> = {
  "lib/customers/create-customer.ts": "createCustomer",
  "lib/applications/create-application.ts": "createApplication",
  "lib/users/create-user.ts": "createUser",
  "lib/users/set-user-status.ts": "setUserStatus",
  "lib/users/reset-user-password.ts": "resetUserPassword",
  "lib/users/change-own-password.ts": "changeOwnPassword",
  "lib/memberships/grant-role.ts": "grantRole",
  "lib/memberships/revoke-role.ts": "revokeRole",
  "lib/environments/create-environment.ts": "createEnvironment",
  "lib/environments/update-environment.ts": "updateEnvironment",
  "lib/environments/reorder-environments.ts": "reorderEnvironments",
  "lib/environments/delete-environment.ts": "deleteEnvironment",
  "lib/auth/sign-in-with-password.ts": "signInWithPassword",
  "lib/auth/session.ts": "revokeSession",
  "lib/auth/report-throttled-sign-ins.ts": "reportThrottledSignIns (lib/auth/throttle.int.test.ts)",
  "lib/audit/record-denial.ts": "recordDenial",
  "lib/targets/add-target.ts": "addTarget",
  "lib/targets/reissue-enrollment.ts": "reissueEnrollment",
  "lib/targets/revoke-agent.ts": "revokeAgent",
  "lib/agents/enroll-agent.ts": "enrollAgent",
  "lib/balancers/create-balancer.ts": "createBalancer",
  "lib/balancers/update-balancer.ts": "updateBalancer",
  "lib/balancers/delete-balancer.ts": "deleteBalancer",
  "lib/balancers/add-balancer-member.ts": "addBalancerMember",
  "lib/balancers/remove-balancer-member.ts": "removeBalancerMember",
  "lib/configuration/apply-configuration.ts": "applyConfiguration (lib/configuration/configuration.int.test.ts: one CONFIGURATION_APPLIED per applied file, none for a dry run or no change)",
  "lib/environments/update-rollout-settings.ts": "updateRolloutSettings",
  // deployments: tested in lib/deployments/deployment-audit.int.test.ts
  "lib/deployments/request-deployment.ts": "requestDeployment",
  "lib/deployments/request-revert.ts": "requestRevert",
  "lib/deployments/cancel-deployment.ts": "cancelDeployment",
  "lib/rollouts/advance-rollout.ts": "advanceRollout",
  "lib/deployments/continue-deployment.ts": "continueDeployment (lib/rollouts/sites.int.test.ts)",
  "lib/rollouts/start-scheduled-deployment.ts": "startScheduledDeployment (lib/deployments/scheduled-deployments.int.test.ts)",
  "lib/agents/finish-step.ts": "finishStep (via reportStep, tryClaim and sweepRollouts)",
  // sites of an environment: tested at the end of this file
  "lib/sites/create-site.ts": "createSite",
  "lib/sites/rename-site.ts": "renameSite",
  "lib/sites/move-site.ts": "moveSite",
  "lib/sites/delete-site.ts": "deleteSite",
  "lib/sites/assign-target-site.ts": "assignTargetSite",
  "lib/sites/update-site-settings.ts": "updateSiteSettings",
  // releases and pipelines' API tokens: tested at the end of this file
  "lib/releases/create-release.ts": "createRelease",
  "lib/api-tokens/create-api-token.ts": "createApiToken",
  "lib/api-tokens/revoke-api-token.ts": "revokeApiToken",
  // verdicts, approvals and freezes: tested in lib/approvals/approvals.int.test.ts
  "lib/approvals/record-verdict.ts": "recordVerdict",
  "lib/approvals/approve-release.ts": "approveRelease",
  "lib/approvals/create-freeze.ts": "createFreeze",
  "lib/approvals/end-freeze.ts": "endFreeze",
  // outgoing webhooks: tested in lib/notifications/webhooks.int.test.ts
  "lib/notifications/create-webhook.ts": "createWebhook",
  "lib/notifications/delete-webhook.ts": "deleteWebhook",
};
// Known gaps, each with the reason it cannot run here (shared database, no Next.js request scope).
const NOT_COVERED_HERE: Record<string, string> = {
  "lib/audit/record-audit-event.ts": "the writer itself",
  "lib/users/bootstrap-first-admin.ts": "acts only on a database without users (first start; e2e/first-run.spec.ts walks it)",
};

// Modules that write to the database without an audit event, each with the reason. None is a change a person, an
// agent or a pipeline asks for: those are all audited (every step result, through finishStep, included).
const WRITES_WITHOUT_EVENT: Record<string, string> = {
  "lib/api-tokens/authenticate-api-token.ts": "a token's last-used time",
  "lib/auth/throttle.ts": "sign-in throttling counters (refused attempts are reported by lib/auth/report-throttled-sign-ins.ts, audited)",
  "lib/agents/claim-job.ts": "the lease on a step an agent claims; a step it finds interrupted is ended through finishStep (audited)",
  "lib/agents/report-step.ts": "a running step's progress and lease renewal; final results go through finishStep (audited)",
  "lib/agents/record-heartbeat.ts": "an agent's last-seen time, hostname and version",
  "lib/agents/append-step-logs.ts": "a step's log output",
  "lib/audit/create-checkpoint.ts": "the signed checkpoints of the audit chain itself",
  "lib/notifications/publish.ts": "inbox items and webhook deliveries for a change that was audited",
  "lib/notifications/mark-notifications-read.ts": "which of their own notifications a person has read",
  "lib/notifications/deliver-webhooks.ts": "webhook delivery attempts and their outcome",
  "lib/events/wakeups.ts": "NOTIFY only",
  "lib/storage/artifact-store.ts": "advisory locks only",
  "lib/environments/lock-application-environments.ts": "a row lock only",
  "lib/rollouts/sweep-rollouts.ts": "re-offering expired leases and queueing scheduled deployments that are due; steps it ends go through finishStep and the start through advanceRollout (both audited)",
  "lib/db/migrate.ts": "schema migrations",
  "lib/releases/record-production-outcome.ts": "release statuses after a production deployment, recorded in its DEPLOYMENT_SUCCEEDED event (advance-rollout.ts, same transaction)",
};

describe("coverage of this file", () => {
  const root = path.resolve(import.meta.dirname, "../..");
  const sources = async () => {
    const files = (await readdir(path.join(root, "lib"), { recursive: true }))
      .filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts") && !f.startsWith("db/generated"))
      .map((f) => `lib/${f.split(path.sep).join("/")}`);
    return Promise.all(files.map(async (file) => ({ file, text: await readFile(path.join(root, file), "utf8") })));
  };

  it("lists every module under lib/ that writes audit events", async () => {
    const writers = (await sources()).filter((s) => /\brecordAuditEvent\(/.test(s.text)).map((s) => s.file);
    const unlisted = writers.filter((f) => !(f in COVERED) && !(f in NOT_COVERED_HERE));
    expect(unlisted, "add a test to lib/audit/audit-coverage.int.test.ts for these audited changes").toEqual([]);
  });

  it("finds no module that changes the database without an audit event, other than those listed with a reason", async () => {
    const writes = /\b(db|tx|client)\.[a-zA-Z]+\.(create|createMany|createManyAndReturn|update|updateMany|upsert|delete|deleteMany)\(|\$executeRaw|INSERT INTO|UPDATE "|DELETE FROM/;
    const silent = (await sources()).filter((s) => writes.test(s.text) && !/\brecordAuditEvent\(/.test(s.text)).map((s) => s.file);
    expect(silent.filter((f) => !(f in WRITES_WITHOUT_EVENT)), "audit these changes (recordAuditEvent in the same transaction), or list why not").toEqual([]);
    // The list stays true: a module that no longer writes, or now audits, leaves it.
    expect(Object.keys(WRITES_WITHOUT_EVENT).filter((f) => !silent.includes(f))).toEqual([]);
  });

  it("has a writer for every event type but those whose change does not exist yet", async () => {
    // Types in the closed list whose domain function is not built yet (no rename of users, customers or
    // applications, no removal of servers in lib/ today). They leave this list with the function that writes them.
    const NOT_WRITTEN_YET = ["USER_UPDATED", "CUSTOMER_UPDATED", "APPLICATION_UPDATED", "TARGET_REMOVED"];
    // Types nothing writes any more, kept so that records written before keep their meaning: a server's own
    // load-balancer settings (balancers became objects of the environment, BALANCER_*).
    const NO_LONGER_WRITTEN = ["TARGET_UPDATED"];
    const code = (await sources()).filter((s) => s.file !== "lib/audit/event-types.ts").map((s) => s.text).join("\n");
    const unwritten = Object.keys(AUDIT_EVENT_TYPES).filter((t) => !code.includes(`"${t}"`));
    expect(unwritten.sort()).toEqual([...NOT_WRITTEN_YET, ...NO_LONGER_WRITTEN].sort());
  });
});

describe("every mutating domain function writes exactly one audit event", () => {
  it("addTarget, enrollAgent, reissueEnrollment, revokeAgent -> one event each, the enrollment by the agent itself", async () => {
    const [, , production] = await environmentsOf(tenant.application.id);
    const scope = { customerId: tenant.customer.id, applicationId: tenant.application.id, environmentId: production!.id };
    const add = inRequest(admin);
    const { target, enrollmentToken } = await addTarget(add.actor, { environmentId: production!.id, name: uniq("web") });
    await expectOneEvent(add.ctx, { type: "TARGET_ADDED", actor: add.actor, objectType: "Target", objectId: target.id, ...scope });

    const agentCtx = testContext();
    await enrollAgent({ token: enrollmentToken, hostname: "web-host", agentVersion: "1.0.0" }, agentCtx);
    const [enrolled, ...more] = await eventsOf(agentCtx);
    expect(more).toEqual([]);
    expect(enrolled).toMatchObject({ type: "AGENT_ENROLLED", actorType: "AGENT", actorId: target.id, objectId: target.id, ...scope, ip: agentCtx.ip });
    expect(JSON.stringify({ ...enrolled, seq: String(enrolled!.seq) })).not.toContain(enrollmentToken.slice(4));

    const rotate = inRequest(admin);
    await reissueEnrollment(rotate.actor, { targetId: target.id });
    await expectOneEvent(rotate.ctx, { type: "AGENT_ENROLLMENT_REISSUED", actor: rotate.actor, objectType: "Target", objectId: target.id, ...scope });
    const revoke = inRequest(admin);
    await revokeAgent(revoke.actor, { targetId: target.id });
    await expectOneEvent(revoke.ctx, { type: "AGENT_REVOKED", actor: revoke.actor, objectType: "Target", objectId: target.id, ...scope });
  });

  it("recordDenial -> PERMISSION_DENIED (the wrappers call it when a domain function refuses)", async () => {
    const member = await createMember(tenant, "DEVELOPER");
    const { actor, ctx } = inRequest(member);
    await recordDenial(actor, "create-customer");
    await expectOneEvent(ctx, { type: "PERMISSION_DENIED", actor, objectType: "Action", objectId: "create-customer" });
  });

  it("createCustomer -> CUSTOMER_CREATED", async () => {
    const { actor, ctx } = inRequest(admin);
    const customer = await createCustomer(actor, { name: uniq("Audited Customer") });
    const e = await expectOneEvent(ctx, { type: "CUSTOMER_CREATED", actor, objectType: "Customer", objectId: customer.id, customerId: customer.id });
    expect(e.after).toEqual({ name: customer.name, slug: customer.slug });
  });

  it("createApplication -> APPLICATION_CREATED", async () => {
    const { actor, ctx } = inRequest(admin);
    const app = await createApplication(actor, { customerId: tenant.customer.id, name: uniq("Audited App"), description: "" });
    const e = await expectOneEvent(ctx, {
      type: "APPLICATION_CREATED",
      actor,
      objectType: "Application",
      objectId: app.id,
      customerId: tenant.customer.id,
      applicationId: app.id,
    });
    expect(e.after).toMatchObject({ name: app.name, environments: ["QA", "Acceptance", "Production"] });
  });

  it("createUser -> USER_CREATED, without the password", async () => {
    const { actor, ctx } = inRequest(admin);
    const { user } = await createUser(actor, ZCreateUserRequestSchema.parse({ name: "Audited", email: `${uniq("audited")}@example.test`, customerId: tenant.customer.id }));
    const e = await expectOneEvent(ctx, { type: "USER_CREATED", actor, objectType: "User", objectId: user.id, customerId: tenant.customer.id });
    expect(e.after).toEqual({ email: user.email, name: "Audited", status: "ACTIVE", isPlatformAdmin: false, customerId: tenant.customer.id });
  });

  it("setUserStatus -> USER_DISABLED, then USER_ENABLED", async () => {
    const user = await createUserRow({ customerId: tenant.customer.id });
    const disable = inRequest(admin);
    await setUserStatus(disable.actor, { userId: user.id, status: "DISABLED" });
    const disabled = await expectOneEvent(disable.ctx, { type: "USER_DISABLED", actor: disable.actor, objectType: "User", objectId: user.id, customerId: tenant.customer.id });
    expect([disabled.before, disabled.after]).toEqual([{ status: "ACTIVE" }, { status: "DISABLED" }]);

    const enable = inRequest(admin);
    await setUserStatus(enable.actor, { userId: user.id, status: "ACTIVE" });
    const enabled = await expectOneEvent(enable.ctx, { type: "USER_ENABLED", actor: enable.actor, objectType: "User", objectId: user.id, customerId: tenant.customer.id });
    expect([enabled.before, enabled.after]).toEqual([{ status: "DISABLED" }, { status: "ACTIVE" }]);
  });

  it("resetUserPassword -> USER_PASSWORD_RESET, without the new password", async () => {
    const user = await createUserRow();
    const { actor, ctx } = inRequest(admin);
    const { oneTimePassword } = await resetUserPassword(actor, { userId: user.id });
    const e = await expectOneEvent(ctx, { type: "USER_PASSWORD_RESET", actor, objectType: "User", objectId: user.id });
    expect(JSON.stringify(e.summary) + JSON.stringify(e.data) + JSON.stringify(e.after)).not.toContain(oneTimePassword);
  });

  it("changeOwnPassword -> USER_PASSWORD_CHANGED by the user themselves", async () => {
    const user = await createUserRow({ password: PASSWORD, customerId: tenant.customer.id });
    const { actor, ctx } = inRequest(await actorFor(user.id));
    await changeOwnPassword(actor, { currentPassword: PASSWORD, newPassword: "a brand new password", confirmPassword: "a brand new password" });
    await expectOneEvent(ctx, { type: "USER_PASSWORD_CHANGED", actor, objectType: "User", objectId: user.id, customerId: tenant.customer.id });
  });

  it("grantRole -> ROLE_GRANTED; revokeRole -> ROLE_REVOKED", async () => {
    const user = await createUserRow();
    const grant = inRequest(admin);
    const membership = await grantRole(grant.actor, { applicationId: tenant.application.id, userId: user.id, role: "APPROVER" });
    const granted = await expectOneEvent(grant.ctx, {
      type: "ROLE_GRANTED",
      actor: grant.actor,
      objectType: "Membership",
      objectId: membership.id,
      customerId: tenant.customer.id,
      applicationId: tenant.application.id,
    });
    expect(granted.after).toMatchObject({ userId: user.id, email: user.email, role: "APPROVER" });

    const revoke = inRequest(admin);
    await revokeRole(revoke.actor, { membershipId: membership.id });
    const revoked = await expectOneEvent(revoke.ctx, {
      type: "ROLE_REVOKED",
      actor: revoke.actor,
      objectType: "Membership",
      objectId: membership.id,
      customerId: tenant.customer.id,
      applicationId: tenant.application.id,
    });
    expect(revoked.before).toMatchObject({ userId: user.id, role: "APPROVER" });
  });

  it("createEnvironment, updateEnvironment, reorderEnvironments, deleteEnvironment", async () => {
    const scope = { customerId: tenant.customer.id, applicationId: tenant.application.id };

    const create = inRequest(admin);
    const env = await createEnvironment(create.actor, { applicationId: tenant.application.id, name: uniq("Staging") });
    await expectOneEvent(create.ctx, { type: "ENVIRONMENT_CREATED", actor: create.actor, objectType: "Environment", objectId: env.id, ...scope, environmentId: env.id });

    const update = inRequest(admin);
    const renamed = uniq("Pre-production");
    await updateEnvironment(update.actor, environmentUpdate(env, { name: renamed, batchSize: 2 }));
    const updated = await expectOneEvent(update.ctx, { type: "ENVIRONMENT_UPDATED", actor: update.actor, objectType: "Environment", objectId: env.id, ...scope, environmentId: env.id });
    expect(updated.before).toMatchObject({ name: env.name, batchSize: 1 });
    expect(updated.after).toMatchObject({ name: renamed, batchSize: 2 });

    const reorder = inRequest(admin);
    await reorderEnvironments(reorder.actor, { applicationId: tenant.application.id, environmentId: env.id, direction: "up" });
    const reordered = await expectOneEvent(reorder.ctx, { type: "ENVIRONMENTS_REORDERED", actor: reorder.actor, objectType: "Application", objectId: tenant.application.id, ...scope });
    expect(reordered.after).toEqual(["QA", "Acceptance", renamed, "Production"]);

    const remove = inRequest(admin);
    await deleteEnvironment(remove.actor, { environmentId: env.id });
    const deleted = await expectOneEvent(remove.ctx, { type: "ENVIRONMENT_DELETED", actor: remove.actor, objectType: "Environment", objectId: env.id, ...scope, environmentId: env.id });
    expect(deleted.before).toEqual({ name: renamed, position: 2 });
  });

  it("signInWithPassword success -> USER_SIGNED_IN by the user", async () => {
    const user = await createUserRow({ password: PASSWORD, customerId: tenant.customer.id });
    const ctx = testContext();
    const { sessionId } = await signInWithPassword({ email: user.email, password: PASSWORD }, ctx);
    const e = await expectOneEvent(ctx, { type: "USER_SIGNED_IN", actor: { ...(await actorFor(user.id)), ctx }, objectType: "User", objectId: user.id });
    expect(e.data).toEqual({ sessionId });
  });

  it("signInWithPassword wrong password -> USER_SIGN_IN_FAILED by the system, about the user", async () => {
    const user = await createUserRow({ password: PASSWORD });
    const ctx = testContext();
    await expectAppError(signInWithPassword({ email: user.email, password: "not the password" }, ctx), "UNAUTHENTICATED");
    const e = await expectOneEvent(ctx, { type: "USER_SIGN_IN_FAILED", actor: { system: "sign-in" }, objectType: "User", objectId: user.id });
    expect(e.data).toEqual({ email: user.email, reason: "wrong password" });
  });

  it("signInWithPassword unknown account -> USER_SIGN_IN_FAILED with the email tried", async () => {
    const email = `${uniq("nobody")}@example.test`;
    const ctx = testContext();
    await expectAppError(signInWithPassword({ email, password: "whatever it is" }, ctx), "UNAUTHENTICATED");
    const e = await expectOneEvent(ctx, { type: "USER_SIGN_IN_FAILED", actor: { system: "sign-in" }, objectType: "User", objectId: null });
    expect(e.data).toEqual({ email, reason: "unknown account" });
  });

  it("signInWithPassword disabled account -> USER_SIGN_IN_FAILED", async () => {
    const user = await createUserRow({ password: PASSWORD });
    await setUserStatus(admin, { userId: user.id, status: "DISABLED" });
    const ctx = testContext();
    await expectAppError(signInWithPassword({ email: user.email, password: PASSWORD }, ctx), "UNAUTHENTICATED", "Wrong email or password.");
    const e = await expectOneEvent(ctx, { type: "USER_SIGN_IN_FAILED", actor: { system: "sign-in" }, objectType: "User", objectId: user.id });
    expect(e.data).toEqual({ email: user.email, reason: "account disabled" });
  });

  it("revokeSession -> USER_SIGNED_OUT by the user; a second sign-out of the same session writes nothing", async () => {
    const user = await createUserRow({ password: PASSWORD });
    const signedIn = await signInWithPassword({ email: user.email, password: PASSWORD }, testContext());
    const claims = { uid: signedIn.userId, sid: signedIn.sessionId, sv: signedIn.sessionVersion };
    const ctx = testContext();
    await revokeSession(claims, ctx);
    const e = await expectOneEvent(ctx, { type: "USER_SIGNED_OUT", actor: { ...(await actorFor(user.id)), ctx }, objectType: "User", objectId: user.id });
    expect(e.data).toEqual({ sessionId: signedIn.sessionId });
    expect(await loadSessionActor(claims, testContext())).toBeNull();

    const again = testContext();
    await revokeSession(claims, again);
    expect(await eventsOf(again)).toEqual([]);
  });
});

describe("a change that fails writes no audit event", () => {
  it("duplicate customer name: CONFLICT, no second customer, no event", async () => {
    const name = uniq("Duplicate Customer");
    await createCustomer(admin, { name });
    const { actor, ctx } = inRequest(admin);
    await expectAppError(createCustomer(actor, { name }), "CONFLICT", `A customer named "${name}" already exists.`);
    expect(await db.customer.count({ where: { name } })).toBe(1);
    expect(await eventsOf(ctx)).toEqual([]);
  });

  it("duplicate email: CONFLICT, no event", async () => {
    const existing = await createUserRow();
    const { actor, ctx } = inRequest(admin);
    await expectAppError(createUser(actor, ZCreateUserRequestSchema.parse({ name: "Twin", email: existing.email.toUpperCase() })), "CONFLICT");
    expect(await db.user.count({ where: { email: existing.email } })).toBe(1);
    expect(await eventsOf(ctx)).toEqual([]);
  });

  it("duplicate role: CONFLICT, no event", async () => {
    const member = await createMember(tenant, "OPS");
    const { actor, ctx } = inRequest(admin);
    await expectAppError(grantRole(actor, { applicationId: tenant.application.id, userId: member.id, role: "OPS" }), "CONFLICT");
    expect(await db.membership.count({ where: { userId: member.id } })).toBe(1);
    expect(await eventsOf(ctx)).toEqual([]);
  });

  it("renaming an environment to a taken name: CONFLICT, environment unchanged, no event", async () => {
    const [qa] = await environmentsOf(tenant.application.id);
    const { actor, ctx } = inRequest(admin);
    await expectAppError(updateEnvironment(actor, environmentUpdate(qa!, { name: "Production", batchSize: 7 })), "CONFLICT");
    expect(await db.environment.findUniqueOrThrow({ where: { id: qa!.id } })).toEqual(qa);
    expect(await eventsOf(ctx)).toEqual([]);
  });

  describe("a failure after the event was written, before commit", () => {
    // Deferred triggers fail the commit of any transaction that wrote a row containing a marker: by then the change
    // and its audit event have both been written, and both must roll back together. Were the event written outside
    // the change's transaction, it would survive here.
    const tag = `fail${randomBytes(6).toString("hex")}`;
    const markedUser = randomUUID();

    beforeAll(async () => {
      await db.$executeRawUnsafe(
        `CREATE FUNCTION "${tag}"() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF row_to_json(NEW)::text LIKE '%' || TG_ARGV[0] || '%' THEN RAISE EXCEPTION 'simulated failure at commit'; END IF; RETURN NULL; END $$`,
      );
      for (const [table, marker] of [["Customer", tag], ["Membership", markedUser]]) {
        await db.$executeRawUnsafe(
          `CREATE CONSTRAINT TRIGGER "${tag}" AFTER INSERT ON "${table}" DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "${tag}"('${marker}')`,
        );
      }
    });

    afterAll(async () => {
      for (const table of ["Customer", "Membership"]) await db.$executeRawUnsafe(`DROP TRIGGER IF EXISTS "${tag}" ON "${table}"`);
      await db.$executeRawUnsafe(`DROP FUNCTION IF EXISTS "${tag}"()`);
    });

    it("createCustomer: neither the customer nor its event remain", async () => {
      const name = `Customer ${tag}`;
      const { actor, ctx } = inRequest(admin);
      await expect(createCustomer(actor, { name })).rejects.toThrow(/simulated failure at commit/);
      expect(await db.customer.count({ where: { name } })).toBe(0);
      expect(await eventsOf(ctx)).toEqual([]);
    });

    it("grantRole: neither the membership nor its event remain", async () => {
      const user = await db.user.create({
        data: { id: markedUser, email: `${uniq("marked")}@example.test`, name: "Marked", passwordHash: "x" },
      });
      const { actor, ctx } = inRequest(admin);
      await expect(grantRole(actor, { applicationId: tenant.application.id, userId: user.id, role: "AUDITOR" })).rejects.toThrow(/simulated failure at commit/);
      expect(await db.membership.count({ where: { userId: user.id } })).toBe(0);
      expect(await eventsOf(ctx)).toEqual([]);
    });
  });
});

describe("releases and pipelines' API tokens write exactly one audit event", () => {
  const scope = () => ({ customerId: tenant.customer.id, applicationId: tenant.application.id });
  const json = (v: unknown) => JSON.stringify(v, (_k, x: unknown) => (typeof x === "bigint" ? x.toString() : x));
  const newToken = async (creator: UserActor, roles: string[]) =>
    createApiToken(creator, ZCreateApiTokenRequestSchema.parse({ applicationId: tenant.application.id, name: uniq("ci"), roles }));

  it("createApiToken -> API_TOKEN_CREATED; revokeApiToken -> API_TOKEN_REVOKED; neither records the token", async () => {
    const dev = await createMember(tenant, "DEVELOPER");
    const create = inRequest(dev);
    const { token, plaintext } = await newToken(create.actor, ["DEVELOPER"]);
    const created = await expectOneEvent(create.ctx, { type: "API_TOKEN_CREATED", actor: create.actor, objectType: "ApiToken", objectId: token.id, ...scope() });
    expect(created.after).toEqual({ name: token.name, prefix: token.prefix, roles: ["DEVELOPER"], expiresAt: null });

    const revoke = inRequest(dev);
    await revokeApiToken(revoke.actor, { tokenId: token.id });
    const revoked = await expectOneEvent(revoke.ctx, { type: "API_TOKEN_REVOKED", actor: revoke.actor, objectType: "ApiToken", objectId: token.id, ...scope() });
    expect(revoked.before).toMatchObject({ name: token.name, revokedAt: null });
    const row = await db.apiToken.findUniqueOrThrow({ where: { id: token.id } });
    for (const e of [created, revoked]) {
      expect(json(e)).not.toContain(plaintext.slice(10));
      expect(json(e)).not.toContain(row.tokenHash);
    }
    const again = inRequest(dev);
    await expectAppError(revokeApiToken(again.actor, { tokenId: token.id }), "CONFLICT");
    expect(await eventsOf(again.ctx)).toEqual([]);
  });

  it("createRelease -> RELEASE_CREATED by the pipeline's token, scoped to the release; a refused upload writes none", async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), "releasegate-audit-"));
    try {
      const store = new FilesystemArtifactStore(root);
      const dev = await createMember(tenant, "DEVELOPER");
      const { plaintext, token } = await newToken(dev, ["DEVELOPER"]);
      const ctx = testContext();
      const pipeline = await authenticateApiToken(`Bearer ${plaintext}`, ctx);
      const version = uniq("1.0.0");
      const input = ZCreateReleaseRequestSchema.parse({ applicationId: tenant.application.id, version });
      const bytes = randomBytes(1000);
      const release = await createRelease(pipeline, input, { stream: Readable.from([bytes]), fileName: "build.tgz" }, store);
      const events = await eventsOf(ctx);
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({
        type: "RELEASE_CREATED",
        actorType: "API_TOKEN",
        actorId: token.id,
        actorLabel: pipeline.label,
        objectType: "Release",
        objectId: release.id,
        releaseId: release.id,
        ...scope(),
        ip: ctx.ip,
      });
      expect(events[0]!.after).toEqual({ version, sha256: release.artifactSha256, size: 1000, fileName: "build.tgz", needsMigration: false });

      const duplicate = testContext();
      await expectAppError(createRelease({ ...pipeline, ctx: duplicate }, input, { stream: Readable.from([randomBytes(10)]), fileName: "x" }, store), "CONFLICT");
      expect(await eventsOf(duplicate)).toEqual([]);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it("recordDenial for a token -> PERMISSION_DENIED by the token, in its application (lib/entry/api-route.ts calls it on a refusal)", async () => {
    const ops = await createMember(tenant, "OPS");
    const { plaintext, token } = await newToken(ops, ["OPS"]);
    const ctx = testContext();
    const pipeline = await authenticateApiToken(`Bearer ${plaintext}`, ctx);
    await recordDenial(pipeline, "POST /api/v1/applications/x/releases");
    const events = await eventsOf(ctx);
    expect(events.map((e) => [e.type, e.actorType, e.actorId, e.objectId, e.applicationId])).toEqual([
      ["PERMISSION_DENIED", "API_TOKEN", token.id, "POST /api/v1/applications/x/releases", tenant.application.id],
    ]);
  });
});

describe("rollout settings and load balancers", () => {
  it("updateRolloutSettings -> ENVIRONMENT_UPDATED with the changed fields only; balancers and memberships -> one event each", async () => {
    const [, , production] = await environmentsOf(tenant.application.id);
    const scope = { customerId: tenant.customer.id, applicationId: tenant.application.id, environmentId: production!.id };
    const settings = inRequest(admin);
    await updateRolloutSettings(settings.actor, {
      environmentId: production!.id,
      strategy: production!.strategy,
      batchSize: production!.batchSize,
      autoRollback: production!.autoRollback,
      healthCheckExpectsVersion: production!.healthCheckExpectsVersion,
      healthCheckUrl: "https://shop.example.test/health",
      hookTimeoutSeconds: production!.hookTimeoutSeconds,
      keepReleases: production!.keepReleases,
      persistentPaths: production!.persistentPaths,
    });
    const updated = await expectOneEvent(settings.ctx, { type: "ENVIRONMENT_UPDATED", actor: settings.actor, objectType: "Environment", objectId: production!.id, ...scope });
    expect([updated.before, updated.after]).toEqual([{ healthCheckUrl: null }, { healthCheckUrl: "https://shop.example.test/health" }]);

    const { target } = await addTarget(admin, { environmentId: production!.id, name: uniq("lb") });
    const created = inRequest(admin);
    const b = await createBalancer(created.actor, { environmentId: production!.id, name: uniq("haproxy"), kind: "HAPROXY", address: "/run/haproxy/admin.sock" });
    const c = await expectOneEvent(created.ctx, { type: "BALANCER_CREATED", actor: created.actor, objectType: "Balancer", objectId: b.id, ...scope });
    expect(c.after).toEqual({ name: b.name, kind: "HAPROXY", address: "/run/haproxy/admin.sock", drainCommand: null, undrainCommand: null });

    const updated2 = inRequest(admin);
    await updateBalancer(updated2.actor, { balancerId: b.id, name: b.name, kind: "HAPROXY", address: "127.0.0.1:9999" });
    const u = await expectOneEvent(updated2.ctx, { type: "BALANCER_UPDATED", actor: updated2.actor, objectType: "Balancer", objectId: b.id, ...scope });
    expect([u.before, u.after]).toEqual([{ address: "/run/haproxy/admin.sock" }, { address: "127.0.0.1:9999" }]);

    const added = inRequest(admin);
    const { membership } = await addBalancerMember(added.actor, { balancerId: b.id, targetId: target.id, backend: "be_web", server: "web1" });
    const a = await expectOneEvent(added.ctx, { type: "BALANCER_MEMBER_ADDED", actor: added.actor, objectType: "Target", objectId: target.id, ...scope });
    expect(a.after).toEqual({ balancer: b.name, backend: "be_web", server: "web1" });

    const removed = inRequest(admin);
    await removeBalancerMember(removed.actor, { membershipId: membership.id });
    const r = await expectOneEvent(removed.ctx, { type: "BALANCER_MEMBER_REMOVED", actor: removed.actor, objectType: "Target", objectId: target.id, ...scope });
    expect(r.before).toEqual({ balancer: b.name, backend: "be_web", server: "web1" });

    const deleted = inRequest(admin);
    await deleteBalancer(deleted.actor, { balancerId: b.id });
    const d = await expectOneEvent(deleted.ctx, { type: "BALANCER_DELETED", actor: deleted.actor, objectType: "Balancer", objectId: b.id, ...scope });
    expect(d.before).toMatchObject({ name: b.name, kind: "HAPROXY", address: "127.0.0.1:9999", members: [] });
  });
});

describe("sites", () => {
  it("createSite, renameSite, moveSite, assignTargetSite, deleteSite -> one event each about the site or server; updateSiteSettings -> ENVIRONMENT_UPDATED", async () => {
    const [, , production] = await environmentsOf(tenant.application.id);
    const scope = { customerId: tenant.customer.id, applicationId: tenant.application.id, environmentId: production!.id };
    const create = inRequest(admin);
    const a = await createSite(create.actor, { environmentId: production!.id, name: uniq("site") });
    await expectOneEvent(create.ctx, { type: "SITE_CREATED", actor: create.actor, objectType: "Site", objectId: a.id, ...scope });
    const b = await createSite(admin, { environmentId: production!.id, name: uniq("site") });
    const rename = inRequest(admin);
    await renameSite(rename.actor, { siteId: a.id, name: uniq("renamed") });
    await expectOneEvent(rename.ctx, { type: "SITE_RENAMED", actor: rename.actor, objectType: "Site", objectId: a.id, ...scope });
    const move = inRequest(admin);
    await moveSite(move.actor, { siteId: b.id, direction: "up" });
    await expectOneEvent(move.ctx, { type: "SITES_REORDERED", actor: move.actor, objectType: "Environment", objectId: production!.id, ...scope });
    const { target } = await addTarget(admin, { environmentId: production!.id, name: uniq("web") });
    const assign = inRequest(admin);
    await assignTargetSite(assign.actor, { targetId: target.id, siteId: a.id });
    await expectOneEvent(assign.ctx, { type: "TARGET_SITE_CHANGED", actor: assign.actor, objectType: "Target", objectId: target.id, ...scope });
    const remove = inRequest(admin);
    await deleteSite(remove.actor, { siteId: b.id });
    await expectOneEvent(remove.ctx, { type: "SITE_DELETED", actor: remove.actor, objectType: "Site", objectId: b.id, ...scope });
    const settings = inRequest(admin);
    await updateSiteSettings(settings.actor, { environmentId: production!.id, siteOrder: "SMALLEST_FIRST", siteFloor: 0, pauseAfterFirstSite: false });
    const updated = await expectOneEvent(settings.ctx, { type: "ENVIRONMENT_UPDATED", actor: settings.actor, objectType: "Environment", objectId: production!.id, ...scope });
    expect([updated.before, updated.after]).toEqual([{ siteOrder: "CHOSEN" }, { siteOrder: "SMALLEST_FIRST" }]);
  });
});
