import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { effectiveBatchSize, NO_SITE, orderSites, type PlanAction, type PlanInput, type PlanStep, planRollout, siteFloorBlocker, type StepStatus } from "./planner";

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
              } else if (a.type === "createSteps") {
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

// ───────────────────────────── sites ─────────────────────────────

/** Sites named s1, s2… (ids site-1…) with `sizes[i]` nodes each, named a1, a2… / b1… by site; servers in site order. */
function topology(sizes: readonly number[], over: Partial<PlanInput["deployment"]> = {}, steps: PlanStep[] = []): PlanInput {
  const sites = sizes.map((_, i) => ({ id: `site-${i + 1}`, name: `s${i + 1}`, position: i }));
  const nodes = sizes.flatMap((n, i) =>
    Array.from({ length: n }, (_, j) => ({ id: `${"abcd"[i]}${j + 1}`, name: `${"abcd"[i]}${j + 1}`, stagedReleaseIds: ["new"], siteId: `site-${i + 1}` })),
  );
  return {
    deployment: { status: "RUNNING", strategy: "ROLLING", batchSize: 1, autoRollback: true, releaseId: "new", previousReleaseId: "old", cancelRequested: false, ...over },
    sites,
    targets: nodes,
    steps,
  };
}
const ids = (actions: PlanAction[]) => created(actions).map((s) => `${s.action} ${s.targetId}`);
const activated = (...names: string[]) => names.map((n, i) => step(n, "ACTIVATE", "SUCCEEDED", i + 1));

describe("orderSites and siteFloorBlocker", () => {
  const sites = [
    { id: "x", name: "fra-1", position: 0 },
    { id: "y", name: "ams-1", position: 1 },
  ];
  const t = (id: string, siteId: string | null) => ({ id, siteId });

  it("orders by ops' positions, servers without a site last; or the smallest site first", () => {
    const targets = [t("1", "x"), t("2", "x"), t("3", "y"), t("4", null)];
    expect(orderSites(sites, targets).map((g) => g.name)).toEqual(["fra-1", "ams-1", "servers without a site"]);
    expect(orderSites(sites, targets, "SMALLEST_FIRST").map((g) => g.name)).toEqual(["ams-1", "servers without a site", "fra-1"]);
    // A site nobody is in is not part of a rollout; a server of an unknown site counts as without one.
    expect(orderSites(sites, [t("1", "gone")]).map((g) => g.key)).toEqual([NO_SITE]);
  });

  it("refuses floors that leave a site nothing to take out, and says how to fix it", () => {
    expect(siteFloorBlocker(sites, [t("1", "x"), t("2", "y")], 0)).toBeNull();
    expect(siteFloorBlocker(sites, [t("1", "x"), t("2", "x"), t("3", "y"), t("4", "y")], 1)).toBeNull();
    expect(siteFloorBlocker(sites, [t("1", "x"), t("2", "x"), t("3", "y")], 1)).toBe(
      "Site ams-1 has 1 server and the floor is 1 serving server per site: none could be taken out to be updated. Lower the floor, or add servers.",
    );
    expect(siteFloorBlocker(sites, [t("1", "x"), t("2", "x"), t("3", "x"), t("4", null), t("5", null)], 2)).toBe(
      "The servers without a site form one site of 2 servers, and the floor is 2 serving servers per site: none could be taken out to be updated. " +
        "Lower the floor, or add servers (or assign the servers without a site to a site).",
    );
  });
});

describe("a rollout across sites", () => {
  it("starts by fixing the order of the sites, then goes site by site, a batch at a time within each", () => {
    const start = planRollout(topology([2, 3], { status: "QUEUED", batchSize: 5 }));
    expect(start).toContainEqual({ type: "fixSiteSequence", siteKeys: ["site-1", "site-2"] });
    // Rolling never takes all of the environment out, and here site 1 (2 nodes, no floor) goes in one batch.
    expect(ids(start)).toEqual(["ACTIVATE a1", "ACTIVATE a2"]);
    expect(ids(planRollout(topology([2, 3], { batchSize: 5 }, activated("a1", "a2"))))).toEqual(["ACTIVATE b1", "ACTIVATE b2", "ACTIVATE b3"]);
  });

  it("never takes a site below its floor: 3 nodes with a floor of 2 go one at a time whatever the batch size", () => {
    const i = (steps: PlanStep[]) => topology([3, 2], { batchSize: 3, siteFloor: 2, siteSequence: ["site-1", "site-2"] }, steps);
    expect(ids(planRollout(i([])))).toEqual(["ACTIVATE a1"]);
    expect(ids(planRollout(i(activated("a1"))))).toEqual(["ACTIVATE a2"]);
  });

  it("keeps the order fixed at the start even when positions change or a site shrinks", () => {
    const i = topology([1, 3], { siteOrder: "SMALLEST_FIRST", status: "QUEUED" });
    expect(planRollout(i)).toContainEqual({ type: "fixSiteSequence", siteKeys: ["site-1", "site-2"] });
    const later = topology([1, 3], { siteOrder: "SMALLEST_FIRST", siteSequence: ["site-2", "site-1"] });
    expect(ids(planRollout(later))).toEqual(["ACTIVATE b1"]);
  });

  it("goes smallest site first as a canary when ops choose that", () => {
    expect(ids(planRollout(topology([3, 1, 2], { siteOrder: "SMALLEST_FIRST", status: "QUEUED" })))).toEqual(["ACTIVATE b1"]);
  });

  it("refuses to start when a site has no more servers than the floor, before touching any", () => {
    expect(planRollout(topology([2, 1], { status: "QUEUED", siteFloor: 1 }))).toEqual([
      { type: "setStatus", status: "FAILED", failureReason: "Site s2 has 1 server and the floor is 1 serving server per site: none could be taken out to be updated. Lower the floor, or add servers. No server was changed." },
    ]);
  });

  it("ALL_AT_ONCE takes a whole site at a time, less its floor", () => {
    expect(ids(planRollout(topology([3, 2], { strategy: "ALL_AT_ONCE" })))).toEqual(["ACTIVATE a1", "ACTIVATE a2", "ACTIVATE a3"]);
    expect(ids(planRollout(topology([3, 2], { strategy: "ALL_AT_ONCE", siteFloor: 1 })))).toEqual(["ACTIVATE a1", "ACTIVATE a2"]);
  });
});

describe("pausing after the first site", () => {
  const over = { pauseAfterFirstSite: true, siteSequence: ["site-1", "site-2"] };

  it("pauses once the first site is done, says where, and waits until continued", () => {
    expect(planRollout(topology([2, 2], over, activated("a1", "a2")))).toEqual([{ type: "pause", afterSite: "s1", nextSite: "s2" }]);
    expect(planRollout(topology([2, 2], { ...over, paused: true }, activated("a1", "a2")))).toEqual([]);
    expect(ids(planRollout(topology([2, 2], { ...over, paused: true, continued: true }, activated("a1", "a2"))))).toEqual(["ACTIVATE b1"]);
  });

  it("does not pause within the first site, with a single site, or for a revert", () => {
    expect(ids(planRollout(topology([2, 2], over, activated("a1"))))).toEqual(["ACTIVATE a2"]);
    expect(status(planRollout(topology([2], over, activated("a1", "a2"))))).toEqual({ type: "setStatus", status: "SUCCEEDED" });
    expect(ids(planRollout(topology([2, 2], { ...over, kind: "REVERT" }, activated("a1", "a2"))))).toEqual(["ACTIVATE b1"]);
  });

  it("a cancel while paused returns the first site's nodes and ends cancelled", () => {
    const paused = topology([2, 2], { ...over, paused: true, cancelRequested: true }, activated("a1", "a2"));
    const a = planRollout(paused);
    expect(status(a)).toEqual({ type: "setStatus", status: "ROLLING_BACK" });
    expect(ids(a)).toEqual(["ROLLBACK a1"]);
    const done = [...activated("a1", "a2"), step("a1", "ROLLBACK", "SUCCEEDED", 1), step("a2", "ROLLBACK", "SUCCEEDED", 2)];
    expect(planRollout(topology([2, 2], { ...over, paused: true, cancelRequested: true, status: "ROLLING_BACK" }, done))).toEqual([{ type: "setStatus", status: "CANCELLED" }]);
  });
});

describe("a failure across sites", () => {
  it("rolls back every touched node in every site: the broken one, then its site, then the earlier sites, under the floor", () => {
    const over = { batchSize: 2, siteFloor: 1, siteSequence: ["site-1", "site-2"] };
    const steps = [...activated("a1", "a2", "a3"), step("b1", "ACTIVATE", "SUCCEEDED", 4), step("b2", "ACTIVATE", "FAILED", 4, "boom")];
    const first = planRollout(topology([3, 3], over, steps));
    expect(status(first)).toMatchObject({ status: "ROLLING_BACK", failureReason: "b2: activating the release failed: boom." });
    // b2 is out already: it goes back with b1 (site 2 keeps b3 serving, its floor).
    expect(ids(first)).toEqual(["ROLLBACK b2", "ROLLBACK b1"]);
    const then = [...steps, step("b2", "ROLLBACK", "SUCCEEDED", 1), step("b1", "ROLLBACK", "SUCCEEDED", 1)];
    // Site 1: two at a time, one serving (floor 1).
    expect(ids(planRollout(topology([3, 3], { ...over, status: "ROLLING_BACK" }, then)))).toEqual(["ROLLBACK a1", "ROLLBACK a2"]);
    const all = [...then, step("a1", "ROLLBACK", "SUCCEEDED", 2), step("a2", "ROLLBACK", "SUCCEEDED", 2), step("a3", "ROLLBACK", "SUCCEEDED", 3)];
    expect(status(planRollout(topology([3, 3], { ...over, status: "ROLLING_BACK", failureReason: "b2: activating the release failed: boom." }, all)))).toEqual({
      type: "setStatus",
      status: "FAILED",
      failureReason: "b2: activating the release failed: boom. Rolled back to the previous release: a1, a2, a3, b1, b2.",
    });
  });

  it("halts and rolls back when revocations leave a site with no more servers than its floor", () => {
    const i = topology([2, 2], { siteFloor: 1, siteSequence: ["site-1", "site-2"] }, activated("a1", "a2"));
    const revokedB2 = { ...i, targets: i.targets.map((t) => (t.id === "b2" ? { ...t, revoked: true } : t)) };
    const a = planRollout(revokedB2);
    const reason = "The rollout cannot go on: Site s2 has 1 server that can still run work (the agents of the others were revoked) and the floor is 1 serving server per site: none could be taken out to be updated.";
    expect(status(a)).toEqual({ type: "setStatus", status: "ROLLING_BACK", failureReason: reason });
    expect(ids(a)).toEqual(["ROLLBACK a1"]);
    const back = { ...revokedB2, deployment: { ...revokedB2.deployment, status: "ROLLING_BACK" as const, failureReason: reason }, steps: [...revokedB2.steps, step("a1", "ROLLBACK", "SUCCEEDED", 1), step("a2", "ROLLBACK", "SUCCEEDED", 2)] };
    expect(status(planRollout(back))).toEqual({ type: "setStatus", status: "FAILED", failureReason: `${reason} Rolled back to the previous release: a1, a2.` });
  });

  it("leaves a node on the new release rather than break its site's floor, and says so", () => {
    // Site 1 is done; b1 fails; by then the agents of a2 and a3 were revoked, so site 1 is a1 alone (floor 2):
    // taking a1 out would leave none of its servers that Releasegate can reach serving.
    const i = topology([3, 3], { siteFloor: 2, siteSequence: ["site-1", "site-2"] }, [...activated("a1", "a2", "a3"), step("b1", "ACTIVATE", "FAILED", 4, "boom")]);
    const shrunk = { ...i, targets: i.targets.map((t) => (t.id === "a2" || t.id === "a3" ? { ...t, revoked: true } : t)) };
    const a = planRollout(shrunk);
    expect(ids(a)).toEqual(["ROLLBACK b1"]);
    const next = { ...shrunk, deployment: { ...shrunk.deployment, status: "ROLLING_BACK" as const }, steps: [...shrunk.steps, step("b1", "ROLLBACK", "SUCCEEDED", 1)] };
    expect(status(planRollout(next))).toEqual({
      type: "setStatus",
      status: "FAILED",
      failureReason:
        "b1: activating the release failed: boom. Rolled back to the previous release: b1. Left on the new release: a1 (returning it would take site s1 below the floor of 2 serving servers; the agents of other servers there were revoked).",
    });
  });
});

// Whole rollouts over random topologies (1-4 sites of 1-6 nodes, some servers perhaps without a site), batch sizes,
// floors, orders, pauses, node outcomes, cancels, continues and a revocation, checking at every round the promises
// sites make: no site below its floor, never every node out, sites in their order, the pause honoured, and a
// failure or cancel returning every touched node in every site.
describe("any rollout across sites (simulated)", () => {
  it("keeps every site at its floor, walks the sites in order, honours the pause and rolls back everything it touched", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 4 }),
        fc.boolean(), // the first site's servers have no site (the implicit one)
        fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 4, maxLength: 4 }), // ops' positions
        fc.constantFrom("CHOSEN" as const, "SMALLEST_FIRST" as const),
        fc.integer({ min: 0, max: 3 }),
        fc.boolean(), // floor made feasible (most runs should reach their sites)
        fc.integer({ min: 1, max: 4 }),
        fc.constantFrom("ROLLING" as const, "ROLLING" as const, "ALL_AT_ONCE" as const),
        fc.record({ pause: fc.boolean(), revert: fc.boolean(), autoRollback: fc.boolean() }),
        fc.array(fc.constantFrom("ok", "ok", "ok", "ok", "fail", "interrupt", "stop"), { minLength: 60, maxLength: 60 }),
        fc.record({ cancelAt: fc.integer({ min: -1, max: 40 }), continueAfter: fc.integer({ min: -1, max: 5 }), revokeAt: fc.integer({ min: -1, max: 40 }), revokeWhich: fc.nat() }),
        (sizes, implicitFirst, positions, siteOrder, floorRaw, fitFloor, batchSize, strategy, flags, outcomes, events) => {
          const sites = sizes.map((_, i) => ({ id: `site-${i}`, name: `s${i}`, position: positions[i]! })).filter((_, i) => !(implicitFirst && i === 0));
          const all = sizes.flatMap((n, i) => Array.from({ length: n }, (_, j) => ({ id: `t${i}-${j}`, name: `web-${i}-${j}`, stagedReleaseIds: [] as string[], siteId: implicitFirst && i === 0 ? null : `site-${i}` })));
          const keyOf = (id: string) => all.find((t) => t.id === id)!.siteId ?? NO_SITE;
          const floor = fitFloor ? Math.min(floorRaw, Math.min(...sizes) - 1) : floorRaw;
          const gone = events.revokeAt >= 0 ? all[events.revokeWhich % all.length]!.id : null;
          const d: PlanInput["deployment"] = {
            status: "QUEUED", strategy, batchSize, autoRollback: flags.autoRollback, releaseId: "new", previousReleaseId: "old", cancelRequested: false,
            kind: flags.revert ? "REVERT" : "DEPLOY", siteOrder, siteFloor: floor, pauseAfterFirstSite: flags.pause, siteSequence: [], paused: false, continued: false, failureReason: null,
          };
          const steps: PlanStep[] = [];
          // What each node runs: "old", "new", "half" (a switch broke part-way) or "unknown" (a rollback stopped).
          const node = new Map(all.map((t) => [t.id, "old"]));
          let revokedInTime = false;
          let rollbackFailed = false;
          let pausedAt = -1;
          let k = 0;
          let expectedOrder: string[] | null = null;
          let feasibleAtStart = true;
          for (let round = 0; round < 300; round++) {
            d.cancelRequested = events.cancelAt >= 0 && round >= events.cancelAt;
            d.continued = pausedAt >= 0 && events.continueAfter >= 0 && round >= pausedAt + events.continueAfter;
            const revoked = gone !== null && round >= events.revokeAt;
            revokedInTime ||= revoked;
            const targets = all.map((t) => ({ ...t, revoked: revoked && t.id === gone }));
            const live = targets.filter((t) => !t.revoked);
            if (d.status === "QUEUED") {
              // Computed here, apart from the planner: ops' positions (servers without a site after the named
              // sites), or the fewest nodes first.
              const keys = [...new Set(live.map((t) => keyOf(t.id)))];
              const pos = (key: string) => sites.find((s) => s.id === key)?.position ?? Infinity;
              const size = (key: string) => live.filter((t) => keyOf(t.id) === key).length;
              const nameOf = (key: string) => sites.find((s) => s.id === key)?.name ?? "servers without a site";
              expectedOrder = keys.sort((a, b) => (siteOrder === "SMALLEST_FIRST" && size(a) !== size(b) ? size(a) - size(b) : pos(a) !== pos(b) ? (pos(a) < pos(b) ? -1 : 1) : nameOf(a).localeCompare(nameOf(b))));
              feasibleAtStart = floor === 0 || keys.every((key) => size(key) > floor);
            }
            const actions = planRollout({ deployment: { ...d }, sites, targets, steps });
            const createdNow = created(actions);
            for (const a of actions) {
              if (a.type === "setStatus") {
                d.status = a.status;
                d.failureReason = a.failureReason ?? d.failureReason;
              } else if (a.type === "cancelSteps") {
                for (const s of steps) if (a.stepIds.includes(s.id)) s.status = "CANCELLED";
              } else if (a.type === "endSteps") {
                for (const e of a.steps) steps.find((s) => s.id === e.id)!.status = e.status;
              } else if (a.type === "fixSiteSequence") {
                expect(a.siteKeys).toEqual(expectedOrder);
                d.siteSequence = a.siteKeys;
              } else if (a.type === "pause") {
                expect(d.paused).toBe(false);
                d.paused = true;
                pausedAt = round;
              } else {
                for (const s of a.steps) steps.push(step(s.targetId, s.action, "PENDING", s.batch));
              }
            }
            // A site whose nodes are not more than its floor is never started on.
            if (!feasibleAtStart) {
              expect(steps).toEqual([]);
              expect(d.status).toBe(d.cancelRequested ? "CANCELLED" : "FAILED"); // asked to stop before it started
              if (d.status === "FAILED") expect(d.failureReason).toMatch(/the floor is \d+ serving servers? per site: none could be taken out to be updated\. .*No server was changed\.$/);
              return;
            }
            // Out of service: in an ACTIVATE or ROLLBACK not yet run, or left broken by one.
            const inStep = new Set(steps.filter((s) => s.action !== "STAGE" && s.status === "PENDING").map((s) => s.targetId));
            const out = (id: string) => inStep.has(id) || node.get(id) === "half" || node.get(id) === "unknown";
            const outNow = live.filter((t) => out(t.id));
            for (const key of new Set(live.map((t) => keyOf(t.id)))) {
              const mine = live.filter((t) => keyOf(t.id) === key);
              const serving = mine.filter((t) => !out(t.id)).length;
              // The floor: always, when no agent was revoked; else at least never broken by a step made now.
              const tookOut = createdNow.some((s) => keyOf(s.targetId) === key && (s.action === "ACTIVATE" || node.get(s.targetId) === "new"));
              if (!revokedInTime || tookOut) expect(serving, `site ${key} at round ${round}`).toBeGreaterThanOrEqual(Math.min(floor, mine.length));
            }
            if (strategy === "ROLLING" && live.length > 1) expect(outNow.length).toBeLessThan(live.length);
            for (const s of createdNow.filter((x) => x.action === "ACTIVATE")) {
              // Sites in order: every node of the sites before this one is done first.
              const at = expectedOrder!.indexOf(keyOf(s.targetId));
              const before = live.filter((t) => expectedOrder!.indexOf(keyOf(t.id)) < at);
              for (const t of before) expect(steps.some((x) => x.targetId === t.id && x.action === "ACTIVATE" && (x.status === "SUCCEEDED" || x.status === "SKIPPED")), `${t.id} before ${s.targetId}`).toBe(true);
              // The pause: leaving the first site waits for someone to continue (a revert never waits).
              const firstSite = keyOf(steps.find((x) => x.action === "ACTIVATE")!.targetId);
              if (flags.pause && !flags.revert && keyOf(s.targetId) !== firstSite) {
                expect(pausedAt, "paused before leaving the first site").toBeGreaterThanOrEqual(0);
                expect(d.continued).toBe(true);
              }
              if (!flags.pause || flags.revert) expect(pausedAt).toBe(-1);
            }
            if (["SUCCEEDED", "FAILED", "CANCELLED"].includes(d.status)) break;
            // The agents run every pending step to the next scripted outcome (a revoked one is refused).
            for (const s of steps.filter((x) => x.status === "PENDING" && !(revoked && x.targetId === gone))) {
              const o = outcomes[k++ % outcomes.length]!;
              if (s.action === "ROLLBACK") {
                s.status = o === "stop" ? "CANCELLED" : "SUCCEEDED";
                node.set(s.targetId, s.status === "SUCCEEDED" ? "old" : "unknown");
                if (s.status !== "SUCCEEDED") rollbackFailed = true;
                continue;
              }
              s.status = o === "ok" || o === "stop" ? "SUCCEEDED" : o === "fail" ? "FAILED" : "INTERRUPTED";
              if (s.action === "ACTIVATE") node.set(s.targetId, s.status === "SUCCEEDED" ? "new" : "half");
            }
          }
          const stillPaused = d.status === "RUNNING" && d.paused && !d.continued && !d.cancelRequested;
          if (stillPaused) {
            // Nobody continued: the rollout waits, with only its first site updated.
            const firstSite = keyOf(steps.find((x) => x.action === "ACTIVATE")!.targetId);
            expect(steps.filter((s) => s.action === "ACTIVATE" && keyOf(s.targetId) !== firstSite)).toEqual([]);
            return;
          }
          expect(["SUCCEEDED", "FAILED", "CANCELLED"]).toContain(d.status);
          if (revokedInTime) node.delete(gone!);
          const versions = new Set(node.values());
          if (d.status === "SUCCEEDED") expect([...versions]).toEqual(["new"]);
          if (d.status === "FAILED") expect(d.failureReason).toBeTruthy();
          if (rollbackFailed) expect(d.failureReason).toMatch(/The rollback failed on web-[\d-]+[^;]*; it needs attention\./);
          else if (d.status !== "SUCCEEDED" && flags.autoRollback) {
            // Every touched node in every site is back, unless returning it would have broken a floor after
            // revocations: then the reason names it.
            const left = [...node.entries()].filter(([, v]) => v !== "old").map(([id]) => all.find((t) => t.id === id)!.name);
            if (!revokedInTime) expect(left).toEqual([]);
            for (const n of left) expect(d.failureReason ?? "").toMatch(new RegExp(`Left on the new release: [^(]*\\b${n}\\b[^(]*\\(returning`));
          }
          if (!rollbackFailed && (versions.has("half") || (d.status !== "SUCCEEDED" && versions.has("new")))) expect(d.failureReason).toMatch(/left on the new release/i);
        },
      ),
      { numRuns: 1000 },
    );
  });
});
