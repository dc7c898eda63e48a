// The tenant boundary, with two tenants side by side: what one customer's people can see and do with the other's
// applications, and that platform administration stays with platform admins.
import { randomUUID } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { expectAppError } from "../test/assertions";
import {
  actorFor,
  auditEventsBy,
  createDeploymentRow,
  createMember,
  createReleaseRow,
  createTenant,
  createUserRow,
  environmentsOf,
  environmentUpdate,
  lastAuditSeq,
  testContext,
  uniq,
} from "../test/factories";
import { createApplication } from "./applications/create-application";
import { getApplication } from "./applications/get-application";
import { listApplicationsForActor } from "./applications/list-applications";
import type { UserActor } from "./auth/actor";
import { signInWithPassword } from "./auth/sign-in-with-password";
import { createCustomer } from "./customers/create-customer";
import { cancelDeployment } from "./deployments/cancel-deployment";
import { requestDeployment } from "./deployments/request-deployment";
import { requestRevert } from "./deployments/request-revert";
import { db } from "./db/client";
import type { Role } from "./db/generated/enums";
import { createEnvironment } from "./environments/create-environment";
import { deleteEnvironment } from "./environments/delete-environment";
import { reorderEnvironments } from "./environments/reorder-environments";
import { updateEnvironment } from "./environments/update-environment";
import { grantRole } from "./memberships/grant-role";
import { revokeRole } from "./memberships/revoke-role";
import { addTarget } from "./targets/add-target";
import { reissueEnrollment } from "./targets/reissue-enrollment";
import { revokeAgent } from "./targets/revoke-agent";
import { createUser, ZCreateUserRequestSchema } from "./users/create-user";
import { resetUserPassword } from "./users/reset-user-password";
import { setUserStatus } from "./users/set-user-status";

type Tenant = Awaited<ReturnType<typeof createTenant>>;

let a: Tenant;
let b: Tenant;

beforeAll(async () => {
  [a, b] = await Promise.all([createTenant(), createTenant()]);
});

describe("reading across tenants", () => {
  it("a member of tenant A's application sees only A's applications", async () => {
    const memberOfA = await createMember(a, "DEVELOPER");
    const memberOfB = await createMember(b, "CUSTOMER", { customerSide: true });
    expect((await listApplicationsForActor(memberOfA)).map((app) => app.id)).toEqual([a.application.id]);
    expect((await listApplicationsForActor(memberOfB)).map((app) => app.id)).toEqual([b.application.id]);
  });

  it("belonging to a customer grants no application by itself: membership is the boundary", async () => {
    const tester = await actorFor((await createUserRow({ customerId: a.customer.id })).id);
    expect(await listApplicationsForActor(tester)).toEqual([]);
    await expectAppError(getApplication(tester, a.application.id), "NOT_FOUND");
  });

  it("a platform admin sees both tenants' applications", async () => {
    const ids = (await listApplicationsForActor(a.admin)).map((app) => app.id);
    expect(ids).toEqual(expect.arrayContaining([a.application.id, b.application.id]));
  });

  it("getApplication of B's application by A's user is NOT_FOUND, exactly like an id that does not exist", async () => {
    const memberOfA = await createMember(a, "AUDITOR");
    expect((await getApplication(memberOfA, a.application.id)).id).toBe(a.application.id);
    const foreign = await expectAppError(getApplication(memberOfA, b.application.id), "NOT_FOUND");
    const missing = await expectAppError(getApplication(memberOfA, randomUUID()), "NOT_FOUND");
    expect(foreign.message).toBe(missing.message);
  });
});

describe("acting on another tenant's objects", () => {
  // The actor holds every role ops and developers have on A's application. Were B's objects refused as "not
  // allowed", the difference from "not found" would tell which ids exist, and the denial would be filed under B's
  // application, with the actor's email and address, for B's auditor to read.
  it.each([
    ["addTarget", (x: Foreign) => addTarget(x.actor, { environmentId: x.environmentId, name: uniq("web") })],
    ["revokeAgent", (x: Foreign) => revokeAgent(x.actor, { targetId: x.targetId })],
    ["reissueEnrollment", (x: Foreign) => reissueEnrollment(x.actor, { targetId: x.targetId })],
    ["requestDeployment", (x: Foreign) => requestDeployment(x.actor, { environmentId: x.environmentId, releaseId: x.releaseId, reason: "try" })],
    ["requestRevert", (x: Foreign) => requestRevert(x.actor, { environmentId: x.environmentId, reason: "try" })],
    ["cancelDeployment", (x: Foreign) => cancelDeployment(x.actor, { deploymentId: x.deploymentId })],
    ["createEnvironment", (x: Foreign) => createEnvironment(x.actor, { applicationId: x.applicationId, name: uniq("Staging") })],
    ["deleteEnvironment", (x: Foreign) => deleteEnvironment(x.actor, { environmentId: x.environmentId })],
    ["updateEnvironment", async (x: Foreign) => {
      const [env] = await environmentsOf(b.application.id);
      return updateEnvironment(x.actor, { ...environmentUpdate(env!, { name: "Renamed" }), environmentId: x.environmentId });
    }],
    ["reorderEnvironments", (x: Foreign) => reorderEnvironments(x.actor, { applicationId: x.applicationId, environmentId: x.environmentId, direction: "down" })],
    ["grantRole", (x: Foreign) => grantRole(x.actor, { applicationId: x.applicationId, userId: x.actor.id, role: "OPS" })],
    ["revokeRole", (x: Foreign) => revokeRole(x.actor, { membershipId: x.membershipId })],
  ] as const)("%s on B's object is NOT_FOUND, worded as for an id that does not exist", async (_name, call) => {
    const actor = await createMember(a, "OPS");
    await grantRole(a.admin, { applicationId: a.application.id, userId: actor.id, role: "DEVELOPER" });
    const insider = await actorFor(actor.id);
    const foreign = await foreignObjects(insider);
    const missing: Foreign = {
      actor: insider,
      applicationId: randomUUID(),
      environmentId: randomUUID(),
      targetId: randomUUID(),
      releaseId: randomUUID(),
      deploymentId: randomUUID(),
      membershipId: randomUUID(),
    };
    const before = await snapshotOf(b.application.id);
    const refused = await expectAppError(call(foreign), "NOT_FOUND");
    const unknown = await expectAppError(call(missing), "NOT_FOUND");
    expect(refused.message).toBe(unknown.message);
    expect(refused.scope).toBeUndefined();
    expect(await snapshotOf(b.application.id)).toEqual(before);
  });
});

interface Foreign {
  actor: UserActor;
  applicationId: string;
  environmentId: string;
  targetId: string;
  releaseId: string;
  deploymentId: string;
  membershipId: string;
}

/** One of each object of B's application that the calls above name. */
async function foreignObjects(actor: UserActor): Promise<Foreign> {
  const [first] = await environmentsOf(b.application.id);
  const { target } = await addTarget(b.admin, { environmentId: first!.id, name: uniq("web") });
  const release = await createReleaseRow({ applicationId: b.application.id, uploadedById: b.admin.id });
  const deployment = await createDeploymentRow({ releaseId: release.id, environmentId: first!.id, status: "SCHEDULED" });
  const member = await createUserRow();
  const membership = await grantRole(b.admin, { applicationId: b.application.id, userId: member.id, role: "AUDITOR" });
  return {
    actor,
    applicationId: b.application.id,
    environmentId: first!.id,
    targetId: target.id,
    releaseId: release.id,
    deploymentId: deployment.id,
    membershipId: membership.id,
  };
}

async function snapshotOf(applicationId: string) {
  const [environments, targets, memberships, deployments, events] = await Promise.all([
    db.environment.findMany({ where: { applicationId }, orderBy: { id: "asc" } }),
    db.target.findMany({ where: { environment: { applicationId } }, orderBy: { id: "asc" } }),
    db.membership.findMany({ where: { applicationId }, orderBy: { id: "asc" } }),
    db.deployment.findMany({ where: { environment: { applicationId } }, orderBy: { id: "asc" } }),
    db.auditEvent.count({ where: { applicationId } }),
  ]);
  return { environments, targets, memberships, deployments, events };
}

describe("granting roles across tenants", () => {
  it("a customer-side user of customer A cannot get a role on B's application, and nothing is written", async () => {
    const tester = await createUserRow({ customerId: a.customer.id });
    const seq = await lastAuditSeq();
    const error = await expectAppError(
      grantRole(b.admin, { applicationId: b.application.id, userId: tester.id, role: "CUSTOMER" }),
      "CONFLICT",
    );
    expect(error.message).toContain(tester.email);
    expect(error.message).toContain(b.customer.name);
    expect(await db.membership.count({ where: { userId: tester.id } })).toBe(0);
    expect(await auditEventsBy(b.admin.id, seq)).toEqual([]);
  });

  it("the same user can get a role on their own customer's application", async () => {
    const tester = await createUserRow({ customerId: a.customer.id });
    await grantRole(a.admin, { applicationId: a.application.id, userId: tester.id, role: "CUSTOMER" });
    expect((await listApplicationsForActor(await actorFor(tester.id))).map((app) => app.id)).toEqual([a.application.id]);
  });

  it("staff (no customer) can hold roles on both tenants' applications", async () => {
    const staff = await createUserRow();
    await grantRole(a.admin, { applicationId: a.application.id, userId: staff.id, role: "OPS" });
    await grantRole(b.admin, { applicationId: b.application.id, userId: staff.id, role: "OPS" });
    const ids = (await listApplicationsForActor(await actorFor(staff.id))).map((app) => app.id);
    expect(ids.sort()).toEqual([a.application.id, b.application.id].sort());
  });
});

describe("admin-only domain functions refuse a non-admin and change nothing", () => {
  // The non-admin holds every role on the application, so no role can be what lets an admin action through.
  const ALL_ROLES: Role[] = ["DEVELOPER", "CUSTOMER", "APPROVER", "OPS", "AUDITOR"];
  let insider: UserActor;
  let target: { id: string; email: string; password: string; sessionId: string };
  let otherMembershipId: string;
  const newCustomerName = uniq("Forbidden Customer");
  const newAppName = uniq("Forbidden App");
  const newUserEmail = `${uniq("forbidden")}@example.test`;

  beforeAll(async () => {
    const row = await createUserRow();
    for (const role of ALL_ROLES) await grantRole(a.admin, { applicationId: a.application.id, userId: row.id, role });
    insider = await actorFor(row.id);

    const password = "target password 123";
    const targetRow = await createUserRow({ password });
    const signedIn = await signInWithPassword({ email: targetRow.email, password }, testContext());
    target = { id: targetRow.id, email: targetRow.email, password, sessionId: signedIn.sessionId };
    otherMembershipId = (await grantRole(a.admin, { applicationId: a.application.id, userId: targetRow.id, role: "DEVELOPER" })).id;
  });

  /** Everything the calls below could touch, read fresh from the database. */
  async function snapshot() {
    const [customers, applications, environments, memberships, user, sessions, newUsers] = await Promise.all([
      db.customer.findMany({ where: { OR: [{ id: a.customer.id }, { name: newCustomerName }] }, orderBy: { id: "asc" } }),
      db.application.findMany({ where: { OR: [{ customerId: a.customer.id }, { name: newAppName }] }, orderBy: { id: "asc" } }),
      db.environment.findMany({ where: { applicationId: a.application.id }, orderBy: { id: "asc" } }),
      db.membership.findMany({ where: { applicationId: a.application.id }, orderBy: { id: "asc" } }),
      db.user.findUniqueOrThrow({ where: { id: target.id } }),
      db.authSession.findMany({ where: { userId: target.id }, orderBy: { id: "asc" } }),
      db.user.findMany({ where: { email: newUserEmail } }),
    ]);
    return { customers, applications, environments, memberships, user, sessions, newUsers };
  }

  const calls: [string, () => Promise<unknown>][] = [
    ["createCustomer", () => createCustomer(insider, { name: newCustomerName })],
    ["createApplication", () => createApplication(insider, { customerId: a.customer.id, name: newAppName, description: "" })],
    ["createUser", () => createUser(insider, ZCreateUserRequestSchema.parse({ name: "Forbidden", email: newUserEmail }))],
    ["createUser (as platform admin)", () => createUser(insider, ZCreateUserRequestSchema.parse({ name: "X", email: newUserEmail, isPlatformAdmin: "on" }))],
    ["setUserStatus", () => setUserStatus(insider, { userId: target.id, status: "DISABLED" })],
    ["resetUserPassword", () => resetUserPassword(insider, { userId: target.id })],
    ["grantRole", () => grantRole(insider, { applicationId: a.application.id, userId: target.id, role: "OPS" })],
    ["revokeRole", () => revokeRole(insider, { membershipId: otherMembershipId })],
    ["createEnvironment", () => createEnvironment(insider, { applicationId: a.application.id, name: uniq("Staging") })],
    [
      "updateEnvironment",
      async () => {
        const env = await db.environment.findFirstOrThrow({ where: { applicationId: a.application.id, isProduction: true } });
        return updateEnvironment(insider, {
          environmentId: env.id,
          name: "Prod (renamed)",
          url: null,
          isProduction: true,
          requiresPreviousSuccess: false,
          requiresAcceptance: false,
          requiredApprovals: 0,
          approverRoles: [],
          deployerRoles: ["DEVELOPER"],
          strategy: "ALL_AT_ONCE",
          batchSize: 1,
        });
      },
    ],
    [
      "reorderEnvironments",
      async () => {
        const env = await db.environment.findFirstOrThrow({ where: { applicationId: a.application.id, position: 1 } });
        return reorderEnvironments(insider, { applicationId: a.application.id, environmentId: env.id, direction: "up" });
      },
    ],
    [
      "deleteEnvironment",
      async () => {
        const env = await db.environment.findFirstOrThrow({ where: { applicationId: a.application.id, position: 0 } });
        return deleteEnvironment(insider, { environmentId: env.id });
      },
    ],
  ];

  it.each(calls)("%s: FORBIDDEN, database unchanged, no audit event", async (_name, call) => {
    const before = await snapshot();
    const seq = await lastAuditSeq();
    await expectAppError(call(), "FORBIDDEN", "You are not allowed to do that.");
    expect(await snapshot()).toEqual(before);
    expect(await auditEventsBy(insider.id, seq)).toEqual([]);
    expect(await db.auditEvent.count({ where: { seq: { gt: seq }, OR: [{ objectId: target.id }, { applicationId: a.application.id }] } })).toBe(0);
  });

  it("the insider's refused calls left the target able to sign in with their old password", async () => {
    await expect(signInWithPassword({ email: target.email, password: target.password }, testContext())).resolves.toMatchObject({ userId: target.id });
  });
});
