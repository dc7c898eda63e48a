import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { effectiveBatchSize, type PlanAction, type PlanInput, type PlanStep, planRollout, type StepStatus } from "./planner";

const targets = (n: number, staged: string[] = []) =>
  Array.from({ length: n }, (_, i) => ({ id: `t${i + 1}`, name: `web-${i + 1}`, stagedReleaseIds: staged }));

function input(over: Partial<PlanInput["deployment"]> = {}, n = 3, steps: PlanStep[] = [], staged: string[] = []): PlanInput {
  return {
    deployment: { status: "RUNNING", strategy: "ROLLING", batchSize: 1, autoRollback: true, releaseId: "new", previousReleaseId: "old", cancelRequested: false, ...over },
    targets: targets(n, staged),
    steps,
  };
}

let nextId = 0;
const step = (targetId: string, action: PlanStep["action"], status: StepStatus, batch = 0, message: string | null = null): PlanStep => ({
  id: `s${++nextId}`, targetId, action, status, batch, message,
});

const created = (actions: PlanAction[]) => actions.flatMap((a) => (a.type === "createSteps" ? a.steps : []));
const status = (actions: PlanAction[]) => actions.find((a) => a.type === "setStatus");

describe("effectiveBatchSize", () => {
  it("keeps one node serving during a rolling deployment", () => {
    expect(effectiveBatchSize("ROLLING", 1, 3)).toBe(1);
    expect(effectiveBatchSize("ROLLING", 5, 3)).toBe(2);
    expect(effectiveBatchSize("ROLLING", 2, 2)).toBe(1);
    expect(effectiveBatchSize("ROLLING", 3, 1)).toBe(1);
    expect(effectiveBatchSize("ALL_AT_ONCE", 1, 4)).toBe(4);
  });
});

describe("starting a deployment", () => {
  it("stages the release on every node first", () => {
    const a = planRollout(input({ status: "QUEUED" }));
    expect(status(a)).toEqual({ type: "setStatus", status: "RUNNING" });
    expect(created(a)).toEqual(["t1", "t2", "t3"].map((targetId) => ({ targetId, action: "STAGE", batch: 0 })));
  });

  it("skips staging on nodes that already hold the release (a revert) and activates the first batch", () => {
    const a = planRollout(input({ status: "QUEUED" }, 3, [], ["new"]));
    expect(created(a)).toEqual([{ targetId: "t1", action: "ACTIVATE", batch: 1 }]);
  });

  it("fails an environment without servers with a readable reason", () => {
    expect(status(planRollout(input({ status: "QUEUED" }, 0)))).toEqual({ type: "setStatus", status: "FAILED", failureReason: "The environment has no servers." });
  });

  it("does nothing for scheduled or finished deployments", () => {
    for (const s of ["SCHEDULED", "SUCCEEDED", "FAILED", "CANCELLED"] as const) expect(planRollout(input({ status: s }))).toEqual([]);
  });
});

describe("a rolling deployment", () => {
  const staged = () => ["t1", "t2", "t3"].map((t) => step(t, "STAGE", "SUCCEEDED"));

  it("waits until every node is staged before draining any", () => {
    const steps = [step("t1", "STAGE", "SUCCEEDED"), step("t2", "STAGE", "RUNNING"), step("t3", "STAGE", "SUCCEEDED")];
    expect(planRollout(input({}, 3, steps))).toEqual([]);
  });

  it("activates one batch at a time", () => {
    expect(created(planRollout(input({}, 3, staged())))).toEqual([{ targetId: "t1", action: "ACTIVATE", batch: 1 }]);
    const during = [...staged(), step("t1", "ACTIVATE", "RUNNING", 1)];
    expect(planRollout(input({}, 3, during))).toEqual([]);
    const after1 = [...staged(), step("t1", "ACTIVATE", "SUCCEEDED", 1)];
    expect(created(planRollout(input({}, 3, after1)))).toEqual([{ targetId: "t2", action: "ACTIVATE", batch: 2 }]);
  });

  it("uses the batch size, but never all nodes", () => {
    expect(created(planRollout(input({ batchSize: 2 }, 4, ["t1", "t2", "t3", "t4"].map((t) => step(t, "STAGE", "SUCCEEDED")))))).toHaveLength(2);
    expect(created(planRollout(input({ batchSize: 9 }, 3, staged())))).toHaveLength(2);
  });

  it("succeeds when every node is activated", () => {
    const done = [...staged(), ...["t1", "t2", "t3"].map((t, i) => step(t, "ACTIVATE", "SUCCEEDED", i + 1))];
    expect(planRollout(input({}, 3, done))).toEqual([{ type: "setStatus", status: "SUCCEEDED" }]);
  });

  it("activates everything at once for ALL_AT_ONCE", () => {
    expect(created(planRollout(input({ strategy: "ALL_AT_ONCE" }, 3, staged())))).toHaveLength(3);
  });
});

describe("failures", () => {
  const staged = (n = 3) => ["t1", "t2", "t3"].slice(0, n).map((t) => step(t, "STAGE", "SUCCEEDED"));

  it("a failed stage ends the deployment before any node is drained", () => {
    const steps = [step("t1", "STAGE", "SUCCEEDED"), step("t2", "STAGE", "FAILED", 0, "sha256 mismatch"), step("t3", "STAGE", "SUCCEEDED")];
    expect(planRollout(input({}, 3, steps))).toEqual([{ type: "setStatus", status: "FAILED", failureReason: "web-2: staging the release failed: sha256 mismatch." }]);
  });

  it("waits for running stages to finish before ending, and cancels pending ones", () => {
    const p = step("t3", "STAGE", "PENDING");
    const steps = [step("t1", "STAGE", "FAILED", 0, "disk full"), step("t2", "STAGE", "RUNNING"), p];
    expect(planRollout(input({}, 3, steps))).toEqual([{ type: "cancelSteps", stepIds: [p.id] }]);
  });

  it("rolls back the node whose health check failed, then ends FAILED with the reason", () => {
    const failed = [...staged(), step("t1", "ACTIVATE", "FAILED", 1, "health check: HTTP 500")];
    const a = planRollout(input({}, 3, failed));
    expect(status(a)).toEqual({ type: "setStatus", status: "ROLLING_BACK", failureReason: "web-1: activating the release failed: health check: HTTP 500." });
    expect(created(a)).toEqual([{ targetId: "t1", action: "ROLLBACK", batch: 1 }]);
    const rolled = [...failed, step("t1", "ROLLBACK", "SUCCEEDED", 1)];
    expect(planRollout(input({ status: "ROLLING_BACK" }, 3, rolled))).toEqual([
      { type: "setStatus", status: "FAILED", failureReason: "web-1: activating the release failed: health check: HTTP 500. Rolled back to the previous release: web-1." },
    ]);
  });

  it("does not say a node was left behind on the new release once it was rolled back", () => {
    const failed = [...staged(), step("t1", "ACTIVATE", "SUCCEEDED", 1), step("t2", "ACTIVATE", "FAILED", 2, 'Hook "start" timed out after 5s. Left behind on web-2: it runs 2.6.0.')];
    // While rolling back, it is true.
    expect(status(planRollout(input({}, 3, failed)))).toMatchObject({ failureReason: 'web-2: activating the release failed: Hook "start" timed out after 5s. Left behind on web-2: it runs 2.6.0.' });
    const rolled = [...failed, step("t2", "ROLLBACK", "SUCCEEDED", 1), step("t1", "ROLLBACK", "SUCCEEDED", 2)];
    expect(status(planRollout(input({ status: "ROLLING_BACK" }, 3, rolled)))).toEqual({
      type: "setStatus",
      status: "FAILED",
      failureReason: 'web-2: activating the release failed: Hook "start" timed out after 5s. Rolled back to the previous release: web-1, web-2.',
    });
    // Its rollback failed: what the failure left there is still the last word on it.
    const stuck = [...failed, step("t2", "ROLLBACK", "FAILED", 1, "previous release missing")];
    expect(status(planRollout(input({ status: "ROLLING_BACK" }, 3, stuck)))).toMatchObject({
      failureReason: expect.stringMatching(/^web-2: activating the release failed: Hook "start" timed out after 5s\. Left behind on web-2: it runs 2\.6\.0\. The rollback failed on web-2/),
    });
  });

  it("rolls back every touched node, one batch at a time, the failed (already drained) node first", () => {
    // t2 failed and is out of rotation; t1 serves the new release. Taking t1 out first would leave only t3 serving
    // (and none at all in a two-node fleet), so t2 goes back first.
    const steps = [...staged(), step("t1", "ACTIVATE", "SUCCEEDED", 1), step("t2", "ACTIVATE", "FAILED", 2, "timeout")];
    expect(created(planRollout(input({}, 3, steps)))).toEqual([{ targetId: "t2", action: "ROLLBACK", batch: 1 }]);
    const next = [...steps, step("t2", "ROLLBACK", "SUCCEEDED", 1)];
    expect(created(planRollout(input({ status: "ROLLING_BACK" }, 3, next)))).toEqual([{ targetId: "t1", action: "ROLLBACK", batch: 2 }]);
  });

  it("in a two-node fleet, never has both nodes out: the broken one returns before the healthy one leaves", () => {
    const steps = [...staged(2), step("t1", "ACTIVATE", "SUCCEEDED", 1), step("t2", "ACTIVATE", "INTERRUPTED", 2)];
    expect(created(planRollout(input({}, 2, steps)))).toEqual([{ targetId: "t2", action: "ROLLBACK", batch: 1 }]);
  });

  it("treats an interrupted step (agent lost) like a failure", () => {
    const steps = [...staged(), step("t1", "ACTIVATE", "INTERRUPTED", 1)];
    const a = planRollout(input({}, 3, steps));
    expect(status(a)).toMatchObject({ status: "ROLLING_BACK", failureReason: expect.stringContaining("was interrupted") });
  });

  it("ends FAILED without rollback when automatic rollback is off, saying what was left", () => {
    const steps = [...staged(), step("t1", "ACTIVATE", "FAILED", 1, "boom")];
    expect(status(planRollout(input({ autoRollback: false }, 3, steps)))).toEqual({
      type: "setStatus",
      status: "FAILED",
      failureReason: "web-1: activating the release failed: boom. Left on the new release: web-1 (automatic rollback is off or there is no previous release).",
    });
  });

  it("cannot roll back a first deployment (nothing to return to)", () => {
    const steps = [...staged(), step("t1", "ACTIVATE", "FAILED", 1)];
    expect(status(planRollout(input({ previousReleaseId: null }, 3, steps)))).toMatchObject({ status: "FAILED" });
  });

  it("does not double the full stop when the agent's message ends with one", () => {
    const steps = [...staged(), step("t1", "ACTIVATE", "FAILED", 1, "Hook \"start\" timed out after 5s. Left behind on web-1: it runs 2.0.0.")];
    expect(status(planRollout(input({}, 3, steps)))).toMatchObject({
      failureReason: 'web-1: activating the release failed: Hook "start" timed out after 5s. Left behind on web-1: it runs 2.0.0.',
    });
  });

  it("when a rollback fails, says which node is where: the one that failed, those rolled back, those still on the new release", () => {
    // web-1 and web-2 took the new release, web-3 failed; web-3 went back, then web-2's rollback could not reach HAProxy.
    const steps = [
      ...staged(),
      step("t1", "ACTIVATE", "SUCCEEDED", 1),
      step("t2", "ACTIVATE", "SUCCEEDED", 2),
      step("t3", "ACTIVATE", "FAILED", 3, "boom."),
      step("t3", "ROLLBACK", "SUCCEEDED", 1),
      step("t2", "ROLLBACK", "FAILED", 2, "HAProxy's runtime API at /run/haproxy.sock could not be reached for 60 s (ENOENT); app/web-2 was last seen in MAINT (no traffic)."),
    ];
    expect(status(planRollout(input({ status: "ROLLING_BACK" }, 3, steps)))).toEqual({
      type: "setStatus",
      status: "FAILED",
      failureReason:
        "web-3: activating the release failed: boom. The rollback failed on web-2: HAProxy's runtime API at /run/haproxy.sock could not be reached for 60 s (ENOENT); " +
        "app/web-2 was last seen in MAINT (no traffic); it needs attention. Rolled back to the previous release: web-3. Still on the new release: web-1.",
    });
  });

  it("stops and reports when a rollback itself fails", () => {
    const steps = [...staged(), step("t1", "ACTIVATE", "FAILED", 1, "boom"), step("t1", "ROLLBACK", "FAILED", 1, "previous release missing")];
    expect(status(planRollout(input({ status: "ROLLING_BACK" }, 3, steps)))).toMatchObject({
      status: "FAILED",
      failureReason: expect.stringContaining("The rollback failed on web-1: previous release missing; it needs attention."),
    });
  });
});

describe("cancel", () => {
  it("cancels a queued deployment outright", () => {
    expect(planRollout(input({ status: "QUEUED", cancelRequested: true }))).toEqual([{ type: "setStatus", status: "CANCELLED" }]);
  });

  it("lets the running step finish, then rolls back touched nodes and ends CANCELLED", () => {
    const base = ["t1", "t2", "t3"].map((t) => step(t, "STAGE", "SUCCEEDED"));
    const running = [...base, step("t1", "ACTIVATE", "RUNNING", 1)];
    expect(planRollout(input({ cancelRequested: true }, 3, running))).toEqual([]);
    const finished = [...base, step("t1", "ACTIVATE", "SUCCEEDED", 1)];
    const a = planRollout(input({ cancelRequested: true }, 3, finished));
    expect(status(a)).toEqual({ type: "setStatus", status: "ROLLING_BACK" });
    const rolled = [...finished, step("t1", "ROLLBACK", "SUCCEEDED", 1)];
    expect(planRollout(input({ status: "ROLLING_BACK", cancelRequested: true }, 3, rolled))).toEqual([{ type: "setStatus", status: "CANCELLED" }]);
  });

  it("never plans a node's rollback again once one ended without succeeding: the rollout ends, saying where the node is", () => {
    const base = ["t1", "t2", "t3"].map((t) => step(t, "STAGE", "SUCCEEDED"));
    const stopped = [...base, step("t1", "ACTIVATE", "SUCCEEDED", 1), { ...step("t1", "ROLLBACK", "CANCELLED", 1), message: "Stopped at ops' request." }];
    const a = planRollout(input({ status: "ROLLING_BACK", cancelRequested: true }, 3, stopped));
    expect(a.filter((x) => x.type === "createSteps")).toEqual([]);
    expect(status(a)).toMatchObject({ type: "setStatus", status: "FAILED", failureReason: "Cancelled. The rollback failed on web-1: Stopped at ops' request; it needs attention. Still on the new release: web-1." });
  });
});

// Revoked = the server's agent is refused from its next call: a step there can never run (or report) again.
describe("a revoked server", () => {
  const revoke = (i: PlanInput, ...ids: string[]): PlanInput => ({ ...i, targets: i.targets.map((t) => (ids.includes(t.id) ? { ...t, revoked: true } : t)) });
  const ended = (actions: PlanAction[]) => actions.flatMap((a) => (a.type === "endSteps" ? a.steps : []));

  it("gets no step when a deployment starts", () => {
    const a = planRollout(revoke(input({ status: "QUEUED" }), "t2"));
    expect(created(a).map((s) => s.targetId)).toEqual(["t1", "t3"]);
    expect(status(planRollout(revoke(input({ status: "QUEUED" }, 1), "t1")))).toEqual({ type: "setStatus", status: "FAILED", failureReason: "The environment has no servers." });
  });

  it("has its waiting steps skipped, and the rollout carries on with the other servers to success", () => {
    const pending = step("t2", "STAGE", "PENDING");
    const steps = [step("t1", "STAGE", "SUCCEEDED"), pending, step("t3", "STAGE", "SUCCEEDED")];
    const a = planRollout(revoke(input({}, 3, steps), "t2"));
    expect(ended(a)).toEqual([{ id: pending.id, status: "SKIPPED", message: "Not run: the agent of web-2 was revoked, so this server is no longer part of the rollout." }]);
    expect(created(a)).toEqual([]);

    pending.status = "SKIPPED";
    const next = planRollout(revoke(input({}, 3, steps), "t2"));
    expect(created(next)).toEqual([{ targetId: "t1", action: "ACTIVATE", batch: 1 }]);
    const done = [...steps, step("t1", "ACTIVATE", "SUCCEEDED", 1), step("t3", "ACTIVATE", "SUCCEEDED", 2)];
    expect(planRollout(revoke(input({}, 3, done), "t2"))).toEqual([{ type: "setStatus", status: "SUCCEEDED" }]);
  });

  it("is never given an activation or a rollback, even after it was staged", () => {
    const staged = ["t1", "t2", "t3"].map((t) => step(t, "STAGE", "SUCCEEDED"));
    expect(created(planRollout(revoke(input({}, 3, [...staged, step("t1", "ACTIVATE", "SUCCEEDED", 1)]), "t2")))).toEqual([{ targetId: "t3", action: "ACTIVATE", batch: 2 }]);
    // t2 was switched earlier in this rollout, then revoked; t3 fails: only t3 and t1 are rolled back.
    const failed = [...staged, step("t1", "ACTIVATE", "SUCCEEDED", 1), step("t2", "ACTIVATE", "SUCCEEDED", 2), step("t3", "ACTIVATE", "FAILED", 3)];
    const a = planRollout(revoke(input({ batchSize: 1 }, 4, failed), "t2"));
    expect(status(a)).toMatchObject({ status: "ROLLING_BACK" });
    expect(created(a)).toEqual([{ targetId: "t3", action: "ROLLBACK", batch: 1 }]);
  });

  it("revoked mid-activation halts the rollout: its server's state is unknown, the others are rolled back", () => {
    const running = step("t2", "ACTIVATE", "RUNNING", 2);
    const steps = [...["t1", "t2", "t3"].map((t) => step(t, "STAGE", "SUCCEEDED")), step("t1", "ACTIVATE", "SUCCEEDED", 1), running];
    const a = planRollout(revoke(input({}, 3, steps), "t2"));
    expect(ended(a)).toEqual([
      { id: running.id, status: "INTERRUPTED", message: "The agent of web-2 was revoked during this step: the server may be out of the load balancer or half-switched, and needs attention." },
    ]);
    running.status = "INTERRUPTED";
    const next = planRollout(revoke(input({}, 3, steps), "t2"));
    expect(status(next)).toMatchObject({ status: "ROLLING_BACK", failureReason: expect.stringContaining("web-2: activating the release was interrupted") });
    expect(created(next)).toEqual([{ targetId: "t1", action: "ROLLBACK", batch: 1 }]);
  });
});

// Drives whole rollouts with random node outcomes and checks the promises that must hold in every one of them.
describe("any rollout (simulated)", () => {
  it("keeps a node serving, ends in a final state, and leaves the fleet consistent", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 4 }),
        fc.constantFrom("ROLLING" as const, "ALL_AT_ONCE" as const),
        fc.boolean(),
        // "stop": an agent stopped the step as it began (for a rollback: what older agents did when asked to stop).
        fc.array(fc.constantFrom("ok", "ok", "ok", "fail", "interrupt", "stop"), { minLength: 40, maxLength: 40 }),
        fc.integer({ min: -1, max: 30 }),
        // Ops revoke one server's agent at some round (or never).
        fc.integer({ min: -1, max: 30 }),
        fc.integer({ min: 0, max: 5 }),
        (n, batchSize, strategy, autoRollback, outcomes, cancelAt, revokeAt, revokeWhich) => {
          const i: PlanInput = input({ status: "QUEUED", strategy, batchSize, autoRollback }, n);
          const gone = revokeAt >= 0 ? `t${(revokeWhich % n) + 1}` : null;
          let revokedInTime = false;
          const steps: PlanStep[] = [];
          let dstatus = i.deployment.status;
          let reason: string | undefined;
          let k = 0;
          const live = new Map(i.targets.map((t) => [t.id, "old"]));
          let rollbackFailed = false;
          for (let round = 0; round < 200; round++) {
            const cancelRequested = cancelAt >= 0 && round >= cancelAt;
            const revoked = gone !== null && round >= revokeAt;
            revokedInTime ||= revoked;
            const targetsNow = i.targets.map((t) => ({ ...t, revoked: revoked && t.id === gone }));
            const actions = planRollout({ ...i, targets: targetsNow, deployment: { ...i.deployment, status: dstatus, cancelRequested }, steps });
            // Never a new step for a server whose agent is refused.
            if (revoked) expect(created(actions).filter((s) => s.targetId === gone)).toEqual([]);
            for (const a of actions) {
              if (a.type === "setStatus") {
                dstatus = a.status;
                reason = a.failureReason ?? reason;
              } else if (a.type === "cancelSteps") {
                for (const s of steps) if (a.stepIds.includes(s.id)) s.status = "CANCELLED";
              } else if (a.type === "endSteps") {
                for (const e of a.steps) steps.find((s) => s.id === e.id)!.status = e.status;
              } else {
                for (const s of a.steps) steps.push(step(s.targetId, s.action, "PENDING", s.batch));
              }
            }
            // Out of service = an ACTIVATE or ROLLBACK in flight; rolling keeps at least one node serving.
            const out = steps.filter((s) => s.action !== "STAGE" && (s.status === "PENDING" || s.status === "RUNNING")).length;
            if (strategy === "ROLLING") {
              expect(out).toBeLessThanOrEqual(effectiveBatchSize(strategy, batchSize, n));
              if (n > 1) expect(out).toBeLessThan(n);
            }
            if (["SUCCEEDED", "FAILED", "CANCELLED"].includes(dstatus)) break;
            // The agents: every pending step runs and finishes with the next scripted outcome (a revoked one is refused).
            for (const s of steps.filter((x) => x.status === "PENDING" && !(revoked && x.targetId === gone))) {
              const o = outcomes[k++ % outcomes.length]!;
              if (s.action === "ROLLBACK") {
                s.status = o === "stop" ? "CANCELLED" : "SUCCEEDED";
                if (s.status === "SUCCEEDED") live.set(s.targetId, "old");
                else rollbackFailed = true;
                continue;
              }
              s.status = o === "ok" || o === "stop" ? "SUCCEEDED" : o === "fail" ? "FAILED" : "INTERRUPTED";
              if (s.status === "SUCCEEDED" && s.action === "ACTIVATE") live.set(s.targetId, "new");
              if (s.status !== "SUCCEEDED" && s.action === "ACTIVATE") live.set(s.targetId, "half");
            }
          }
          expect(["SUCCEEDED", "FAILED", "CANCELLED"]).toContain(dstatus);
          // What Releasegate still answers for: the servers whose agents it can reach.
          if (revokedInTime) live.delete(gone!);
          const versions = new Set(live.values());
          if (dstatus === "SUCCEEDED") expect([...versions]).toEqual(["new"]);
          if (dstatus === "FAILED") expect(reason).toBeTruthy();
          // A rollback that did not succeed is never tried again: the rollout ends, saying that node needs attention.
          if (rollbackFailed) expect(reason).toMatch(/The rollback failed on web-\d+[^;]*; it needs attention\./);
          // With automatic rollback, a failed or cancelled rollout leaves every node on the previous release.
          else if (dstatus !== "SUCCEEDED" && autoRollback) expect([...versions].filter((v) => v !== "old")).toEqual([]);
          // Never a half-installed node left behind silently: without rollback the reason says nodes were left.
          if (!rollbackFailed && (versions.has("half") || (dstatus !== "SUCCEEDED" && versions.has("new")))) expect(reason).toMatch(/left on the new release/i);
        },
      ),
      { numRuns: 500 },
    );
  });
});
