import "server-only";
import { z } from "zod";
import type { UserActor } from "../auth/actor";
import { can } from "../auth/permissions";
import { db } from "../db/client";
import type { Role } from "../db/generated/enums";
import { notFound } from "../errors";
import { type Blocker, deploymentBlockers } from "../releases/policy";
import { parseInput } from "../validation";
import { liveReleaseOf } from "./live-release";
import { cancelPermissionFor } from "./cancel-deployment";
import { loadDeploymentFacts } from "./load-deployment-facts";
import { loadDeploymentFactsForReleases } from "./load-deployment-facts-for-releases";
import { EARLIER_BUILDS } from "./release-label";
import { revertTargetOf } from "./revert-target";
import { scheduledDeploymentBlockers } from "./scheduled-deployment-blockers";

export const ZDeployOptionsRequestSchema = z.object({
  environmentId: z.uuid(),
  /** How many of the newest releases to offer. */
  limit: z.coerce.number().int().min(1).max(100).default(15),
});
export type TDeployOptionsRequest = z.input<typeof ZDeployOptionsRequestSchema>;

export interface DeployOption {
  releaseId: string;
  version: string;
  status: string;
  createdAt: Date;
  /** Runs in this environment now (a redeploy is allowed). */
  live: boolean;
  /** Every gate it does not pass for this actor now, as lib/releases/policy.ts words them. */
  blockers: Blocker[];
  /**
   * The actor can pick it in the form: no blockers, or only a freeze, which ops may override with a reason and
   * anyone may wait out by scheduling the deployment for after it (the server judges the time they choose).
   */
  selectable: boolean;
  needsMigration: boolean;
  /** Markdown written by the developer: what the migration does and anything to do by hand. */
  migrationInstructions: string;
}

/**
 * What the actor may do in an environment, with the reasons when not: the releases they could deploy (the newest
 * first, withdrawn ones left out), each with the lifecycle gates it does not pass, and the release a revert would
 * return to. The answers come from the same rules the requests enforce (lib/releases/policy.ts on facts loaded by
 * loadDeploymentFacts), so the UI's "why not" is exactly what the server would say.
 */
export async function deployOptions(actor: UserActor, raw: TDeployOptionsRequest) {
  const input = parseInput(ZDeployOptionsRequestSchema, raw);
  const env = await db.environment.findUnique({ where: { id: input.environmentId } });
  if (!env || !can(actor, "application.view", env.applicationId)) throw notFound("Environment");

  const [live, back] = await Promise.all([liveReleaseOf(db, env.id), revertTargetOf(db, env.id)]);
  const now = new Date();
  const [current, previous, frozen, nextFreeze, servers, scheduled] = await Promise.all([
    live ? db.release.findUnique({ where: { id: live.releaseId }, select: { id: true, version: true, needsMigration: true } }) : null,
    // What a revert returns to (not simply what the live deployment replaced: see revert-target.ts).
    back?.kind === "release" ? db.release.findUnique({ where: { id: back.releaseId } }) : null,
    db.freeze.findFirst({ where: { environmentId: env.id, startsAt: { lte: now }, endsAt: { gt: now } }, orderBy: { endsAt: "desc" } }),
    // So whoever picks a maintenance window sees the freeze it must avoid.
    db.freeze.findFirst({ where: { environmentId: env.id, startsAt: { gt: now } }, orderBy: { startsAt: "asc" } }),
    // In the rollout's order (the planner's), so "the first server" below is the one that migrates.
    db.target.findMany({ where: { environmentId: env.id, status: "ACTIVE" }, orderBy: [{ name: "asc" }, { id: "asc" }], select: { name: true } }),
    db.deployment.findFirst({ where: { environmentId: env.id, status: "SCHEDULED" }, select: { id: true, releaseId: true, environmentId: true, requestedById: true, freezeOverrideReason: true, scheduledFor: true } }),
  ]);
  const roles = actor.roles.get(env.applicationId) ?? new Set<Role>();

  // Who may deploy here, and whether they may lift a freeze with a reason, are rules of the policy; asking it about
  // a release without history gives exactly those answers, also when the application has no releases yet.
  const probe = (freeze: { reason: string; endsAt: Date } | null, freezeOverrideReason: string | null) =>
    deploymentBlockers({
      kind: "DEPLOY",
      actorRoles: roles,
      environment: env,
      previousEnvironment: null,
      release: { version: "", status: "CANDIDATE", sha256: "", uploadedById: "" },
      succeededInPreviousEnvironment: true,
      verdicts: [],
      approvals: [],
      approverIds: [],
      activeFreeze: freeze,
      freezeOverrideReason,
    });
  const mayDeploy = can(actor, "deployment.request", env.applicationId) && !probe(null, null).some((b) => b.code === "NOT_ALLOWED");
  const mayOverrideFreeze = mayDeploy && probe({ reason: "", endsAt: new Date() }, "a reason").length === 0;

  let releases: DeployOption[] = [];
  if (mayDeploy) {
    const rows = await db.release.findMany({
      where: { applicationId: env.applicationId, status: { not: "WITHDRAWN" } },
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
      take: input.limit,
    });
    // One set of queries for all of them (not one per release): the dashboard asks this for every environment.
    const facts = await loadDeploymentFactsForReleases(db, actor, {
      kind: "DEPLOY",
      environment: env,
      releases: rows.map((r) => ({ id: r.id, version: r.version, status: r.status, sha256: r.artifactSha256, uploadedById: r.uploadedById })),
      freezeOverrideReason: null,
    });
    releases = rows.map((r) => {
      const blockers = deploymentBlockers(facts.get(r.id)!);
      return {
        releaseId: r.id,
        version: r.version,
        status: r.status,
        createdAt: r.createdAt,
        live: r.id === live?.releaseId,
        blockers,
        // A freeze is the one gate the form itself can get past: an override reason, or a time after it.
        selectable: blockers.every((b) => b.code === "FROZEN"),
        needsMigration: r.needsMigration,
        migrationInstructions: r.needsMigration ? r.migrationInstructions : "",
      };
    });
  }

  let revert: {
    releaseId: string | null;
    version: string;
    /** Set for a revert past Releasegate's first release: each server's build from before it (still on disk). */
    earlierBuilds: { server: string; path: string }[] | null;
    fromVersion: string | null;
    fromNeedsMigration: boolean;
    blockers: Blocker[];
  } | null = null;
  const earlier = back?.kind === "earlier-builds" && back.missing.length === 0 ? back : null;
  const revertProbe = previous ?? (earlier ? await db.release.findUnique({ where: { id: earlier.fromReleaseId } }) : null);
  if (revertProbe && can(actor, "deployment.revert", env.applicationId)) {
    const facts = await loadDeploymentFacts(db, actor, {
      kind: "REVERT",
      environment: env,
      release: { id: revertProbe.id, version: revertProbe.version, status: revertProbe.status, sha256: revertProbe.artifactSha256, uploadedById: revertProbe.uploadedById },
      freezeOverrideReason: null,
    });
    revert = {
      releaseId: previous?.id ?? null,
      version: previous?.version ?? EARLIER_BUILDS,
      earlierBuilds: previous ? null : (earlier?.servers.map((x) => ({ server: x.name, path: x.path })) ?? null),
      fromVersion: current?.version ?? null,
      fromNeedsMigration: current?.needsMigration ?? false,
      blockers: deploymentBlockers(facts),
    };
  }

  // A scheduled deployment that would be refused at its time, judged now, while there is time to act on it.
  const scheduledBlockers = scheduled?.scheduledFor ? await scheduledDeploymentBlockers(db, scheduled, scheduled.scheduledFor) : [];

  return {
    environment: {
      id: env.id,
      name: env.name,
      isProduction: env.isProduction,
      applicationId: env.applicationId,
      // What a migration release does on the first server (agent/src/run-job.ts runs them in this order).
      migrationHooks: { maintenanceOn: env.maintenanceOnCommand, backup: env.backupCommand, migrate: env.migrateCommand, maintenanceOff: env.maintenanceOffCommand },
      servers: servers.map((t) => t.name),
    },
    live: current ? { releaseId: current.id, version: current.version, previousVersion: previous?.version ?? (earlier ? EARLIER_BUILDS : null) } : null,
    freeze: frozen ? { reason: frozen.reason, endsAt: frozen.endsAt } : null,
    nextFreeze: nextFreeze ? { reason: nextFreeze.reason, startsAt: nextFreeze.startsAt, endsAt: nextFreeze.endsAt } : null,
    scheduled: scheduled ? { deploymentId: scheduled.id, blockers: scheduledBlockers } : null,
    /** Whether the actor may cancel what waits or runs here (stopping production is ops' call). */
    mayCancel: can(actor, cancelPermissionFor(env), env.applicationId),
    mayDeploy,
    /** Whether ops may give a reason to deploy through the freeze. */
    mayOverrideFreeze,
    releases,
    /** Set when the actor may revert and there is a release to return to. */
    revert: revert && revert.blockers.length === 0 ? revert : null,
  };
}

export type DeployOptions = Awaited<ReturnType<typeof deployOptions>>;
