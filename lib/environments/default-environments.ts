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
}

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
  };
}
