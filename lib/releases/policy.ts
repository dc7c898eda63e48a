// The lifecycle gates: may this release go to this environment now, by this person? A pure function over facts the
// caller loads (lib/deployments/load-deployment-facts.ts), so every rule is unit-tested exhaustively without a
// database (policy.test.ts) and the server, the UI ("why can't I promote?") and the API give the same answer.
import { PERMISSIONS } from "../auth/permissions";
import { ROLE_LABELS } from "../auth/role-labels";
import type { ReleaseStatus, Role } from "../db/generated/enums";
import { plural, sentence } from "../util/text";

export interface PolicyEnvironment {
  name: string;
  isProduction: boolean;
  requiresPreviousSuccess: boolean;
  requiresAcceptance: boolean;
  requiredApprovals: number;
  approverRoles: readonly Role[];
  deployerRoles: readonly Role[];
}

export interface DeploymentFacts {
  kind: "DEPLOY" | "REVERT";
  /** The actor's roles on the release's application (empty for none). */
  actorRoles: ReadonlySet<Role>;
  environment: PolicyEnvironment;
  /** The environment before this one in the lifecycle, if any. */
  previousEnvironment: { name: string } | null;
  release: {
    version: string;
    status: ReleaseStatus;
    sha256: string;
    uploadedById: string;
  };
  /** A deployment of these bytes succeeded in the previous environment. */
  succeededInPreviousEnvironment: boolean;
  /** Verdicts by customer members of the application, oldest first. */
  verdicts: readonly { verdict: "ACCEPTED" | "REJECTED"; artifactSha256: string; userId: string; reason: string; userName: string }[];
  /** Approvals with each approver's roles on the application. */
  approvals: readonly { artifactSha256: string; userId: string; roles: ReadonlySet<Role> }[];
  /** The active people who may approve for the environment now (lib/approvals/eligible-approvers.ts), the uploader included. */
  approverIds: readonly string[];
  /** A freeze covering now, if any. */
  activeFreeze: { reason: string; endsAt: Date } | null;
  /** Ops' recorded reason to deploy through the freeze. */
  freezeOverrideReason: string | null;
}

export type BlockerCode = "NOT_ALLOWED" | "WITHDRAWN" | "REJECTED" | "PREVIOUS_ENVIRONMENT" | "ACCEPTANCE" | "APPROVALS" | "FROZEN";
export interface Blocker {
  code: BlockerCode;
  message: string;
}

const has = (roles: ReadonlySet<Role>, allowed: readonly Role[]) => allowed.some((r) => roles.has(r));

/** Who acts after a rejection, for whoever reads it (ops, customers, approvers): only developers upload. */
export const REJECTED_NEXT = "Next: its developers upload a fixed release candidate.";

/** Every gate the deployment does not pass, in the order a person would fix them; empty = allowed. */
export function deploymentBlockers(f: DeploymentFacts): Blocker[] {
  const env = f.environment;
  const out: Blocker[] = [];
  const v = f.release.version;

  // Who: production is ops' alone whatever the configuration says; other environments name their deployers.
  const allowed = env.isProduction ? f.actorRoles.has("OPS") : has(f.actorRoles, env.deployerRoles);
  if (!allowed) {
    const who = env.isProduction ? "ops" : env.deployerRoles.map((r) => r.toLowerCase()).join(" or ") || "nobody";
    out.push({ code: "NOT_ALLOWED", message: `Only ${who} may ${f.kind === "REVERT" ? "revert" : "deploy to"} ${env.name}.` });
  }
  if (f.kind === "REVERT") {
    // A revert returns to the build that was live before: it passed the gates then. A freeze does not block it,
    // because a revert is how a bad release is taken out during one.
    return out;
  }
  if (f.release.status === "WITHDRAWN") out.push({ code: "WITHDRAWN", message: `${v} was withdrawn.` });

  const onSha = (x: { artifactSha256: string }) => x.artifactSha256 === f.release.sha256;
  const latestVerdict = f.verdicts.filter(onSha).at(-1);
  const gated = env.isProduction || env.requiresAcceptance || env.requiredApprovals > 0;
  if (gated && (f.release.status === "REJECTED" || latestVerdict?.verdict === "REJECTED")) {
    const why = latestVerdict?.verdict === "REJECTED" ? ` by ${latestVerdict.userName}: ${latestVerdict.reason}` : "";
    out.push({ code: "REJECTED", message: `${sentence(`${v} was rejected${why}`)} ${REJECTED_NEXT}` });
  }
  if (env.requiresPreviousSuccess && f.previousEnvironment && !f.succeededInPreviousEnvironment) {
    out.push({ code: "PREVIOUS_ENVIRONMENT", message: `${v} must first be deployed successfully to ${f.previousEnvironment.name}.` });
  }
  if (env.requiresAcceptance && latestVerdict?.verdict !== "ACCEPTED" && latestVerdict?.verdict !== "REJECTED") {
    out.push({ code: "ACCEPTANCE", message: `${v} needs a customer's acceptance before ${env.name}.` });
  }
  if (env.requiredApprovals > 0) {
    // Separation of duties: the uploader's approval never counts, nor one given to other bytes.
    const approvers = new Set(
      f.approvals.filter((a) => onSha(a) && a.userId !== f.release.uploadedById && has(a.roles, env.approverRoles)).map((a) => a.userId),
    );
    if (approvers.size < env.requiredApprovals) {
      const stuck = approversLacking(env, f.approverIds, approvers, f.release.uploadedById);
      out.push({ code: "APPROVALS", message: `${v} has ${approvers.size} of ${plural(env.requiredApprovals, "required approval")} for ${env.name}.${stuck ? ` ${stuck}` : ""}` });
    }
  }
  if (f.activeFreeze && f.freezeOverrideReason?.trim() && !f.actorRoles.has("OPS")) {
    out.push({ code: "FROZEN", message: `Only ops may deploy to ${env.name} through its freeze (${f.activeFreeze.reason}).` });
  } else if (f.activeFreeze && !f.freezeOverrideReason?.trim()) {
    out.push({
      code: "FROZEN",
      message: `${env.name} is frozen until ${f.activeFreeze.endsAt.toISOString().slice(0, 16).replace("T", " ")} UTC (${f.activeFreeze.reason}). Ops may override with a reason.`,
    });
  }
  return out;
}

/**
 * When the approvals still missing can never come, why: too few people (the uploader never counts: separation of
 * duties) hold a role that may approve for the environment. Null while enough could. Waiting would be silent forever,
 * so the pages and the refusal say who must act: an administrator.
 */
export function approversLacking(
  env: Pick<PolicyEnvironment, "requiredApprovals" | "approverRoles">,
  approverIds: readonly string[],
  approvedBy: ReadonlySet<string>,
  uploadedById: string,
): string | null {
  const couldStill = approverIds.filter((id) => id !== uploadedById && !approvedBy.has(id)).length;
  if (approvedBy.size + couldStill >= env.requiredApprovals) return null;
  const approving: readonly Role[] = PERMISSIONS["release.approve"].roles;
  const roles = env.approverRoles.filter((r) => approving.includes(r)).map((r) => ROLE_LABELS[r] ?? r);
  const role = roles.length ? `the ${roles.join(" or ")} role` : "a role that may approve";
  if (approvedBy.size + couldStill === 0) {
    return `Nobody${approverIds.includes(uploadedById) ? " else" : ""} holds ${role} on this application: an administrator must grant it.`;
  }
  return `Too few people hold ${role} on this application: an administrator must grant it to more.`;
}
