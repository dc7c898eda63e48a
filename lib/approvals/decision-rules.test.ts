import { describe, expect, it } from "vitest";
import type { Role } from "../db/generated/enums";
import { type ApprovalFacts, approvalRefusal, type ReleaseStatusName, type VerdictFacts, verdictRefusal } from "./decision-rules";

const ME = "me";
const DEV = "dev";
const STATUSES: ReleaseStatusName[] = ["CANDIDATE", "ACCEPTED", "REJECTED", "APPROVED", "RELEASED", "WITHDRAWN", "REVERTED", "SUPERSEDED"];

const verdict = (o: Partial<VerdictFacts> & { status?: ReleaseStatusName } = {}): VerdictFacts => ({
  verdict: "ACCEPTED",
  actorId: ME,
  release: { version: "1.2.0", status: o.status ?? "CANDIDATE", uploadedById: DEV },
  acceptance: { name: "Acceptance" },
  deployedToAcceptance: true,
  acceptanceRuns: "this",
  latestVerdict: null,
  ...o,
});

describe("verdictRefusal", () => {
  it("a customer may accept or reject a candidate that runs in acceptance", () => {
    expect(verdictRefusal(verdict())).toBeNull();
    expect(verdictRefusal(verdict({ verdict: "REJECTED" }))).toBeNull();
  });

  it("the uploader never may, in any status, and that is said first", () => {
    for (const status of STATUSES) {
      for (const v of ["ACCEPTED", "REJECTED"] as const) {
        expect(verdictRefusal(verdict({ verdict: v, status, actorId: DEV, deployedToAcceptance: false }))).toEqual({
          code: "FORBIDDEN",
          message: "You uploaded 1.2.0, so you can neither accept nor approve it: another person must (separation of duties).",
        });
      }
    }
  });

  it("acceptance is only of a candidate; a rejection also stops an accepted or approved release", () => {
    const allowed = { ACCEPTED: ["CANDIDATE"], REJECTED: ["CANDIDATE", "ACCEPTED", "APPROVED"] };
    for (const v of ["ACCEPTED", "REJECTED"] as const) {
      for (const status of STATUSES) {
        const r = verdictRefusal(verdict({ verdict: v, status }));
        if (allowed[v].includes(status)) expect(r, `${v} from ${status}`).toBeNull();
        else expect(r?.code, `${v} from ${status}`).toBe("CONFLICT");
      }
    }
  });

  it("says who decided before", () => {
    expect(verdictRefusal(verdict({ status: "REJECTED", latestVerdict: { verdict: "REJECTED", userName: "Cleo", reason: "Checkout is broken" } }))?.message).toBe(
      "1.2.0 was rejected by Cleo: Checkout is broken. Next: its developers upload a fixed release candidate.",
    );
    // The reason as typed, full stop included, and not a second one.
    expect(verdictRefusal(verdict({ status: "REJECTED", latestVerdict: { verdict: "REJECTED", userName: "Cleo", reason: "The totals do not balance." } }))?.message).toBe(
      "1.2.0 was rejected by Cleo: The totals do not balance. Next: its developers upload a fixed release candidate.",
    );
    expect(verdictRefusal(verdict({ status: "ACCEPTED", latestVerdict: { verdict: "ACCEPTED", userName: "Cleo", reason: "" } }))?.message).toBe(
      "1.2.0 was already accepted by Cleo.",
    );
    expect(verdictRefusal(verdict({ status: "RELEASED", verdict: "REJECTED" }))?.message).toBe("1.2.0 is live in production.");
    // Not "live" once production runs another release: reverted, or replaced the normal way.
    expect(verdictRefusal(verdict({ status: "REVERTED", verdict: "REJECTED" }))?.message).toBe("1.2.0 was live in production and was reverted.");
    expect(approvalRefusal(approval({ status: "REVERTED" }))?.message).toBe("1.2.0 was live in production and was reverted.");
    expect(verdictRefusal(verdict({ status: "SUPERSEDED", verdict: "REJECTED" }))?.message).toBe("1.2.0 was live in production and has been replaced by another release.");
  });

  it("needs a successful deployment to the acceptance environment, and such an environment", () => {
    expect(verdictRefusal(verdict({ deployedToAcceptance: false }))).toEqual({
      code: "PRECONDITION_FAILED",
      message: "1.2.0 has not been deployed successfully to Acceptance yet: it can be judged once it runs there.",
    });
    expect(verdictRefusal(verdict({ acceptance: null }))?.code).toBe("PRECONDITION_FAILED");
  });

  it("accepts only what acceptance runs now; a release replaced or reverted away there may still be rejected", () => {
    expect(verdictRefusal(verdict({ acceptanceRuns: { version: "1.3.0" } }))).toEqual({
      code: "PRECONDITION_FAILED",
      message: "1.2.0 no longer runs in Acceptance (it runs 1.3.0 now): only the release running there can be accepted.",
    });
    expect(verdictRefusal(verdict({ acceptanceRuns: null }))?.message).toBe("1.2.0 no longer runs in Acceptance: only the release running there can be accepted.");
    expect(verdictRefusal(verdict({ verdict: "REJECTED", acceptanceRuns: { version: "1.3.0" } }))).toBeNull();
  });
});

const approval = (o: Partial<ApprovalFacts> & { status?: ReleaseStatusName; roles?: Role[] } = {}): ApprovalFacts => ({
  actorId: ME,
  actorRoles: new Set(o.roles ?? ["APPROVER"]),
  release: { version: "1.2.0", status: o.status ?? "ACCEPTED", uploadedById: DEV },
  environment: { name: "Production", requiredApprovals: 1, approverRoles: ["APPROVER", "OPS"] },
  alreadyApproved: false,
  latestVerdict: null,
  ...o,
});

describe("approvalRefusal", () => {
  it("an approver or ops may approve an accepted release", () => {
    expect(approvalRefusal(approval())).toBeNull();
    expect(approvalRefusal(approval({ roles: ["OPS"] }))).toBeNull();
  });

  it("the environment's approverRoles decide, whatever the permission matrix allows", () => {
    const env = { name: "Production", requiredApprovals: 1, approverRoles: ["APPROVER"] as Role[] };
    expect(approvalRefusal(approval({ roles: ["OPS"], environment: env }))).toEqual({ code: "FORBIDDEN", message: "Only approvers may approve releases for Production." });
    expect(approvalRefusal(approval({ roles: ["DEVELOPER", "CUSTOMER"] }))?.message).toBe("Only approvers or ops may approve releases for Production.");
  });

  it("the uploader never may, even holding every role", () => {
    for (const status of STATUSES) {
      expect(approvalRefusal(approval({ actorId: DEV, status, roles: ["DEVELOPER", "CUSTOMER", "APPROVER", "OPS"] }))?.message).toMatch(/^You uploaded 1\.2\.0/);
    }
  });

  it("only an accepted release, once per person", () => {
    for (const status of STATUSES.filter((s) => s !== "ACCEPTED")) expect(approvalRefusal(approval({ status }))?.code, status).toMatch(/CONFLICT|PRECONDITION_FAILED/);
    expect(approvalRefusal(approval({ status: "CANDIDATE" }))).toEqual({ code: "PRECONDITION_FAILED", message: "1.2.0 needs a customer's acceptance first." });
    expect(approvalRefusal(approval({ alreadyApproved: true }))).toEqual({ code: "CONFLICT", message: "You already approved 1.2.0 for Production." });
  });

  it("there is nothing to approve where no approvals are required", () => {
    expect(approvalRefusal(approval({ environment: { name: "Production", requiredApprovals: 0, approverRoles: ["APPROVER"] } }))?.code).toBe("PRECONDITION_FAILED");
    expect(approvalRefusal(approval({ environment: null }))?.code).toBe("PRECONDITION_FAILED");
  });
});
