// An auditor traces a production build back to its upload: who did each step, when, and with which bytes.
import { describe, expect, it } from "vitest";
import { expectAppError } from "../../test/assertions";
import { createMember, createTenant } from "../../test/factories";
import { releaseFlow, releaseInAcceptance } from "../../test/release-flow";
import { drive, release, simulatedFleet } from "../../test/simulated-fleet";
import { recordVerdict } from "../approvals/record-verdict";
import { db } from "../db/client";
import { requestDeployment } from "../deployments/request-deployment";
import { requestRevert } from "../deployments/request-revert";
import { getReleaseEvidence } from "./get-release-evidence";

describe("a release's evidence", () => {
  it("shows the upload and the promotion to production with who and when, and that every recorded hash is the artifact's", async () => {
    const f = await simulatedFleet(2);
    const auditor = await createMember(f.tenant, "AUDITOR");
    const v1 = await release(f, "1.0.0");
    const v2 = await release(f, "2.0.0");
    await drive(f, (await requestDeployment(f.ops, { environmentId: f.environmentId, releaseId: v1.id })).deployment.id);
    // 2.0.0 fails on web-2 and web-1 is rolled back to 1.0.0: those rollback events carry 1.0.0's hash on purpose.
    const { deployment } = await requestDeployment(f.ops, { environmentId: f.environmentId, releaseId: v2.id });
    await drive(f, deployment.id, (job) => (job.action === "ACTIVATE" && job.target.name === "web-2" ? "FAILED" : "SUCCEEDED"));

    const ok = await getReleaseEvidence(auditor, v1.id);
    expect(ok.release.artifactSha256).toBe(v1.artifactSha256);
    const promoted = ok.milestones.find((m) => m.label === "Promoted to Production")!;
    expect(promoted).toMatchObject({ who: f.ops.email, sha256: v1.artifactSha256 });
    expect(promoted.at).toBeInstanceOf(Date);
    expect(ok.milestones.find((m) => m.label === "Deployed to QA")!.at).toBeNull();
    expect(ok.hashes.mismatches).toEqual([]);
    expect(ok.hashes.checked).toBeGreaterThanOrEqual(5); // requested, started, 2 staged, 2 activated, succeeded

    const failed = await getReleaseEvidence(auditor, v2.id);
    expect(failed.events.map((e) => e.type)).toEqual(expect.arrayContaining(["DEPLOYMENT_REQUESTED", "DEPLOYMENT_ROLLING_BACK", "DEPLOYMENT_FAILED"]));
    const rollbacks = failed.events.filter((e) => e.otherRelease === "1.0.0");
    expect(rollbacks.length).toBeGreaterThan(0);
    expect(rollbacks.every((e) => e.sha256 === v1.artifactSha256)).toBe(true);
    expect(failed.hashes.mismatches).toEqual([]);
  });

  it("tells the revert that took the release out of an environment, whose events carry the other build's hash on purpose", async () => {
    const f = await simulatedFleet(1);
    const auditor = await createMember(f.tenant, "AUDITOR");
    const v1 = await release(f, "1.0.0");
    const v2 = await release(f, "2.0.0");
    for (const r of [v1, v2]) await drive(f, (await requestDeployment(f.ops, { environmentId: f.environmentId, releaseId: r.id })).deployment.id);
    const { deployment } = await requestRevert(f.ops, { environmentId: f.environmentId, reason: "2.0.0 breaks checkout" });
    await drive(f, deployment.id);

    const ev = await getReleaseEvidence(auditor, v2.id);
    // In the order they happened, the steps without an event last (the test's release row was written directly,
    // without the upload's event).
    expect(ev.milestones.map((m) => m.label)).toEqual([
      "Promoted to Production",
      "Reverted in Production to 1.0.0",
      "Uploaded",
      "Deployed to QA",
      "Deployed to Acceptance",
      "Accepted by the customer",
      "Approved",
    ]);
    const reverted = ev.milestones.find((m) => m.label === "Reverted in Production to 1.0.0")!;
    expect(reverted).toMatchObject({ who: f.ops.email, sha256: v1.artifactSha256 });
    expect(reverted.at).toBeInstanceOf(Date);
    // The promotion stays the deploy's, not the revert's.
    expect(ev.milestones.find((m) => m.label === "Promoted to Production")).toMatchObject({ who: f.ops.email, sha256: v2.artifactSha256 });
    const revertEvents = ev.events.filter((e) => e.type === "REVERT_REQUESTED" || (e.otherRelease === "1.0.0" && e.type === "DEPLOYMENT_SUCCEEDED"));
    expect(revertEvents.map((e) => e.type)).toEqual(["REVERT_REQUESTED", "DEPLOYMENT_SUCCEEDED"]);
    expect(revertEvents.find((e) => e.type === "REVERT_REQUESTED")?.summary).toContain("2.0.0 breaks checkout");
    expect(ev.hashes.mismatches).toEqual([]);
  });

  it("of a rejected release: the steps in the order of the procedure, and the rejection where later steps would be", async () => {
    const f = await releaseFlow();
    const auditor = await createMember(f.tenant, "AUDITOR");
    const { release } = await releaseInAcceptance(f);
    await recordVerdict(f.customer, { releaseId: release.id, verdict: "REJECTED", reason: "Totals are wrong", artifactSha256: release.artifactSha256 });

    const ev = await getReleaseEvidence(auditor, release.id);
    // Done in time order; then the steps not taken in the procedure's order (the test's release row was written
    // directly, without the upload's event). No "Accepted" step: the rejection took its place.
    expect(ev.milestones.map((m) => [m.label, m.at ? "done" : (m.instead ?? "not yet")])).toEqual([
      ["Deployed to QA", "done"],
      ["Deployed to Acceptance", "done"],
      ["Rejected by the customer", "done"],
      ["Uploaded", "not yet"],
      ["Approved", `not taken: rejected by ${f.customer.email}`],
      ["Promoted to Production", `not taken: rejected by ${f.customer.email}`],
    ]);
  });

  it("of a release on its way: the steps not taken yet in the procedure's order, acceptance and approval before production", async () => {
    const f = await releaseFlow();
    const auditor = await createMember(f.tenant, "AUDITOR");
    const { release } = await releaseInAcceptance(f);
    const ev = await getReleaseEvidence(auditor, release.id);
    expect(ev.milestones.filter((m) => !m.at).map((m) => [m.label, m.instead])).toEqual([
      ["Uploaded", null],
      ["Accepted by the customer", null],
      ["Approved", null],
      ["Promoted to Production", null],
    ]);
  });

  it("flags an event that recorded other bytes for the same version", async () => {
    const f = await simulatedFleet(1);
    const auditor = await createMember(f.tenant, "AUDITOR");
    const r = await release(f, "1.0.0");
    await drive(f, (await requestDeployment(f.ops, { environmentId: f.environmentId, releaseId: r.id })).deployment.id);
    // The release row's hash swapped after the fact (the audit events keep what was really deployed).
    await db.release.update({ where: { id: r.id }, data: { artifactSha256: "f".repeat(64) } });
    const ev = await getReleaseEvidence(auditor, r.id);
    expect(ev.hashes.mismatches.length).toBe(ev.hashes.checked);
    expect(ev.hashes.checked).toBeGreaterThan(0);
  });

  it("is for auditors of that application only: anyone else gets not found", async () => {
    const f = await simulatedFleet(1);
    const r = await release(f, "1.0.0");
    await expectAppError(getReleaseEvidence(f.ops, r.id), "NOT_FOUND");
    const other = await createTenant();
    await expectAppError(getReleaseEvidence(await createMember(other, "AUDITOR"), r.id), "NOT_FOUND");
    await expect(getReleaseEvidence(f.tenant.admin, r.id)).resolves.toMatchObject({ release: { id: r.id } });
  });
});
