import { describe, expect, it } from "vitest";
import { acceptanceEnvironment, approvalEnvironment, notesTitle, productionEnvironment, type StageEnvironment } from "./stages";

let n = 0;
const env = (name: string, o: Partial<StageEnvironment> = {}): StageEnvironment => ({
  id: `id-${name}`,
  name,
  position: n++,
  isProduction: false,
  requiresAcceptance: false,
  requiredApprovals: 0,
  ...o,
});

describe("acceptanceEnvironment", () => {
  it("is the environment just before the one that requires acceptance (the default lifecycle)", () => {
    const envs = [env("QA"), env("Acceptance"), env("Production", { isProduction: true, requiresAcceptance: true, requiredApprovals: 1 })];
    expect(acceptanceEnvironment(envs)?.name).toBe("Acceptance");
  });

  it("follows the gate, not the names or the order the rows come in", () => {
    const [qa, staging, uat, prod] = [
      env("QA"),
      env("Staging"),
      env("UAT"),
      env("Production", { isProduction: true }),
    ];
    // The gate sits on UAT here: customers test in Staging before UAT.
    uat!.requiresAcceptance = true;
    expect(acceptanceEnvironment([prod!, uat!, qa!, staging!])?.name).toBe("Staging");
  });

  it("without an acceptance gate, is the environment before production", () => {
    expect(acceptanceEnvironment([env("QA"), env("Pre-prod"), env("Live", { isProduction: true })])?.name).toBe("Pre-prod");
  });

  it("is none when the gate or production comes first, or there is neither", () => {
    expect(acceptanceEnvironment([env("Production", { isProduction: true, requiresAcceptance: true }), env("Later")])).toBeNull();
    expect(acceptanceEnvironment([env("QA"), env("Demo")])).toBeNull();
    expect(acceptanceEnvironment([])).toBeNull();
  });
});

describe("approvalEnvironment and productionEnvironment", () => {
  it("approvals are for the first environment that requires them, else production", () => {
    const envs = [env("QA"), env("Acceptance"), env("Production", { isProduction: true, requiredApprovals: 2 })];
    expect(approvalEnvironment(envs)?.name).toBe("Production");
    const gated = [env("QA"), env("Pre-prod", { requiredApprovals: 1 }), env("Production", { isProduction: true })];
    expect(approvalEnvironment(gated)?.name).toBe("Pre-prod");
    expect(approvalEnvironment([env("QA"), env("Live", { isProduction: true })])?.name).toBe("Live");
    expect(approvalEnvironment([env("QA")])).toBeNull();
  });

  it("production is the first environment marked so", () => {
    expect(productionEnvironment([env("QA"), env("EU", { isProduction: true }), env("US", { isProduction: true })])?.name).toBe("EU");
    expect(productionEnvironment([env("QA")])).toBeNull();
  });
});

describe("notesTitle", () => {
  it("takes the first non-empty line without Markdown markers", () => {
    expect(notesTitle("\n\n## Faster checkout\n\nDetails follow")).toBe("Faster checkout");
    expect(notesTitle("- Fixes login\n- More")).toBe("Fixes login");
    expect(notesTitle("> quoted")).toBe("quoted");
    expect(notesTitle("   ")).toBe("");
  });

  it("skips a line that only names the release (its version is shown beside the title already)", () => {
    expect(notesTitle("## 1.2.0\n\n- Wish lists\n- Gift cards at checkout", "1.2.0")).toBe("Wish lists");
    expect(notesTitle("Release 1.2.0", "1.2.0")).toBe("");
    expect(notesTitle("# v1.2.0 (2026-12-01)\nFaster search", "1.2.0")).toBe("Faster search");
    expect(notesTitle("Version 1.2.0:", "1.2.0")).toBe("");
    expect(notesTitle("1.2.0 adds wish lists", "1.2.0")).toBe("1.2.0 adds wish lists");
    expect(notesTitle("## 1.2.0", "1.3.0")).toBe("1.2.0");
  });

  it("shortens a long line", () => {
    const t = notesTitle("x".repeat(300), undefined, 20);
    expect(t).toHaveLength(20);
    expect(t.endsWith("…")).toBe(true);
  });
});
