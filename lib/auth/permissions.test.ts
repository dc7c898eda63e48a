import { describe, expect, it } from "vitest";
import type { Role } from "../db/generated/enums";
import { AppError } from "../errors";
import type { UserActor } from "./actor";
import { assertCan, can, type Permission, PERMISSIONS } from "./permissions";

// The expected matrix, written out by hand rather than derived from PERMISSIONS: a change to the real table must
// be mirrored here on purpose, and the first test fails when a permission is added without its row.
const ROLES: readonly Role[] = ["DEVELOPER", "CUSTOMER", "APPROVER", "OPS", "AUDITOR"];
const EXPECTED: Record<Permission, { roles: readonly Role[]; admin: boolean }> = {
  "customer.create": { roles: [], admin: true },
  "customer.update": { roles: [], admin: true },
  "user.create": { roles: [], admin: true },
  "user.update": { roles: [], admin: true },
  "user.disable": { roles: [], admin: true },
  "user.reset-password": { roles: [], admin: true },
  "application.create": { roles: [], admin: true },
  "application.update": { roles: [], admin: true },
  "membership.grant": { roles: [], admin: true },
  "membership.revoke": { roles: [], admin: true },
  "environment.manage": { roles: [], admin: true },
  "target.manage": { roles: ["OPS"], admin: true },
  "release.create": { roles: ["DEVELOPER"], admin: false },
  "deployment.request": { roles: ["DEVELOPER", "OPS"], admin: false },
  "deployment.cancel": { roles: ["DEVELOPER", "OPS"], admin: false },
  "deployment.revert": { roles: ["OPS"], admin: false },
  "release.verdict": { roles: ["CUSTOMER"], admin: false },
  "release.approve": { roles: ["APPROVER", "OPS"], admin: false },
  "freeze.manage": { roles: ["OPS"], admin: false },
  "webhook.manage": { roles: ["OPS"], admin: true },
  "api-token.manage": { roles: ["DEVELOPER", "OPS"], admin: true },
  "application.view": { roles: ROLES, admin: true },
  "audit.view": { roles: ["AUDITOR"], admin: true },
};

const APP = "11111111-1111-4111-8111-111111111111";
const OTHER_APP = "22222222-2222-4222-8222-222222222222";

function actor(options: { admin?: boolean; roles?: Record<string, Role[]> } = {}): Pick<UserActor, "isPlatformAdmin" | "roles"> {
  return {
    isPlatformAdmin: options.admin ?? false,
    roles: new Map(Object.entries(options.roles ?? {}).map(([app, roles]) => [app, new Set(roles)])),
  };
}

const permissions = Object.keys(PERMISSIONS) as Permission[];

describe("permissions matrix", () => {
  it("lists exactly the permissions this test expects", () => {
    expect([...permissions].sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  describe.each(permissions)("%s", (permission) => {
    const expected = EXPECTED[permission];

    it.each(ROLES)("role %s on the same application, not admin", (role) => {
      expect(can(actor({ roles: { [APP]: [role] } }), permission, APP)).toBe(expected.roles.includes(role));
    });

    it.each(ROLES)("role %s on the same application, admin", (role) => {
      expect(can(actor({ admin: true, roles: { [APP]: [role] } }), permission, APP)).toBe(expected.admin || expected.roles.includes(role));
    });

    it.each(ROLES)("role %s on another application is denied (unless admin)", (role) => {
      expect(can(actor({ roles: { [OTHER_APP]: [role] } }), permission, APP)).toBe(false);
      expect(can(actor({ admin: true, roles: { [OTHER_APP]: [role] } }), permission, APP)).toBe(expected.admin);
    });

    it.each(ROLES)("role %s without naming an application grants nothing (platform-wide check)", (role) => {
      expect(can(actor({ roles: { [APP]: [role] } }), permission)).toBe(false);
      expect(can(actor({ admin: true, roles: { [APP]: [role] } }), permission)).toBe(expected.admin);
    });

    it("no roles at all: only the admin flag counts", () => {
      expect(can(actor(), permission, APP)).toBe(false);
      expect(can(actor(), permission)).toBe(false);
      expect(can(actor({ admin: true }), permission, APP)).toBe(expected.admin);
      expect(can(actor({ admin: true }), permission)).toBe(expected.admin);
    });

    it("every role at once on the same application grants it exactly when some role is listed", () => {
      expect(can(actor({ roles: { [APP]: [...ROLES] } }), permission, APP)).toBe(expected.roles.length > 0);
    });
  });

  it("an actor with every role on another application is denied everything on this one", () => {
    const outsider = actor({ roles: { [OTHER_APP]: [...ROLES] } });
    for (const permission of permissions) expect(can(outsider, permission, APP), permission).toBe(false);
  });

  it("an empty role set for the application grants nothing", () => {
    const empty = actor({ roles: { [APP]: [] } });
    for (const permission of permissions) expect(can(empty, permission, APP), permission).toBe(false);
  });
});

describe("assertCan", () => {
  const full = (a: Pick<UserActor, "isPlatformAdmin" | "roles">): UserActor => ({
    ...a,
    type: "USER",
    id: "33333333-3333-4333-8333-333333333333",
    email: "someone@example.test",
    name: "Someone",
    customerId: null,
    sessionId: null,
    mustChangePassword: false,
    ctx: { requestId: "r", ip: null, userAgent: null },
  });

  it("throws FORBIDDEN with a readable message when denied", () => {
    let error: unknown;
    try {
      assertCan(full(actor({ roles: { [APP]: ["DEVELOPER"] } })), "membership.grant", APP);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe("FORBIDDEN");
    expect((error as AppError).status).toBe(403);
    expect((error as AppError).message).toBe("You are not allowed to do that.");
  });

  it("returns quietly when allowed", () => {
    expect(() => assertCan(full(actor({ roles: { [APP]: ["AUDITOR"] } })), "audit.view", APP)).not.toThrow();
    expect(() => assertCan(full(actor({ admin: true })), "customer.create")).not.toThrow();
  });
});
