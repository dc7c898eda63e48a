// How far a rollout has come, for progress bars and "2/3 servers" labels. Pure, so it is unit-tested
// (rollout-progress.test.ts). The planner creates steps as the rollout goes (all stages first, then one batch of
// activations at a time, then rollbacks), so counting the step rows alone would make the bar jump back whenever a
// batch is created; this counts the work still to come as well.
import type { DeploymentStatus, StepAction, StepStatus } from "../rollouts/planner";

export interface ProgressStep {
  targetId: string;
  action: StepAction;
  status: StepStatus;
}

export interface RolloutProgress {
  /** Steps that have ended (whatever their outcome). */
  done: number;
  /** Steps created so far plus those the rollout will still create, as far as it can be known now. */
  total: number;
  /** Servers the rollout covers. */
  servers: number;
  /** Servers that run the release now (activation succeeded and not rolled back). */
  updated: number;
  /** Servers returned to the previous release. */
  rolledBack: number;
}

/** Statuses in which a deployment may still change; live views follow these. */
export const ACTIVE_DEPLOYMENT_STATUSES = ["SCHEDULED", "QUEUED", "RUNNING", "ROLLING_BACK"] as const satisfies readonly DeploymentStatus[];
export const isActiveDeployment = (status: string): boolean => (ACTIVE_DEPLOYMENT_STATUSES as readonly string[]).includes(status);

const ENDED: readonly StepStatus[] = ["SUCCEEDED", "FAILED", "SKIPPED", "CANCELLED", "INTERRUPTED"];
const BROKEN: readonly StepStatus[] = ["FAILED", "INTERRUPTED"];
const TERMINAL: readonly DeploymentStatus[] = ["SUCCEEDED", "FAILED", "CANCELLED"];

/**
 * `serverIds` are the servers the rollout covers: while it runs, the environment's enrolled servers plus any it has
 * touched; once it ended, the servers its steps ran on.
 */
export function rolloutProgress(status: DeploymentStatus, serverIds: readonly string[], steps: readonly ProgressStep[]): RolloutProgress {
  const servers = new Set([...serverIds, ...steps.map((s) => s.targetId)]);
  const succeeded = (action: StepAction) => new Set(steps.filter((s) => s.action === action && s.status === "SUCCEEDED").map((s) => s.targetId));
  const activated = succeeded("ACTIVATE");
  const rolledBack = succeeded("ROLLBACK");
  const done = steps.filter((s) => ENDED.includes(s.status)).length;
  let total = steps.length;
  if (!TERMINAL.includes(status)) {
    const halted = status === "ROLLING_BACK" || steps.some((s) => BROKEN.includes(s.status));
    if (status === "ROLLING_BACK") {
      // Every server an activation reached is rolled back, one batch after another.
      const touched = new Set(steps.filter((s) => s.action === "ACTIVATE" && (s.status === "SUCCEEDED" || BROKEN.includes(s.status))).map((s) => s.targetId));
      const withRollback = new Set(steps.filter((s) => s.action === "ROLLBACK").map((s) => s.targetId));
      total += [...touched].filter((id) => !withRollback.has(id)).length;
    } else if (!halted) {
      // Still to come: an activation for every server that has none yet.
      const withActivation = new Set(steps.filter((s) => s.action === "ACTIVATE").map((s) => s.targetId));
      total += [...servers].filter((id) => !withActivation.has(id)).length;
    }
  }
  return {
    done,
    total,
    servers: servers.size,
    updated: [...activated].filter((id) => !rolledBack.has(id)).length,
    rolledBack: rolledBack.size,
  };
}

/** 0..1 for a progress bar; a rollout with nothing to do counts as complete once it ended. */
export function progressFraction(p: Pick<RolloutProgress, "done" | "total">): number {
  return p.total === 0 ? 0 : Math.min(1, p.done / p.total);
}

export type ServerRolloutTone = "gray" | "blue" | "amber" | "green" | "red";

/** Where one server stands in a rollout, from its steps in the order they ran: a label and a colour for its card. */
export function serverRolloutState(steps: readonly Pick<ProgressStep, "action" | "status">[]): { label: string; tone: ServerRolloutTone } {
  const last = steps.at(-1);
  if (!last) return { label: "waiting", tone: "gray" };
  const rollback = last.action === "ROLLBACK";
  switch (last.status) {
    case "PENDING":
      return rollback ? { label: "to roll back", tone: "amber" } : { label: "waiting", tone: "gray" };
    case "CLAIMED":
    case "RUNNING":
      return rollback ? { label: "rolling back", tone: "amber" } : { label: last.action === "STAGE" ? "staging" : "updating", tone: "blue" };
    case "SUCCEEDED":
      if (rollback) return { label: "rolled back", tone: "amber" };
      return last.action === "STAGE" ? { label: "staged", tone: "gray" } : { label: "updated", tone: "green" };
    case "FAILED":
    case "INTERRUPTED":
      return { label: rollback ? "rollback failed" : "failed", tone: "red" };
    default:
      return { label: "not updated", tone: "gray" };
  }
}
