import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Role } from "../db/generated/enums";
import { type DeploymentFacts, deploymentBlockers } from "./policy";

const SHA = "a".repeat(64);
const OTHER_SHA = "b".repeat(64);
const UPLOADER = "u-dev";

const production = {
  name: "Production",
  isProduction: true,
  requiresPreviousSuccess: true,
  requiresAcceptance: true,
  requiredApprovals: 1,
  approverRoles: ["APPROVER", "OPS"] as Role[],
  deployerRoles: ["OPS"] as Role[],
};
const qa = { ...production, name: "QA", isProduction: false, requiresPreviousSuccess: false, requiresAcceptance: false, requiredApprovals: 0, deployerRoles: ["DEVELOPER", "OPS"] as Role[] };

/** A production promotion that passes every gate; each test breaks one thing. */
function ready(over: Partial<DeploymentFacts> = {}): DeploymentFacts {
  return {
    kind: "DEPLOY",
    actorRoles: new Set<Role>(["OPS"]),
    environment: production,
    previousEnvironment: { name: "Acceptance" },
    release: { version: "1.2.0", status: "ACCEPTED", sha256: SHA, uploadedById: UPLOADER },
    succeededInPreviousEnvironment: true,
    verdicts: [{ verdict: "ACCEPTED", artifactSha256: SHA, userId: "u-cust", reason: "", userName: "Cora" }],
    approvals: [{ artifactSha256: SHA, userId: "u-appr", roles: new Set<Role>(["APPROVER"]) }],
    approverIds: ["u-appr", "u-ops"],
    activeFreeze: null,
    freezeOverrideReason: null,
    ...over,
  };
}
const codes = (f: DeploymentFacts) => deploymentBlockers(f).map((b) => b.code);

describe("deploymentBlockers", () => {
  it("lets ops promote an accepted, approved release that succeeded in acceptance", () => {
    expect(deploymentBlockers(ready())).toEqual([]);
  });

  it("only ops deploy to production, whatever the environment's deployer roles say", () => {
    for (const role of ["DEVELOPER", "CUSTOMER", "APPROVER", "AUDITOR"] as Role[]) {
      const f = ready({ actorRoles: new Set([role]), environment: { ...production, deployerRoles: ["DEVELOPER", "OPS", "APPROVER", "CUSTOMER", "AUDITOR"] } });
      expect(codes(f)).toEqual(["NOT_ALLOWED"]);
    }
    expect(deploymentBlockers(ready({ actorRoles: new Set(["DEVELOPER"]) }))[0]!.message).toBe("Only ops may deploy to Production.");
  });

  it("developers deploy to the environments before production", () => {
    expect(codes(ready({ environment: qa, previousEnvironment: null, actorRoles: new Set(["DEVELOPER"]), verdicts: [], approvals: [] }))).toEqual([]);
    expect(codes(ready({ environment: qa, previousEnvironment: null, actorRoles: new Set(["CUSTOMER"]) }))).toEqual(["NOT_ALLOWED"]);
  });

  it("a release must succeed in the previous environment first", () => {
    const [b] = deploymentBlockers(ready({ succeededInPreviousEnvironment: false }));
    expect(b).toEqual({ code: "PREVIOUS_ENVIRONMENT", message: "1.2.0 must first be deployed successfully to Acceptance." });
    // the first environment, or one configured not to require it
    expect(codes(ready({ succeededInPreviousEnvironment: false, previousEnvironment: null }))).toEqual([]);
    expect(codes(ready({ succeededInPreviousEnvironment: false, environment: { ...production, requiresPreviousSuccess: false } }))).toEqual([]);
  });

  it("production needs a customer's acceptance of these exact bytes", () => {
    expect(codes(ready({ verdicts: [] }))).toEqual(["ACCEPTANCE"]);
    expect(codes(ready({ verdicts: [{ verdict: "ACCEPTED", artifactSha256: OTHER_SHA, userId: "u-cust", reason: "", userName: "Cora" }] }))).toEqual(["ACCEPTANCE"]);
  });

  it("a rejected release cannot be promoted, and the reason is shown; a later acceptance of the same bytes counts", () => {
    const rejected = { verdict: "REJECTED" as const, artifactSha256: SHA, userId: "u-cust", reason: "checkout button broken", userName: "Cora" };
    const [b] = deploymentBlockers(ready({ verdicts: [rejected], release: { ...ready().release, status: "REJECTED" } }));
    expect(b).toEqual({ code: "REJECTED", message: "1.2.0 was rejected by Cora: checkout button broken. Next: its developers upload a fixed release candidate." });
    const typedStop = { ...rejected, reason: "The totals do not balance." };
    expect(deploymentBlockers(ready({ verdicts: [typedStop] }))[0]!.message).toBe("1.2.0 was rejected by Cora: The totals do not balance. Next: its developers upload a fixed release candidate.");
    expect(codes(ready({ verdicts: [ready().verdicts[0]!, rejected] }))).toEqual(["REJECTED"]);
    expect(codes(ready({ verdicts: [rejected, ready().verdicts[0]!] }))).toEqual([]);
  });

  it("needs N approvals on these bytes from approver roles; the uploader's own approval never counts", () => {
    const two = { ...production, requiredApprovals: 2 };
    expect(codes(ready({ environment: two }))).toEqual(["APPROVALS"]);
    expect(deploymentBlockers(ready({ environment: two }))[0]!.message).toBe("1.2.0 has 1 of 2 required approvals for Production.");
    const byUploader = { artifactSha256: SHA, userId: UPLOADER, roles: new Set<Role>(["APPROVER", "DEVELOPER"]) };
    expect(codes(ready({ approvals: [byUploader] }))).toEqual(["APPROVALS"]);
    expect(codes(ready({ approvals: [{ ...ready().approvals[0]!, artifactSha256: OTHER_SHA }] }))).toEqual(["APPROVALS"]);
    expect(codes(ready({ approvals: [{ artifactSha256: SHA, userId: "u-x", roles: new Set<Role>(["CUSTOMER"]) }] }))).toEqual(["APPROVALS"]);
    // the same person approving twice is one approval
    const a = ready().approvals[0]!;
    expect(codes(ready({ environment: two, approvals: [a, a] }))).toEqual(["APPROVALS"]);
    expect(codes(ready({ environment: two, approvals: [a, { ...a, userId: "u-ops", roles: new Set<Role>(["OPS"]) }] }))).toEqual([]);
  });

  it("says when the approvals can never come: nobody else (or too few) hold an approving role", () => {
    const waiting = { approvals: [] };
    expect(deploymentBlockers(ready(waiting))[0]!.message).toBe("1.2.0 has 0 of 1 required approval for Production.");
    // The uploader is the only approver: separation of duties leaves nobody.
    expect(deploymentBlockers(ready({ ...waiting, approverIds: [UPLOADER] }))[0]!.message).toBe(
      "1.2.0 has 0 of 1 required approval for Production. Nobody else holds the Approver or Ops role on this application: an administrator must grant it.",
    );
    expect(deploymentBlockers(ready({ ...waiting, approverIds: [], environment: { ...production, approverRoles: ["APPROVER"] } }))[0]!.message).toBe(
      "1.2.0 has 0 of 1 required approval for Production. Nobody holds the Approver role on this application: an administrator must grant it.",
    );
    // Two needed, one given, nobody left who could give the second.
    expect(deploymentBlockers(ready({ environment: { ...production, requiredApprovals: 2 }, approverIds: ["u-appr", UPLOADER] }))[0]!.message).toBe(
      "1.2.0 has 1 of 2 required approvals for Production. Too few people hold the Approver or Ops role on this application: an administrator must grant it to more.",
    );
  });

  it("a freeze blocks promotion unless ops override it with a reason", () => {
    const activeFreeze = { reason: "Black Friday", endsAt: new Date("2026-11-30T00:00:00Z") };
    expect(deploymentBlockers(ready({ activeFreeze }))).toEqual([
      { code: "FROZEN", message: "Production is frozen until 2026-11-30 00:00 UTC (Black Friday). Ops may override with a reason." },
    ]);
    expect(codes(ready({ activeFreeze, freezeOverrideReason: "   " }))).toEqual(["FROZEN"]);
    expect(codes(ready({ activeFreeze, freezeOverrideReason: "security fix CVE-2026-1" }))).toEqual([]);
    const devOnQa = ready({ environment: qa, previousEnvironment: null, actorRoles: new Set(["DEVELOPER"]), activeFreeze, freezeOverrideReason: "please" });
    expect(codes(devOnQa)).toEqual(["FROZEN"]);
  });

  it("a revert needs only the right role: not acceptance, approvals, earlier success, nor a freeze override", () => {
    const revert = ready({ kind: "REVERT", verdicts: [], approvals: [], succeededInPreviousEnvironment: false, activeFreeze: { reason: "x", endsAt: new Date() } });
    expect(codes(revert)).toEqual([]);
    expect(codes({ ...revert, actorRoles: new Set<Role>(["DEVELOPER"]) })).toEqual(["NOT_ALLOWED"]);
    expect(deploymentBlockers({ ...revert, actorRoles: new Set<Role>(["DEVELOPER"]) })[0]!.message).toBe("Only ops may revert Production.");
  });

  it("a withdrawn release goes nowhere", () => {
    expect(codes(ready({ release: { ...ready().release, status: "WITHDRAWN" } }))).toEqual(["WITHDRAWN"]);
  });

  it("never allows a production deployment that lacks ops, acceptance of these bytes, or enough approvals (random facts)", () => {
    const role = fc.constantFrom<Role>("DEVELOPER", "CUSTOMER", "APPROVER", "OPS", "AUDITOR");
    const sha = fc.constantFrom(SHA, OTHER_SHA);
    const user = fc.constantFrom(UPLOADER, "u1", "u2", "u3");
    fc.assert(
      fc.property(
        fc.uniqueArray(role),
        fc.array(fc.record({ verdict: fc.constantFrom("ACCEPTED" as const, "REJECTED" as const), artifactSha256: sha, userId: user, reason: fc.constant("r"), userName: fc.constant("n") }), { maxLength: 4 }),
        fc.array(fc.record({ artifactSha256: sha, userId: user, roles: fc.uniqueArray(role).map((r) => new Set(r)) }), { maxLength: 4 }),
        fc.integer({ min: 0, max: 3 }),
        (roles, verdicts, approvals, required) => {
          const f = ready({ actorRoles: new Set(roles), verdicts, approvals, environment: { ...production, requiredApprovals: required } });
          if (deploymentBlockers(f).length > 0) return;
          expect(roles).toContain("OPS");
          expect(verdicts.filter((x) => x.artifactSha256 === SHA).at(-1)?.verdict).toBe("ACCEPTED");
          const counted = new Set(approvals.filter((a) => a.artifactSha256 === SHA && a.userId !== UPLOADER && (a.roles.has("APPROVER") || a.roles.has("OPS"))).map((a) => a.userId));
          expect(counted.size).toBeGreaterThanOrEqual(required);
        },
      ),
    );
  });
});
