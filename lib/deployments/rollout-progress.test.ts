import { describe, expect, it } from "vitest";
import { type ProgressStep, progressFraction, rolloutProgress, serverRolloutState } from "./rollout-progress";

const step = (targetId: string, action: ProgressStep["action"], status: ProgressStep["status"]): ProgressStep => ({ targetId, action, status });
const servers = ["a", "b", "c"];

describe("rolloutProgress", () => {
  it("counts the activations still to come, so the bar never jumps back when the next batch is created", () => {
    const staging = [step("a", "STAGE", "SUCCEEDED"), step("b", "STAGE", "RUNNING"), step("c", "STAGE", "PENDING")];
    expect(rolloutProgress("RUNNING", servers, staging)).toEqual({ done: 1, total: 6, servers: 3, updated: 0, rolledBack: 0 });

    const firstBatch = [...staging.map((s) => ({ ...s, status: "SUCCEEDED" as const })), step("a", "ACTIVATE", "RUNNING")];
    expect(rolloutProgress("RUNNING", servers, firstBatch)).toMatchObject({ done: 3, total: 6, updated: 0 });

    const secondBatch = [...firstBatch.slice(0, 3), step("a", "ACTIVATE", "SUCCEEDED"), step("b", "ACTIVATE", "PENDING")];
    expect(rolloutProgress("RUNNING", servers, secondBatch)).toMatchObject({ done: 4, total: 6, updated: 1 });
  });

  it("a finished rollout is complete whatever servers the environment has now", () => {
    const all = servers.flatMap((id) => [step(id, "STAGE", "SUCCEEDED"), step(id, "ACTIVATE", "SUCCEEDED")]);
    const p = rolloutProgress("SUCCEEDED", ["a", "b"], all);
    expect(p).toEqual({ done: 6, total: 6, servers: 3, updated: 3, rolledBack: 0 });
    expect(progressFraction(p)).toBe(1);
  });

  it("after a failure, the rollbacks still to come replace the activations that will never run", () => {
    const steps = [
      ...servers.map((id) => step(id, "STAGE", "SUCCEEDED")),
      step("a", "ACTIVATE", "SUCCEEDED"),
      step("b", "ACTIVATE", "FAILED"),
      step("a", "ROLLBACK", "RUNNING"),
    ];
    expect(rolloutProgress("ROLLING_BACK", servers, steps)).toEqual({ done: 5, total: 7, servers: 3, updated: 1, rolledBack: 0 });
    const done = [...steps.slice(0, 5), step("a", "ROLLBACK", "SUCCEEDED"), step("b", "ROLLBACK", "SUCCEEDED")];
    expect(rolloutProgress("FAILED", servers, done)).toEqual({ done: 7, total: 7, servers: 3, updated: 0, rolledBack: 2 });
  });

  it("a halted rollout waiting for its running steps adds no activations", () => {
    const steps = [step("a", "STAGE", "FAILED"), step("b", "STAGE", "RUNNING"), step("c", "STAGE", "SUCCEEDED")];
    expect(rolloutProgress("RUNNING", servers, steps)).toMatchObject({ done: 2, total: 3 });
  });

  it("a queued deployment with no steps yet shows 0 of its servers", () => {
    const p = rolloutProgress("QUEUED", servers, []);
    expect(p).toEqual({ done: 0, total: 3, servers: 3, updated: 0, rolledBack: 0 });
    expect(progressFraction(p)).toBe(0);
    expect(progressFraction({ done: 0, total: 0 })).toBe(0);
  });
});

describe("serverRolloutState", () => {
  it("names where a server stands from its latest step", () => {
    expect(serverRolloutState([])).toEqual({ label: "waiting", tone: "gray" });
    expect(serverRolloutState([step("a", "STAGE", "RUNNING")])).toEqual({ label: "staging", tone: "blue" });
    expect(serverRolloutState([step("a", "STAGE", "SUCCEEDED")])).toEqual({ label: "staged", tone: "gray" });
    expect(serverRolloutState([step("a", "STAGE", "SUCCEEDED"), step("a", "ACTIVATE", "CLAIMED")])).toEqual({ label: "updating", tone: "blue" });
    expect(serverRolloutState([step("a", "ACTIVATE", "SUCCEEDED")])).toEqual({ label: "updated", tone: "green" });
    expect(serverRolloutState([step("a", "ACTIVATE", "INTERRUPTED")])).toEqual({ label: "failed", tone: "red" });
    expect(serverRolloutState([step("a", "ACTIVATE", "FAILED"), step("a", "ROLLBACK", "PENDING")])).toEqual({ label: "to roll back", tone: "amber" });
    expect(serverRolloutState([step("a", "ACTIVATE", "FAILED"), step("a", "ROLLBACK", "RUNNING")])).toEqual({ label: "rolling back", tone: "amber" });
    expect(serverRolloutState([step("a", "ACTIVATE", "FAILED"), step("a", "ROLLBACK", "SUCCEEDED")])).toEqual({ label: "rolled back", tone: "amber" });
    expect(serverRolloutState([step("a", "ROLLBACK", "FAILED")])).toEqual({ label: "rollback failed", tone: "red" });
    expect(serverRolloutState([step("a", "ACTIVATE", "CANCELLED")])).toEqual({ label: "not updated", tone: "gray" });
  });
});
