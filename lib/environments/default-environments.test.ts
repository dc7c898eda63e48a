import { describe, expect, it } from "vitest";
import { DEFAULT_ENVIRONMENTS, defaultsForNewEnvironment, PRODUCTION_BAKE_SECONDS } from "./default-environments";

// The lifecycle Releasegate is built around: QA -> Acceptance -> Production. These invariants are what the
// release policy relies on for every new application.
describe("DEFAULT_ENVIRONMENTS", () => {
  it("is QA, then Acceptance, then Production, at positions 0..n-1", () => {
    expect(DEFAULT_ENVIRONMENTS.map((e) => e.name)).toEqual(["QA", "Acceptance", "Production"]);
    expect(DEFAULT_ENVIRONMENTS.map((e) => e.position)).toEqual([0, 1, 2]);
  });

  it("has unique names and slugs", () => {
    expect(new Set(DEFAULT_ENVIRONMENTS.map((e) => e.name)).size).toBe(DEFAULT_ENVIRONMENTS.length);
    expect(new Set(DEFAULT_ENVIRONMENTS.map((e) => e.slug)).size).toBe(DEFAULT_ENVIRONMENTS.length);
    for (const e of DEFAULT_ENVIRONMENTS) expect(e.slug).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
  });

  it("has exactly one production environment, and it is last", () => {
    const production = DEFAULT_ENVIRONMENTS.filter((e) => e.isProduction);
    expect(production).toHaveLength(1);
    expect(DEFAULT_ENVIRONMENTS.at(-1)?.isProduction).toBe(true);
  });

  it("lets only OPS deploy to production", () => {
    expect(DEFAULT_ENVIRONMENTS.at(-1)?.deployerRoles).toEqual(["OPS"]);
  });

  it("requires a customer's acceptance and at least one approval for production, by roles that exist", () => {
    const production = DEFAULT_ENVIRONMENTS.at(-1)!;
    expect(production.requiresAcceptance).toBe(true);
    expect(production.requiredApprovals).toBeGreaterThanOrEqual(1);
    expect(production.approverRoles.length).toBeGreaterThan(0);
    expect(production.approverRoles).not.toContain("CUSTOMER");
    expect(production.approverRoles).not.toContain("DEVELOPER");
    expect(production.requiresPreviousSuccess).toBe(true);
  });

  it("lets any candidate into the first stage, and every later stage needs the one before", () => {
    expect(DEFAULT_ENVIRONMENTS[0]!.requiresPreviousSuccess).toBe(false);
    for (const e of DEFAULT_ENVIRONMENTS.slice(1)) expect(e.requiresPreviousSuccess, e.name).toBe(true);
  });

  it("puts the acceptance gate right after an environment a customer can test in", () => {
    const gated = DEFAULT_ENVIRONMENTS.findIndex((e) => e.requiresAcceptance);
    expect(gated).toBeGreaterThan(0);
    expect(DEFAULT_ENVIRONMENTS[gated - 1]!.isProduction).toBe(false);
  });

  it("has no gates on test environments, and every environment has someone who may deploy", () => {
    for (const e of DEFAULT_ENVIRONMENTS.filter((x) => !x.isProduction)) {
      expect(e.requiresAcceptance, e.name).toBe(false);
      expect(e.requiredApprovals, e.name).toBe(0);
    }
    for (const e of DEFAULT_ENVIRONMENTS) {
      expect(e.deployerRoles.length, e.name).toBeGreaterThan(0);
      expect(e.batchSize, e.name).toBeGreaterThanOrEqual(1);
      if (e.requiredApprovals > 0) expect(e.approverRoles.length, e.name).toBeGreaterThan(0);
    }
  });

  it("rolls production out in batches rather than all at once", () => {
    expect(DEFAULT_ENVIRONMENTS.at(-1)?.strategy).toBe("ROLLING");
  });

  it("watches each production node after it returns to rotation, and test environments not at all", () => {
    expect(DEFAULT_ENVIRONMENTS.at(-1)?.bakeSeconds).toBe(PRODUCTION_BAKE_SECONDS);
    expect(PRODUCTION_BAKE_SECONDS).toBeGreaterThan(0);
    for (const e of DEFAULT_ENVIRONMENTS.filter((x) => !x.isProduction)) expect(e.bakeSeconds, e.name).toBe(0);
  });
});

describe("defaultsForNewEnvironment", () => {
  it("is an ungated test stage at the given place", () => {
    const e = defaultsForNewEnvironment("Staging", "staging", 3);
    expect(e).toMatchObject({
      name: "Staging",
      slug: "staging",
      position: 3,
      isProduction: false,
      requiresPreviousSuccess: true,
      requiresAcceptance: false,
      requiredApprovals: 0,
      approverRoles: [],
      bakeSeconds: 0,
    });
    expect(e.deployerRoles.length).toBeGreaterThan(0);
    expect(e.deployerRoles).not.toContain("CUSTOMER");
  });

  it("returns fresh arrays, so changing one environment's roles cannot change another's", () => {
    const a = defaultsForNewEnvironment("A", "a", 0);
    const b = defaultsForNewEnvironment("B", "b", 1);
    a.deployerRoles.push("AUDITOR");
    expect(b.deployerRoles).not.toContain("AUDITOR");
  });
});
