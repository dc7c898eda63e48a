// The domain calls the fault rig makes in the test's own process, as the people of a seeded fleet would through the
// UI or the pipeline API: upload a build, deploy it, read the deployment as its page shows it, change the rollout
// settings. Loaded by fault-rig.ts with a dynamic import once process.env points at the rig's database: domain
// modules read the environment (lib/env.ts) the first time they are imported.
import { randomUUID } from "node:crypto";
import { listEnvironmentBalancers } from "../../lib/balancers/list-environment-balancers";
import { requestRevert } from "../../lib/deployments/request-revert";
import { createReadStream } from "node:fs";
import path from "node:path";
import type { UserActor } from "../../lib/auth/actor";
import { toUserActor } from "../../lib/auth/session";
import { db } from "../../lib/db/client";
import { cancelDeployment as stopDeployment } from "../../lib/deployments/cancel-deployment";
import { getDeployment } from "../../lib/deployments/get-deployment";
import { requestDeployment } from "../../lib/deployments/request-deployment";
import { type TUpdateRolloutSettingsRequest, updateRolloutSettings } from "../../lib/environments/update-rollout-settings";
import { createRelease } from "../../lib/releases/create-release";
import { type SeedFleetOptions, seedFleet } from "../../scripts/lib/seed-fleet";

export { db, seedFleet, type SeedFleetOptions };

const ctx = () => ({ requestId: randomUUID().slice(0, 16), ip: null, userAgent: "releasegate fault tests" });

export async function personOf(email: string): Promise<UserActor> {
  const user = await db.user.findUniqueOrThrow({ where: { email }, include: { memberships: true } });
  return toUserActor(user, null, ctx());
}

export async function uploadRelease(dev: UserActor, applicationId: string, version: string, artifact: { file: string; sha256: string }) {
  const release = await createRelease(
    dev,
    { applicationId, version, notes: `fault test build ${version}`, needsMigration: false, migrationInstructions: "" },
    { fileName: path.basename(artifact.file), stream: createReadStream(artifact.file), expectedSha256: artifact.sha256 },
  );
  return { id: release.id, version: release.version };
}

export async function deployRelease(ops: UserActor, environmentId: string, releaseId: string): Promise<string> {
  const { deployment } = await requestDeployment(ops, { environmentId, releaseId });
  return deployment.id;
}

/** Ops press Revert on the environment, with a reason; returns the revert's deployment id. */
export async function revertEnvironment(ops: UserActor, environmentId: string, reason: string): Promise<string> {
  const { deployment } = await requestRevert(ops, { environmentId, reason });
  return deployment.id;
}

/** What the environment page's Load balancers card shows. */
export function environmentBalancers(ops: UserActor, applicationId: string, environmentId: string) {
  return listEnvironmentBalancers(ops, applicationId, environmentId);
}

/** Ops press "Stop deployment" on its page. */
export async function cancelDeployment(ops: UserActor, deploymentId: string): Promise<void> {
  await stopDeployment(ops, { deploymentId });
}

/** The deployment as its page shows it (lib/deployments/get-deployment.ts, what app/(app)/deployments/[id] renders). */
export function deploymentPage(ops: UserActor, deploymentId: string) {
  return getDeployment(ops, { deploymentId });
}

export type DeploymentPage = Awaited<ReturnType<typeof deploymentPage>>;

/** Changes some rollout settings of an environment, keeping the others, as the settings form does. */
export async function changeRolloutSettings(ops: UserActor, environmentId: string, changes: Partial<TUpdateRolloutSettingsRequest>) {
  const e = await db.environment.findUniqueOrThrow({ where: { id: environmentId } });
  await updateRolloutSettings(ops, {
    environmentId,
    strategy: e.strategy,
    batchSize: e.batchSize,
    autoRollback: e.autoRollback,
    healthCheckUrl: e.healthCheckUrl,
    healthCheckExpectsVersion: e.healthCheckExpectsVersion,
    healthCheckFailAfter5xx: e.healthCheckFailAfter5xx,
    stopCommand: e.stopCommand,
    startCommand: e.startCommand,
    backupCommand: e.backupCommand,
    migrateCommand: e.migrateCommand,
    validateCommand: e.validateCommand,
    maintenanceOnCommand: e.maintenanceOnCommand,
    maintenanceOffCommand: e.maintenanceOffCommand,
    hookTimeoutSeconds: e.hookTimeoutSeconds,
    keepReleases: e.keepReleases,
    persistentPaths: e.persistentPaths,
    bakeSeconds: e.bakeSeconds,
    bakeMax5xxPercent: e.bakeMax5xxPercent,
    bakeMaxResponseMs: e.bakeMaxResponseMs,
    bakeMaxResponseRatio: e.bakeMaxResponseRatio,
    ...changes,
  });
}
