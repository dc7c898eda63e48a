// The rollout planner: a pure function from "what the steps of a deployment have done so far" to "what happens
// next". It owns every ordering and safety rule of a rollout, so those rules are tested exhaustively without a
// database (planner.test.ts); advance-rollout.ts only loads the facts, applies the plan and wakes the agents.
import { withoutLeftBehind } from "../contracts/agent-api";
//
// The shape of a rollout:
//   1. STAGE the release on every node that does not have it staged yet (download, verify, extract; all nodes in
//      parallel, nobody is drained). A failed stage ends the deployment before any node left service.
//   2. ACTIVATE nodes batch by batch (drain, stop, switch, start, health, undrain). A rolling deployment never takes
//      more than `batchSize` nodes, and never all nodes, out of service at once.
//   3. On a failed or interrupted activation: stop creating work, let running steps finish, then (autoRollback)
//      ROLLBACK every node that was touched, batch by batch, to the previous release, and end FAILED with the reason.
//   4. A cancel stops like a failure, without one: touched nodes are rolled back, then the deployment is CANCELLED.
//   5. A revoked server (its agent is refused from its next call) leaves the rollout: no new step for it ever; a
//      step it had not started is SKIPPED and the rollout carries on without it; a switch it was in the middle of is
//      INTERRUPTED (the node's state is unknown), which halts the rollout like any broken node.

export type DeploymentStatus = "SCHEDULED" | "QUEUED" | "RUNNING" | "ROLLING_BACK" | "SUCCEEDED" | "FAILED" | "CANCELLED";
export type StepAction = "STAGE" | "ACTIVATE" | "ROLLBACK";
export type StepStatus = "PENDING" | "CLAIMED" | "RUNNING" | "SUCCEEDED" | "FAILED" | "SKIPPED" | "CANCELLED" | "INTERRUPTED";

export interface PlanTarget {
  id: string;
  name: string;
  /** Releases extracted on the node and ready to switch to. */
  stagedReleaseIds: readonly string[];
  /** Its agent was revoked: nothing can run there any more. */
  revoked?: boolean;
  /** Its activation in this deployment recorded what it ran before, so a rollback can return it there. */
  canReturn?: boolean;
}

export interface PlanStep {
  id: string;
  targetId: string;
  action: StepAction;
  batch: number;
  status: StepStatus;
  message: string | null;
}

export interface PlanInput {
  deployment: {
    status: DeploymentStatus;
    strategy: "ROLLING" | "ALL_AT_ONCE";
    batchSize: number;
    autoRollback: boolean;
    /** Null for a revert to the builds the servers ran before Releasegate: nothing to stage. */
    releaseId: string | null;
    /** What the environment ran before; null on a first deployment (nothing to roll back to but what servers report). */
    previousReleaseId: string | null;
    cancelRequested: boolean;
  };
  /** In rollout order. */
  targets: readonly PlanTarget[];
  steps: readonly PlanStep[];
}

export type PlanAction =
  | { type: "createSteps"; steps: { targetId: string; action: StepAction; batch: number }[] }
  | { type: "cancelSteps"; stepIds: string[] }
  /** Ends steps no agent can finish (their server was revoked), with the reason. */
  | { type: "endSteps"; steps: { id: string; status: "SKIPPED" | "INTERRUPTED"; message: string }[] }
  | { type: "setStatus"; status: DeploymentStatus; failureReason?: string };

const ACTIVE: readonly StepStatus[] = ["CLAIMED", "RUNNING"];
const BROKEN: readonly StepStatus[] = ["FAILED", "INTERRUPTED"];
const TERMINAL: readonly DeploymentStatus[] = ["SUCCEEDED", "FAILED", "CANCELLED"];

/** How many nodes may be out of service at once: rolling keeps at least one node serving whenever there are two. */
export function effectiveBatchSize(strategy: "ROLLING" | "ALL_AT_ONCE", batchSize: number, nodes: number): number {
  if (nodes === 0) return 1;
  if (strategy === "ALL_AT_ONCE") return nodes;
  return Math.max(1, Math.min(batchSize, nodes > 1 ? nodes - 1 : 1));
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export function planRollout(input: PlanInput): PlanAction[] {
  const { deployment: d, steps } = input;
  if (TERMINAL.includes(d.status) || d.status === "SCHEDULED") return [];
  const name = (targetId: string) => input.targets.find((t) => t.id === targetId)?.name ?? targetId;
  // Every rule below plans for the servers that can still run work.
  const targets = input.targets.filter((t) => !t.revoked);
  const revoked = new Set(input.targets.filter((t) => t.revoked).map((t) => t.id));
  const orphaned = steps.filter((s) => revoked.has(s.targetId) && (s.status === "PENDING" || ACTIVE.includes(s.status)));
  if (orphaned.length > 0) {
    return [
      {
        type: "endSteps",
        steps: orphaned.map((s) =>
          // A switch under way may have left the node drained or half-switched; a stage or a step not yet started
          // changed nothing the node serves.
          s.status === "RUNNING" && s.action !== "STAGE"
            ? { id: s.id, status: "INTERRUPTED" as const, message: `The agent of ${name(s.targetId)} was revoked during this step: the server may be out of the load balancer or half-switched, and needs attention.` }
            : { id: s.id, status: "SKIPPED" as const, message: `Not run: the agent of ${name(s.targetId)} was revoked, so this server is no longer part of the rollout.` },
        ),
      },
    ];
  }
  const of = (action: StepAction) => steps.filter((s) => s.action === action);
  const size = effectiveBatchSize(d.strategy, d.batchSize, targets.length);

  if (d.status === "QUEUED") {
    if (targets.length === 0) return [{ type: "setStatus", status: "FAILED", failureReason: "The environment has no servers." }];
    if (d.cancelRequested) return [{ type: "setStatus", status: "CANCELLED" }];
    const releaseId = d.releaseId;
    const toStage = releaseId === null ? [] : targets.filter((t) => !t.stagedReleaseIds.includes(releaseId));
    const first =
      toStage.length > 0
        ? toStage.map((t) => ({ targetId: t.id, action: "STAGE" as const, batch: 0 }))
        : (chunk(targets, size)[0] ?? []).map((t) => ({ targetId: t.id, action: "ACTIVATE" as const, batch: 1 }));
    return [{ type: "setStatus", status: "RUNNING" }, { type: "createSteps", steps: first }];
  }

  const pending = steps.filter((s) => s.status === "PENDING");
  const running = steps.filter((s) => ACTIVE.includes(s.status));

  if (d.status === "ROLLING_BACK") {
    const rollbacks = of("ROLLBACK");
    // A rollback that ended any other way than succeeding is not planned again (a stopped one was, forever): the
    // rollout ends saying where each node is, for ops to take over.
    const brokenRollback = rollbacks.find((s) => BROKEN.includes(s.status)) ?? rollbacks.find((s) => s.status === "CANCELLED");
    if (brokenRollback) {
      const actions: PlanAction[] = pending.length ? [{ type: "cancelSteps", stepIds: pending.map((s) => s.id) }] : [];
      if (running.length > 0) return actions;
      // Where every node the rollout touched is now: ops take it from here and need the whole picture.
      const back = new Set(rollbacks.filter((s) => s.status === "SUCCEEDED").map((s) => s.targetId));
      const brokenIds = new Set(rollbacks.filter((s) => BROKEN.includes(s.status)).map((s) => s.targetId));
      const activated = new Set(of("ACTIVATE").filter((s) => s.status === "SUCCEEDED").map((s) => s.targetId));
      const rolledBack = touchedTargets(input, targets).filter((id) => back.has(id));
      const stillNew = touchedTargets(input, targets).filter((id) => activated.has(id) && !back.has(id) && !brokenIds.has(id));
      const why = brokenRollback.message ? `: ${brokenRollback.message.replace(/\.+$/, "")}` : "";
      return [
        ...actions,
        {
          type: "setStatus",
          status: "FAILED",
          failureReason:
            `${failureReason(input, name, back)} The rollback failed on ${name(brokenRollback.targetId)}${why}; it needs attention.` +
            (rolledBack.length ? ` Rolled back to the previous release: ${names(input, rolledBack)}.` : "") +
            (stillNew.length ? ` Still on the new release: ${names(input, stillNew)}.` : ""),
        },
      ];
    }
    if (running.length > 0 || pending.length > 0) return [];
    const touched = touchedTargets(input, targets);
    const rolledBack = new Set(rollbacks.filter((s) => s.status === "SUCCEEDED").map((s) => s.targetId));
    const remaining = touched.filter((id) => !rolledBack.has(id));
    if (remaining.length > 0) {
      const batch = Math.max(0, ...rollbacks.map((s) => s.batch)) + 1;
      return [{ type: "createSteps", steps: remaining.slice(0, size).map((targetId) => ({ targetId, action: "ROLLBACK" as const, batch })) }];
    }
    if (cancelled(input)) return [{ type: "setStatus", status: "CANCELLED" }];
    return [{ type: "setStatus", status: "FAILED", failureReason: `${failureReason(input, name, rolledBack)} Rolled back to the previous release: ${names(input, touched)}.` }];
  }

  // RUNNING
  const broken = steps.find((s) => BROKEN.includes(s.status));
  if (broken || d.cancelRequested) {
    const actions: PlanAction[] = pending.length ? [{ type: "cancelSteps", stepIds: pending.map((s) => s.id) }] : [];
    if (running.length > 0) return actions; // let in-flight steps finish: never abandon a node mid-switch
    const touched = touchedTargets(input, targets);
    // Each touched server returns to what it ran before: the release the deployment replaced, or what its own
    // activation recorded it ran (a first deployment over servers another tool had installed).
    const returnable = (id: string) => d.previousReleaseId !== null || targets.find((t) => t.id === id)?.canReturn === true;
    if (touched.length > 0 && d.autoRollback && touched.every(returnable)) {
      return [
        ...actions,
        { type: "setStatus", status: "ROLLING_BACK", ...(broken ? { failureReason: failureReason(input, name) } : {}) },
        { type: "createSteps", steps: touched.slice(0, size).map((targetId) => ({ targetId, action: "ROLLBACK" as const, batch: 1 })) },
      ];
    }
    const leftOn = touched.length > 0 ? ` Left on the new release: ${names(input, touched)} (automatic rollback is off or there is no previous release).` : "";
    if (!broken) return [...actions, { type: "setStatus", status: "CANCELLED", ...(leftOn ? { failureReason: `Cancelled.${leftOn}` } : {}) }];
    return [...actions, { type: "setStatus", status: "FAILED", failureReason: `${failureReason(input, name)}${leftOn}` }];
  }

  if (targets.length === 0) return [{ type: "setStatus", status: "FAILED", failureReason: "No server is left in this rollout: the agents of all of them were revoked." }];
  const stages = of("STAGE");
  if (stages.some((s) => s.status !== "SUCCEEDED" && s.status !== "SKIPPED")) return [];

  const activations = of("ACTIVATE");
  if (activations.some((s) => s.status !== "SUCCEEDED" && s.status !== "SKIPPED")) return [];
  const activated = new Set(activations.map((s) => s.targetId));
  const next = targets.filter((t) => !activated.has(t.id)).slice(0, size);
  if (next.length === 0) return [{ type: "setStatus", status: "SUCCEEDED" }];
  const batch = Math.max(0, ...activations.map((s) => s.batch)) + 1;
  return [{ type: "createSteps", steps: next.map((t) => ({ targetId: t.id, action: "ACTIVATE" as const, batch })) }];
}

/**
 * Nodes an activation reached (succeeded, or failed part-way): exactly the ones a rollback must return, among the
 * servers that can still run work (`targets`: a revoked one cannot). The broken ones come first: they are already
 * out of rotation, so returning them first never takes a serving node out while a broken one is still out (with two
 * nodes, the other order would leave none serving).
 */
function touchedTargets(input: PlanInput, targets: readonly PlanTarget[]): string[] {
  const activations = input.steps.filter((s) => s.action === "ACTIVATE");
  const broken = new Set(activations.filter((s) => BROKEN.includes(s.status)).map((s) => s.targetId));
  const ok = new Set(activations.filter((s) => s.status === "SUCCEEDED").map((s) => s.targetId));
  const ids = targets.map((t) => t.id);
  return [...ids.filter((id) => broken.has(id)), ...ids.filter((id) => ok.has(id) && !broken.has(id))];
}

/** Servers by name, in rollout order (as the deployment's page lists them). */
function names(input: PlanInput, ids: readonly string[]): string {
  return input.targets.filter((t) => ids.includes(t.id)).map((t) => t.name).join(", ");
}

function cancelled(input: PlanInput): boolean {
  return input.deployment.cancelRequested && !input.steps.some((s) => s.action !== "ROLLBACK" && BROKEN.includes(s.status));
}

/** Why the deployment failed, from its first broken step; `returned`: nodes a rollback has put back since. */
function failureReason(input: PlanInput, name: (id: string) => string, returned: ReadonlySet<string> = new Set()): string {
  const s = input.steps.find((x) => x.action !== "ROLLBACK" && BROKEN.includes(x.status));
  if (!s) return input.deployment.cancelRequested ? "Cancelled." : "Failed.";
  const what = s.action === "STAGE" ? "staging the release" : "activating the release";
  // The step's message says why when there is one (lease expired, agent restarted, agent revoked), and what the
  // failure left on the node: no longer true once a rollback returned it.
  const message = s.message && returned.has(s.targetId) ? withoutLeftBehind(s.message, name(s.targetId)) : s.message;
  const how = s.status === "INTERRUPTED" ? (message ? "was interrupted" : "was interrupted (the agent restarted or stopped answering)") : "failed";
  return `${name(s.targetId)}: ${what} ${how}${message ? `: ${message}` : ""}`.replace(/\.*$/, ".");
}
