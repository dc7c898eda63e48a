// How a deployment's release is named where people read it. A deployment always installs a release, except a
// revert past Releasegate's first release on servers taken over from another tool: it returns them to the builds
// they ran before (Deployment.releaseId is null). Pure: pages, notifications and audit summaries share the words.

export const EARLIER_BUILDS = "the builds from before Releasegate";

/** "1.4.0", or the earlier builds' name when the deployment installs no Releasegate release. */
export function releaseLabel(release: { version: string } | null | undefined): string {
  return release?.version ?? EARLIER_BUILDS;
}
