import "server-only";
import { z } from "zod";
import type { UserActor } from "../auth/actor";
import { can } from "../auth/permissions";
import { db } from "../db/client";
import { liveReleaseOf } from "../deployments/live-release";
import { notFound } from "../errors";
import { SERVER_LIST_FIELDS } from "../targets/server-list-fields";

export const ZGetEnvironmentRequestSchema = z.object({ applicationId: z.uuid(), environmentId: z.uuid() });
export type TGetEnvironmentRequest = z.input<typeof ZGetEnvironmentRequestSchema>;

/**
 * One environment of an application with its rollout settings and its servers (agent state and the balancers
 * each is behind), and the release it should run. Outside the actor's tenant, or for an environment of another
 * application, the answer is NOT_FOUND. Hook commands are operational settings: they are
 * returned only to people who manage the servers.
 */
export async function getEnvironment(actor: UserActor, raw: TGetEnvironmentRequest) {
  const parsed = ZGetEnvironmentRequestSchema.safeParse(raw);
  if (!parsed.success || !can(actor, "application.view", parsed.data.applicationId)) throw notFound("Environment");
  const { applicationId, environmentId } = parsed.data;
  const env = await db.environment.findFirst({
    where: { id: environmentId, applicationId },
    include: {
      application: { select: { id: true, name: true, customer: { select: { id: true, name: true } } } },
      targets: {
        orderBy: [{ name: "asc" }, { id: "asc" }],
        select: {
          ...SERVER_LIST_FIELDS,
          balancers: { select: { backend: true, server: true, balancer: { select: { name: true, kind: true } } }, orderBy: { balancer: { name: "asc" } } },
        },
      },
    },
  });
  if (!env) throw notFound("Environment");
  const live = await liveReleaseOf(db, env.id);
  const expected = live ? await db.release.findUnique({ where: { id: live.releaseId }, select: { id: true, version: true } }) : null;
  const manages = can(actor, "target.manage", applicationId);
  const hooks = { stop: env.stopCommand, start: env.startCommand, backup: env.backupCommand, migrate: env.migrateCommand, validate: env.validateCommand, "maintenance on": env.maintenanceOnCommand, "maintenance off": env.maintenanceOffCommand };
  return {
    ...env,
    ...(manages
      ? {}
      : {
          stopCommand: null,
          startCommand: null,
          backupCommand: null,
          migrateCommand: null,
          validateCommand: null,
          maintenanceOnCommand: null,
          maintenanceOffCommand: null,
        }),
    /** Names of the hooks that are set, for everyone (the commands themselves only for those who manage). */
    configuredHooks: Object.entries(hooks).filter(([, command]) => command !== null).map(([name]) => name),
    expectedRelease: expected,
    manages,
  };
}

export type EnvironmentDetail = Awaited<ReturnType<typeof getEnvironment>>;
