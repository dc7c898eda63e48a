import { describe, expect, it } from "vitest";
import type { ReleaseStatus } from "../db/generated/enums";
import { type AskFacts, resolveAsk } from "./ask-resolution";

const at = (day: number) => new Date(Date.UTC(2026, 11, day));
const ME = "u-me";
const facts = (o: Partial<AskFacts> & { status?: ReleaseStatus } = {}): AskFacts => ({
  release: { id: "r-14", version: "1.4.0", status: o.status ?? "CANDIDATE", createdAt: at(10) },
  latestVerdict: null,
  approvals: { userIds: new Set(), required: 1 },
  acceptanceRuns: { id: "r-14", version: "1.4.0", environment: "Acceptance" },
  productionRuns: { id: "r-13", version: "1.3.0", createdAt: at(5) },
  newerUpload: null,
  ...o,
});
const newerInProduction = { productionRuns: { id: "r-15", version: "1.5.0", createdAt: at(12) } };

describe("resolveAsk", () => {
  it("test: stands while it runs in acceptance without a verdict", () => {
    expect(resolveAsk("TEST", ME, facts())).toBeNull();
  });
  it("test: done by anyone's verdict, moot once acceptance runs something else, production a newer release, or it was withdrawn", () => {
    expect(resolveAsk("TEST", ME, facts({ latestVerdict: { verdict: "ACCEPTED", by: "Cleo" } }))).toEqual({ state: "done", note: "Accepted by Cleo." });
    expect(resolveAsk("TEST", ME, facts({ latestVerdict: { verdict: "REJECTED", by: "Cleo" }, status: "REJECTED" }))).toEqual({ state: "done", note: "Rejected by Cleo." });
    expect(resolveAsk("TEST", ME, facts({ acceptanceRuns: { id: "r-15", version: "1.5.0", environment: "Acceptance" } }))).toEqual({ state: "moot", note: "Acceptance now runs 1.5.0." });
    expect(resolveAsk("TEST", ME, facts({ acceptanceRuns: null }))).toEqual({ state: "moot", note: "1.4.0 no longer runs in acceptance." });
    expect(resolveAsk("TEST", ME, facts(newerInProduction))).toEqual({ state: "moot", note: "Production already runs 1.5.0." });
    expect(resolveAsk("TEST", ME, facts({ status: "WITHDRAWN" }))).toEqual({ state: "moot", note: "1.4.0 was withdrawn." });
  });
  it("approve: stands for an accepted release without enough approvals", () => {
    expect(resolveAsk("APPROVE", ME, facts({ status: "ACCEPTED" }))).toBeNull();
    expect(resolveAsk("APPROVE", ME, facts({ status: "ACCEPTED", approvals: { userIds: new Set(["u-other"]), required: 2 } }))).toBeNull();
  });
  it("approve: done when they approved, when enough others did, once in production; moot when rejected or overtaken", () => {
    expect(resolveAsk("APPROVE", ME, facts({ status: "ACCEPTED", approvals: { userIds: new Set([ME]), required: 2 } }))).toEqual({ state: "done", note: "You approved it." });
    expect(resolveAsk("APPROVE", ME, facts({ status: "APPROVED", approvals: { userIds: new Set(["u-other"]), required: 1 } }))).toEqual({ state: "done", note: "Approved (1 of 1)." });
    // What happened in production, not "deployed" for a release taken out again.
    expect(resolveAsk("APPROVE", ME, facts({ status: "RELEASED" }))).toEqual({ state: "done", note: "Live in production." });
    expect(resolveAsk("APPROVE", ME, facts({ status: "REVERTED" }))).toEqual({ state: "moot", note: "Reverted in production." });
    expect(resolveAsk("APPROVE", ME, facts({ status: "SUPERSEDED" }))).toEqual({ state: "moot", note: "Was live in production, since replaced." });
    expect(resolveAsk("APPROVE", ME, facts({ status: "REJECTED", latestVerdict: { verdict: "REJECTED", by: "Cleo" } }))).toEqual({ state: "moot", note: "Rejected by Cleo." });
    expect(resolveAsk("APPROVE", ME, facts({ status: "ACCEPTED", ...newerInProduction }))).toEqual({ state: "moot", note: "Production already runs 1.5.0." });
  });
  it("promote: stands until it reaches production; done then, moot when rejected, withdrawn or overtaken", () => {
    expect(resolveAsk("PROMOTE", ME, facts({ status: "APPROVED" }))).toBeNull();
    expect(resolveAsk("PROMOTE", ME, facts({ status: "RELEASED" }))).toEqual({ state: "done", note: "Live in production." });
    expect(resolveAsk("PROMOTE", ME, facts({ status: "REVERTED" }))).toEqual({ state: "done", note: "Promoted, then reverted in production." });
    expect(resolveAsk("PROMOTE", ME, facts({ status: "SUPERSEDED" }))).toEqual({ state: "done", note: "Promoted, since replaced in production." });
    expect(resolveAsk("PROMOTE", ME, facts({ status: "REJECTED" }))).toEqual({ state: "moot", note: "Rejected." });
    expect(resolveAsk("PROMOTE", ME, facts({ status: "APPROVED", ...newerInProduction }))).toEqual({ state: "moot", note: "Production already runs 1.5.0." });
    // The release running there now is not "newer than itself".
    expect(resolveAsk("PROMOTE", ME, facts({ status: "APPROVED", productionRuns: { id: "r-14", version: "1.4.0", createdAt: at(10) } }))).toBeNull();
  });
  it("fix: stands until a newer release is uploaded", () => {
    expect(resolveAsk("FIX", ME, facts({ status: "REJECTED" }))).toBeNull();
    expect(resolveAsk("FIX", ME, facts({ status: "REJECTED", newerUpload: { version: "1.4.1" } }))).toEqual({ state: "done", note: "1.4.1 was uploaded since." });
  });
});
