// The lifecycle every new application starts with: QA -> Acceptance -> Production. Admins can rename, reorder, add
// and remove environments afterwards; these defaults encode the procedure Releasegate is built around.
import type { DeploymentStrategy, Role } from "../db/generated/enums";

export interface EnvironmentDefaults {
  name: string;
  slug: string;
  position: number;
  isProduction: boolean;
  requiresPreviousSuccess: boolean;
  requiresAcceptance: boolean;
  requiredApprovals: number;
  approverRoles: Role[];
  deployerRoles: Role[];
  strategy: DeploymentStrategy;
  batchSize: number;
  /** Post-deploy analysis: how long each node is watched after it returns to rotation (0 = off). */
  bakeSeconds: number;
}

/**
 * Production watches each node for a minute once it serves again: long enough for a build that passes its health
 * check but fails visitors to show it under ordinary traffic, short enough that a 3-node rollout takes minutes, not
 * an hour. Test environments deploy all at once and want the result now: no bake.
 */
export const PRODUCTION_BAKE_SECONDS = 60;

export const DEFAULT_ENVIRONMENTS: readonly EnvironmentDefaults[] = [
  {
    name: "QA",
    slug: "qa",
    position: 0,
    isProduction: false,
    requiresPreviousSuccess: false, // the first stage: any uploaded candidate may go here
    requiresAcceptance: false,
    requiredApprovals: 0,
    approverRoles: [],
    deployerRoles: ["DEVELOPER", "OPS"],
    strategy: "ALL_AT_ONCE",
    batchSize: 1,
    bakeSeconds: 0,
  },
  {
    name: "Acceptance",
    slug: "acceptance",
    position: 1,
    isProduction: false,
    requiresPreviousSuccess: true,
    requiresAcceptance: false,
    requiredApprovals: 0,
    approverRoles: [],
    deployerRoles: ["DEVELOPER", "OPS"],
    strategy: "ALL_AT_ONCE",
    batchSize: 1,
    bakeSeconds: 0,
  },
  {
    name: "Production",
    slug: "production",
    position: 2,
    isProduction: true,
    requiresPreviousSuccess: true,
    requiresAcceptance: true, // a customer's "accepted" verdict on these exact bytes
    requiredApprovals: 1,
    approverRoles: ["APPROVER", "OPS"],
    deployerRoles: ["OPS"], // only ops promote to production
    strategy: "ROLLING",
    batchSize: 1,
    bakeSeconds: PRODUCTION_BAKE_SECONDS,
  },
];

/** Defaults for an environment added later: a test stage with no gates beyond the previous stage. */
export function defaultsForNewEnvironment(name: string, slug: string, position: number): EnvironmentDefaults {
  return {
    name,
    slug,
    position,
    isProduction: false,
    requiresPreviousSuccess: true,
    requiresAcceptance: false,
    requiredApprovals: 0,
    approverRoles: [],
    deployerRoles: ["DEVELOPER", "OPS"],
    strategy: "ROLLING",
    batchSize: 1,
    bakeSeconds: 0,
  };
}
