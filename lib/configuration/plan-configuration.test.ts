import { describe, expect, it } from "vitest";
import type { TConfigurationDocument } from "./configuration-document";
import { planConfiguration } from "./plan-configuration";

const env = (over: Partial<TConfigurationDocument["environments"][number]> = {}): TConfigurationDocument["environments"][number] => ({
  name: "Production",
  policy: { url: null, isProduction: true, requiresPreviousSuccess: true, requiresAcceptance: true, requiredApprovals: 1, approverRoles: ["APPROVER"], deployerRoles: ["OPS"] },
  rollout: {
    strategy: "ROLLING", batchSize: 1, autoRollback: true, healthCheckUrl: null, healthCheckExpectsVersion: false, healthCheckFailAfter5xx: 3,
    stopCommand: null, startCommand: null, backupCommand: null, migrateCommand: null, validateCommand: null, maintenanceOnCommand: null, maintenanceOffCommand: null,
    hookTimeoutSeconds: 120, keepReleases: 5, persistentPaths: [],
  },
  sites: [],
  siteRollout: { siteOrder: "CHOSEN", siteFloor: 0, pauseAfterFirstSite: false },
  balancers: [],
  servers: [],
  ...over,
});
const doc = (...environments: TConfigurationDocument["environments"]): TConfigurationDocument => ({ format: "releasegate.application/v1", environments });

describe("planConfiguration", () => {
  it("nothing to do for the same file", () => {
    expect(planConfiguration(doc(env()), doc(env()))).toEqual({ changes: [], notes: [], errors: [] });
  });

  it("a command balancer's membership without a name uses the server's own name, so reading it back changes nothing", () => {
    const cloud = { name: "cloud", kind: "HOOK" as const, drainCommand: "off", undrainCommand: "on" };
    const have = env({ balancers: [cloud], servers: [{ name: "web-1", behind: [{ balancer: "cloud", server: "web-1" }] }] });
    const want = env({ balancers: [cloud], servers: [{ name: "web-1", behind: [{ balancer: "cloud" }] }] });
    expect(planConfiguration(doc(have), doc(want)).changes).toEqual([]);
  });

  it("a renamed membership is taken off and put back; a removed balancer takes its memberships without a word more", () => {
    const a = { name: "a", kind: "HAPROXY" as const, address: "/a.sock" };
    const b = { name: "b", kind: "HAPROXY" as const, address: "/b.sock" };
    const have = env({ balancers: [a, b], servers: [{ name: "web-1", behind: [{ balancer: "a", backend: "be", server: "w1" }, { balancer: "b", backend: "be", server: "w1" }] }] });
    const want = env({ balancers: [a], servers: [{ name: "web-1", behind: [{ balancer: "a", backend: "be", server: "web1" }] }] });
    expect(planConfiguration(doc(have), doc(want)).changes.map((c) => c.type)).toEqual(["balancer.remove", "member.remove", "member.add"]);
  });

  it("names every problem of a file at once", () => {
    const want = env({ servers: [{ name: "web-1", behind: [{ balancer: "x" }] }, { name: "web-1", behind: [] }] });
    expect(planConfiguration(doc(env()), doc(want, env({ name: "Staging" }))).errors).toEqual([
      "environment Production, server web-1, behind x: the file lists no balancer x in Production.",
      "environment Production: server web-1 is listed twice.",
      "The application has no environment Staging: an administrator adds environments on the application's settings page.",
    ]);
  });
});
