import "server-only";
import type { UserActor } from "../auth/actor";
import type { Tx } from "../db/client";
import type { DeploymentFacts } from "../releases/policy";
import { type FactsRequest, loadDeploymentFactsForReleases } from "./load-deployment-facts-for-releases";

/**
 * Loads what lib/releases/policy.ts decides on, for one release, environment and actor (anyone with roles: a
 * person, a pipeline's token, or the person who scheduled a deployment, as they stand now). `at` is when the
 * deployment would start, for the freeze that covers it: now, or a scheduled time. The one definition of those
 * facts is loadDeploymentFactsForReleases, so the requests and the pages that list many releases agree.
 */
export async function loadDeploymentFacts(
  tx: Tx,
  actor: Pick<UserActor, "roles">,
  input: Omit<FactsRequest, "releases"> & { release: FactsRequest["releases"][number] },
): Promise<DeploymentFacts> {
  const { release, ...rest } = input;
  const facts = await loadDeploymentFactsForReleases(tx, actor, { ...rest, releases: [release] });
  return facts.get(release.id)!;
}
