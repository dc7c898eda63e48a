import "server-only";
import type { Tx } from "../db/client";
import type { Role } from "../db/generated/enums";
import { type Blocker, deploymentBlockers } from "../releases/policy";
import { loadDeploymentFacts } from "./load-deployment-facts";

export interface ScheduledDeployment {
  /** Always set for what can be scheduled (a deploy); null only for a revert to the builds from before Releasegate. */
  releaseId: string | null;
  environmentId: string;
  requestedById: string | null;
  freezeOverrideReason: string | null;
}

/**
 * The gates a scheduled deployment would fail if it started at `at`, judged as they stand then, not as they stood
 * when it was scheduled: a release rejected since, a freeze planned over the window, or a person who lost the
 * right to deploy there (or whose account was disabled) stops it. The rollout engine asks this when the time comes
 * (lib/rollouts/start-scheduled-deployment.ts), and the deploy panel asks it beforehand so ops see a scheduled
 * deployment that would not start while there is still time to act.
 */
export async function scheduledDeploymentBlockers(tx: Tx, d: ScheduledDeployment, at: Date): Promise<Blocker[]> {
  if (d.releaseId === null) return [];
  const env = await tx.environment.findUniqueOrThrow({ where: { id: d.environmentId } });
  const release = await tx.release.findUniqueOrThrow({ where: { id: d.releaseId } });
  const requester = d.requestedById
    ? await tx.user.findUnique({
        where: { id: d.requestedById },
        select: { name: true, status: true, memberships: { where: { applicationId: env.applicationId }, select: { role: true } } },
      })
    : null;
  const roles = new Set<Role>(requester?.status === "ACTIVE" ? requester.memberships.map((m) => m.role) : []);
  const facts = await loadDeploymentFacts(
    tx,
    { roles: new Map([[env.applicationId, roles]]) },
    {
      kind: "DEPLOY",
      environment: env,
      release: { id: release.id, version: release.version, status: release.status, sha256: release.artifactSha256, uploadedById: release.uploadedById },
      freezeOverrideReason: d.freezeOverrideReason,
      at,
    },
  );
  return deploymentBlockers(facts).map((b) => {
    if (b.code !== "NOT_ALLOWED") return b;
    // The policy's "Only ops may deploy to Production." names the rule; here the question is whose right lapsed.
    const who = requester ? `${requester.name}, who scheduled it,` : "Whoever scheduled it";
    const why = requester && requester.status !== "ACTIVE" ? " (their account is disabled)" : "";
    return { code: b.code, message: `${who} may no longer deploy to ${env.name}${why}. ${b.message}` };
  });
}
