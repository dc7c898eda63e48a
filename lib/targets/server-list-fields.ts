import type { Prisma } from "../db/generated/client";

/**
 * What a server list shows of each server (components/server-list.tsx): its agent, whether it is online, and what it
 * runs, as a release or as the agent reported `current` (lib/targets/target-health.ts whatRuns). One definition for
 * every page that lists servers, so none of them shows less than the others.
 */
export const SERVER_LIST_FIELDS = {
  id: true,
  name: true,
  status: true,
  lastSeenAt: true,
  agentVersion: true,
  agentHostname: true,
  liveReleaseId: true,
  liveRelease: { select: { version: true } },
  currentKind: true,
  currentPath: true,
  currentRevision: true,
} as const satisfies Prisma.TargetSelect;
