import "server-only";
import type { ApiTokenActor, UserActor } from "../auth/actor";
import type { Tx } from "../db/client";
import type { DeploymentFacts } from "../releases/policy";
import { type FactsRequest, loadDeploymentFactsForReleases } from "./load-deployment-facts-for-releases";

/**
 * Loads what lib/releases/policy.ts decides on, for one release, environment and actor. The one definition of
 * those facts is loadDeploymentFactsForReleases, so the requests and the pages that list many releases agree.
 */
export async function loadDeploymentFacts(
  tx: Tx,
  actor: UserActor | ApiTokenActor,
  input: Omit<FactsRequest, "releases"> & { release: FactsRequest["releases"][number] },
): Promise<DeploymentFacts> {
  const { release, ...rest } = input;
  const facts = await loadDeploymentFactsForReleases(tx, actor, { ...rest, releases: [release] });
  return facts.get(release.id)!;
}
