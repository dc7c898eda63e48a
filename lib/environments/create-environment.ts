import "server-only";
import { z } from "zod";
import { recordAuditEvent } from "../audit/record-audit-event";
import type { UserActor } from "../auth/actor";
import { assertCan, can } from "../auth/permissions";
import { db } from "../db/client";
import { conflict, isUniqueViolation, notFound } from "../errors";
import { slugify } from "../util/slugify";
import { assertDistinctSlug } from "./assert-distinct-slug";
import { defaultsForNewEnvironment } from "./default-environments";
import { lockApplicationEnvironments } from "./lock-application-environments";
import { ZText } from "../validation";

export const ZEnvironmentName = ZText().trim().min(1, "Enter a name.").max(60, "Use at most 60 characters.");

export const ZCreateEnvironmentRequestSchema = z.object({
  applicationId: z.uuid(),
  name: ZEnvironmentName,
});
export type TCreateEnvironmentRequest = z.infer<typeof ZCreateEnvironmentRequestSchema>;

/** Adds an environment at the end of the application's lifecycle (reorder to move it). */
export async function createEnvironment(actor: UserActor, input: TCreateEnvironmentRequest) {
  if (!can(actor, "application.view", input.applicationId)) throw notFound("Application");
  assertCan(actor, "environment.manage", input.applicationId);
  try {
    return await db.$transaction(async (tx) => {
      await lockApplicationEnvironments(tx, input.applicationId);
      const app = await tx.application.findUnique({
        where: { id: input.applicationId },
        include: { environments: { select: { position: true } } },
      });
      if (!app) throw notFound("Application");
      await assertDistinctSlug(tx, app.id, input.name, slugify(input.name));
      const position = Math.max(-1, ...app.environments.map((e) => e.position)) + 1;
      const env = await tx.environment.create({
        data: { applicationId: app.id, ...defaultsForNewEnvironment(input.name, slugify(input.name), position) },
      });
      await recordAuditEvent(tx, actor, {
        type: "ENVIRONMENT_CREATED",
        object: { type: "Environment", id: env.id },
        scope: { customerId: app.customerId, applicationId: app.id, environmentId: env.id },
        summary: `added environment ${env.name} to ${app.name}`,
        after: { name: env.name, position },
      });
      return env;
    });
  } catch (e) {
    if (isUniqueViolation(e)) throw conflict(`This application already has an environment named "${input.name}".`);
    throw e;
  }
}
