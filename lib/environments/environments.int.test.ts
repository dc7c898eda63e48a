// Managing an application's lifecycle: adding, renaming, reordering and removing environments. Positions must stay
// 0..n-1 and unique, and environments that carry release history are never removed.
import { beforeEach, describe, expect, it } from "vitest";
import { expectAppError } from "../../test/assertions";
import { createDeploymentRow, createReleaseRow, createTenant, environmentsOf, uniq, environmentUpdate } from "../../test/factories";
import { db } from "../db/client";
import { createEnvironment } from "./create-environment";
import { deleteEnvironment } from "./delete-environment";
import { reorderEnvironments } from "./reorder-environments";
import { updateEnvironment } from "./update-environment";

type Tenant = Awaited<ReturnType<typeof createTenant>>;

let tenant: Tenant;
const appId = () => tenant.application.id;
const names = async () => (await environmentsOf(appId())).map((e) => e.name);
const positions = async () => (await environmentsOf(appId())).map((e) => e.position);


const byName = async (name: string) => (await environmentsOf(appId())).find((e) => e.name === name)!;

// A fresh application (QA, Acceptance, Production) for every test, so tests do not depend on each other's order.
beforeEach(async () => {
  tenant = await createTenant();
});

describe("createEnvironment", () => {
  it("adds the environment last, as an ungated test stage", async () => {
    const env = await createEnvironment(tenant.admin, { applicationId: appId(), name: "Staging Two" });
    expect(env).toMatchObject({ name: "Staging Two", slug: "staging-two", position: 3, isProduction: false, requiresAcceptance: false, requiredApprovals: 0 });
    expect(await names()).toEqual(["QA", "Acceptance", "Production", "Staging Two"]);
  });

  it("refuses a name the application already uses, with a message naming it", async () => {
    await expectAppError(
      createEnvironment(tenant.admin, { applicationId: appId(), name: "Acceptance" }),
      "CONFLICT",
      'This application already has an environment named "Acceptance".',
    );
    expect(await names()).toEqual(["QA", "Acceptance", "Production"]);
  });

  it("refuses a name that differs only in case or punctuation, saying which environment it clashes with", async () => {
    await expectAppError(
      createEnvironment(tenant.admin, { applicationId: appId(), name: "qa!" }),
      "CONFLICT",
      '"qa!" is too similar to the existing environment "QA": their addresses would be the same. Choose another name.',
    );
    const [, acceptance] = await environmentsOf(appId());
    await expectAppError(updateEnvironment(tenant.admin, environmentUpdate(acceptance!, { name: "Production." })), "CONFLICT", /too similar to the existing environment "Production"/);
    // Renaming an environment to a different spelling of its own name is fine.
    await updateEnvironment(tenant.admin, environmentUpdate(acceptance!, { name: "ACCEPTANCE" }));
    await updateEnvironment(tenant.admin, environmentUpdate(acceptance!, { name: "Acceptance" }));
    expect(await names()).toEqual(["QA", "Acceptance", "Production"]);
  });

  it("allows the same name in another application", async () => {
    const other = await createTenant();
    const name = uniq("Shared");
    await createEnvironment(tenant.admin, { applicationId: appId(), name });
    await expect(createEnvironment(other.admin, { applicationId: other.application.id, name })).resolves.toMatchObject({ name });
  });

  it("two added at once both land at the end, at distinct positions", async () => {
    const results = await Promise.allSettled([
      createEnvironment(tenant.admin, { applicationId: appId(), name: "Fourth" }),
      createEnvironment(tenant.admin, { applicationId: appId(), name: "Fifth" }),
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "fulfilled"]);
    expect((await names()).slice(0, 3)).toEqual(["QA", "Acceptance", "Production"]);
    expect((await names()).slice(3).sort()).toEqual(["Fifth", "Fourth"]);
    expect(await positions()).toEqual([0, 1, 2, 3, 4]);
  });

  it("is NOT_FOUND for an application that does not exist", async () => {
    await expectAppError(createEnvironment(tenant.admin, { applicationId: "00000000-0000-4000-8000-000000000000", name: "X" }), "NOT_FOUND");
  });
});

describe("updateEnvironment", () => {
  it("renames an environment and updates its slug and policy", async () => {
    const qa = await byName("QA");
    const updated = await updateEnvironment(tenant.admin, environmentUpdate(qa, { name: "Test Lab", url: "https://test.example.com", batchSize: 3 }));
    expect(updated).toMatchObject({ id: qa.id, name: "Test Lab", slug: "test-lab", url: "https://test.example.com", batchSize: 3, position: 0 });
    expect(await names()).toEqual(["Test Lab", "Acceptance", "Production"]);
  });

  it("refuses to rename to a name another environment has, with a clear message, and changes nothing", async () => {
    const qa = await byName("QA");
    await expectAppError(
      updateEnvironment(tenant.admin, environmentUpdate(qa, { name: "Production", batchSize: 5 })),
      "CONFLICT",
      'This application already has an environment named "Production".',
    );
    expect(await db.environment.findUniqueOrThrow({ where: { id: qa.id } })).toEqual(qa);
  });

  it("keeping its own name is not a conflict", async () => {
    const acc = await byName("Acceptance");
    await expect(updateEnvironment(tenant.admin, environmentUpdate(acc, { batchSize: 2 }))).resolves.toMatchObject({ name: "Acceptance", batchSize: 2 });
  });

  it("requires approver roles when approvals are required", async () => {
    const qa = await byName("QA");
    const error = await expectAppError(updateEnvironment(tenant.admin, environmentUpdate(qa, { requiredApprovals: 1, approverRoles: [] })), "INVALID_INPUT");
    expect(error.fieldErrors?.approverRoles).toBeDefined();
    expect(await db.environment.findUniqueOrThrow({ where: { id: qa.id } })).toEqual(qa);
  });

  it("is NOT_FOUND for an environment that does not exist", async () => {
    const qa = await byName("QA");
    await expectAppError(updateEnvironment(tenant.admin, environmentUpdate(qa, { environmentId: "00000000-0000-4000-8000-000000000000" })), "NOT_FOUND");
  });
});

describe("reorderEnvironments", () => {
  it("moves an environment down and up, keeping positions 0..n-1 unique", async () => {
    const qa = await byName("QA");
    await reorderEnvironments(tenant.admin, { applicationId: appId(), environmentId: qa.id, direction: "down" });
    expect(await names()).toEqual(["Acceptance", "QA", "Production"]);
    expect(await positions()).toEqual([0, 1, 2]);

    const production = await byName("Production");
    await reorderEnvironments(tenant.admin, { applicationId: appId(), environmentId: production.id, direction: "up" });
    expect(await names()).toEqual(["Acceptance", "Production", "QA"]);
    expect(await positions()).toEqual([0, 1, 2]);

    await reorderEnvironments(tenant.admin, { applicationId: appId(), environmentId: production.id, direction: "up" });
    expect(await names()).toEqual(["Production", "Acceptance", "QA"]);
    expect(await positions()).toEqual([0, 1, 2]);
  });

  it("returns the new order", async () => {
    const [qa, acc, prod] = await environmentsOf(appId());
    await expect(reorderEnvironments(tenant.admin, { applicationId: appId(), environmentId: acc!.id, direction: "up" })).resolves.toEqual([
      acc!.id,
      qa!.id,
      prod!.id,
    ]);
  });

  it("cannot move the first environment up or the last one down", async () => {
    const [first, , last] = await environmentsOf(appId());
    await expectAppError(reorderEnvironments(tenant.admin, { applicationId: appId(), environmentId: first!.id, direction: "up" }), "INVALID_INPUT", "That environment is already first.");
    await expectAppError(reorderEnvironments(tenant.admin, { applicationId: appId(), environmentId: last!.id, direction: "down" }), "INVALID_INPUT", "That environment is already last.");
    expect(await names()).toEqual(["QA", "Acceptance", "Production"]);
  });

  it("is NOT_FOUND for an environment of another application", async () => {
    const other = await createTenant();
    const [foreign] = await environmentsOf(other.application.id);
    await expectAppError(reorderEnvironments(tenant.admin, { applicationId: appId(), environmentId: foreign!.id, direction: "down" }), "NOT_FOUND");
    expect(await names()).toEqual(["QA", "Acceptance", "Production"]);
    expect((await environmentsOf(other.application.id)).map((e) => e.name)).toEqual(["QA", "Acceptance", "Production"]);
  });

  it("two moves at once both apply and leave positions unique", async () => {
    await createEnvironment(tenant.admin, { applicationId: appId(), name: "Fourth" });
    const [qa, , , fourth] = await environmentsOf(appId());
    const results = await Promise.allSettled([
      reorderEnvironments(tenant.admin, { applicationId: appId(), environmentId: qa!.id, direction: "down" }),
      reorderEnvironments(tenant.admin, { applicationId: appId(), environmentId: fourth!.id, direction: "up" }),
    ]);
    // In either order the two moves give the same lifecycle; neither may be lost or fail.
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "fulfilled"]);
    expect(await names()).toEqual(["Acceptance", "QA", "Fourth", "Production"]);
    expect(await positions()).toEqual([0, 1, 2, 3]);
  });
});

describe("deleteEnvironment", () => {
  it("removes an environment and renumbers the rest to 0..n-1", async () => {
    const acc = await byName("Acceptance");
    await deleteEnvironment(tenant.admin, { environmentId: acc.id });
    expect(await names()).toEqual(["QA", "Production"]);
    expect(await positions()).toEqual([0, 1]);
    // The renumbered lifecycle still takes a new environment at the end.
    await expect(createEnvironment(tenant.admin, { applicationId: appId(), name: "Later" })).resolves.toMatchObject({ position: 2 });
  });

  it("refuses to remove the application's last environment", async () => {
    const [qa, acc, prod] = await environmentsOf(appId());
    await deleteEnvironment(tenant.admin, { environmentId: qa!.id });
    await deleteEnvironment(tenant.admin, { environmentId: prod!.id });
    await expectAppError(deleteEnvironment(tenant.admin, { environmentId: acc!.id }), "CONFLICT", "An application needs at least one environment.");
    expect(await names()).toEqual(["Acceptance"]);
    expect(await positions()).toEqual([0]);
  });

  it("refuses to remove an environment with deployments: they are part of the release record", async () => {
    const qa = await byName("QA");
    const release = await createReleaseRow({ applicationId: appId(), uploadedById: tenant.admin.id });
    await createDeploymentRow({ releaseId: release.id, environmentId: qa.id, status: "FAILED" });
    await expectAppError(deleteEnvironment(tenant.admin, { environmentId: qa.id }), "CONFLICT", "QA has release history and cannot be removed.");
    expect(await names()).toEqual(["QA", "Acceptance", "Production"]);
  });

  it("refuses to remove an environment that still has servers", async () => {
    const acc = await byName("Acceptance");
    await db.target.create({ data: { environmentId: acc.id, name: "node-1" } });
    await expectAppError(deleteEnvironment(tenant.admin, { environmentId: acc.id }), "CONFLICT", "Acceptance still has servers. Remove them first.");
    expect(await names()).toEqual(["QA", "Acceptance", "Production"]);
  });

  it("two removed at once leave positions 0..n-1", async () => {
    await createEnvironment(tenant.admin, { applicationId: appId(), name: "Fourth" });
    const [qa, acc] = await environmentsOf(appId());
    const results = await Promise.allSettled([
      deleteEnvironment(tenant.admin, { environmentId: qa!.id }),
      deleteEnvironment(tenant.admin, { environmentId: acc!.id }),
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "fulfilled"]);
    expect(await names()).toEqual(["Production", "Fourth"]);
    expect(await positions()).toEqual([0, 1]);
  });

  it("a removal and a move at once both apply", async () => {
    await createEnvironment(tenant.admin, { applicationId: appId(), name: "Fourth" });
    const [qa, , , fourth] = await environmentsOf(appId());
    const results = await Promise.allSettled([
      deleteEnvironment(tenant.admin, { environmentId: qa!.id }),
      reorderEnvironments(tenant.admin, { applicationId: appId(), environmentId: fourth!.id, direction: "up" }),
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "fulfilled"]);
    expect(await names()).toEqual(["Acceptance", "Fourth", "Production"]);
    expect(await positions()).toEqual([0, 1, 2]);
  });

  it("is NOT_FOUND the second time", async () => {
    const acc = await byName("Acceptance");
    await deleteEnvironment(tenant.admin, { environmentId: acc.id });
    await expectAppError(deleteEnvironment(tenant.admin, { environmentId: acc.id }), "NOT_FOUND");
  });
});
