import "server-only";
import type { ApiTokenActor, UserActor } from "../auth/actor";
import { can } from "../auth/permissions";
import { db } from "../db/client";
import { AppError, notFound } from "../errors";

/**
 * An environment as people and pipelines name it: its id, slug ("qa") or name ("QA"), within an application the
 * actor may view. An unknown name is NOT_FOUND with the names that exist, so a typo in a pipeline is easy to fix.
 */
export async function findEnvironmentByRef(actor: UserActor | ApiTokenActor, applicationId: string, ref: string) {
  const app = await db.application.findUnique({ where: { id: applicationId }, select: { id: true, name: true } });
  if (!app || !can(actor, "application.view", applicationId)) throw notFound("Application");
  const environments = await db.environment.findMany({ where: { applicationId }, orderBy: { position: "asc" }, select: { id: true, name: true, slug: true } });
  const r = ref.trim().toLowerCase();
  const environment = environments.find((e) => e.id === r) ?? environments.find((e) => e.slug === r) ?? environments.find((e) => e.name.toLowerCase() === r);
  if (!environment) {
    throw new AppError("NOT_FOUND", `${app.name} has no environment "${ref}". Its environments are ${environments.map((e) => e.slug).join(", ")}.`);
  }
  return { application: app, environment };
}
