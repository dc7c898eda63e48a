import "server-only";
import type { AuthenticatedAgent } from "../agents/authenticate-agent";
import { db } from "../db/client";
import { notFound } from "../errors";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The artifact of a release, for the agent that installs it: only releases of the agent's own application. Any
 * other id, another tenant's included, is NOT_FOUND, so ids cannot be probed.
 */
export async function getReleaseArtifact(agent: AuthenticatedAgent, releaseId: string) {
  if (!UUID.test(releaseId)) throw notFound("Release");
  const release = await db.release.findFirst({
    where: { id: releaseId, applicationId: agent.applicationId },
    select: { id: true, version: true, artifactSha256: true, artifactFileName: true, artifactStorageKey: true },
  });
  if (!release) throw notFound("Release");
  return { storageKey: release.artifactStorageKey, sha256: release.artifactSha256, fileName: release.artifactFileName };
}
