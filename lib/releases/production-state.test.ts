import { describe, expect, it } from "vitest";
import { type ProductionEnvironmentHistory, productionState, productionStatus } from "./production-state";

const EU = { id: "env-eu", name: "Production EU" };
const US = { id: "env-us", name: "Production US" };
const at = (minute: number) => new Date(Date.UTC(2026, 11, 7, 10, minute));
const takeOut = (kind: "DEPLOY" | "REVERT", minute: number, version = "1.0.0") => ({
  id: `d-${minute}`,
  kind,
  finishedAt: at(minute),
  release: { id: `r-${version}`, version },
  requestedBy: { name: "Olga Ops" },
  reason: kind === "REVERT" ? "Checkout errors" : "",
});
const h = (environment: { id: string; name: string }, arrivedAt: Date | null, takenOutBy: ProductionEnvironmentHistory["takenOutBy"] = null): ProductionEnvironmentHistory => ({
  environment,
  arrivedAt,
  takenOutBy,
});

describe("productionState", () => {
  it("never there: no arrival in any production environment", () => {
    expect(productionState([])).toEqual({ state: "never" });
    expect(productionState([h(EU, null), h(US, null)])).toEqual({ state: "never" });
    expect(productionStatus({ state: "never" })).toBeNull();
  });

  it("live wherever it arrived and nothing came after it", () => {
    const s = productionState([h(EU, at(1)), h(US, null)]);
    expect(s).toEqual({ state: "live", environments: [EU] });
    expect(productionStatus(s)).toBe("RELEASED");
  });

  it("live in one production environment counts, whatever happened in another", () => {
    expect(productionState([h(EU, at(1), takeOut("REVERT", 5)), h(US, at(2))])).toEqual({ state: "live", environments: [US] });
  });

  it("reverted: when, by whom, why and back to what", () => {
    const s = productionState([h(EU, at(1), takeOut("REVERT", 5))]);
    expect(s).toEqual({ state: "reverted", environment: EU, at: at(5), by: "Olga Ops", reason: "Checkout errors", to: { id: "r-1.0.0", version: "1.0.0" }, deploymentId: "d-5" });
    expect(productionStatus(s)).toBe("REVERTED");
  });

  it("superseded when a deployment of another release replaced it, not reverted", () => {
    const s = productionState([h(EU, at(1), takeOut("DEPLOY", 5, "1.2.0"))]);
    expect(s).toMatchObject({ state: "superseded", to: { version: "1.2.0" }, by: "Olga Ops" });
    expect(productionStatus(s)).toBe("SUPERSEDED");
  });

  it("out of every production environment: the latest take-out says how it left", () => {
    expect(productionState([h(EU, at(1), takeOut("REVERT", 5)), h(US, at(2), takeOut("DEPLOY", 9, "1.3.0"))])).toMatchObject({ state: "superseded", environment: US });
    expect(productionState([h(EU, at(1), takeOut("REVERT", 12)), h(US, at(2), takeOut("DEPLOY", 9, "1.3.0"))])).toMatchObject({ state: "reverted", environment: EU });
  });

  it("reverted to a build Releasegate did not deploy: to is null", () => {
    expect(productionState([h(EU, at(1), { ...takeOut("REVERT", 4), release: null })])).toMatchObject({ state: "reverted", to: null });
  });

  it("a pipeline's deployment has no person: by is null", () => {
    expect(productionState([h(EU, at(1), { ...takeOut("DEPLOY", 3, "2.0.0"), requestedBy: null })])).toMatchObject({ state: "superseded", by: null });
  });
});
