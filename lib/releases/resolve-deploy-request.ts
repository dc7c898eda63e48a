import "server-only";
import { z } from "zod";
import type { ApiTokenActor, UserActor } from "../auth/actor";
import { db } from "../db/client";
import { findEnvironmentByRef } from "../environments/find-environment-by-ref";
import { AppError } from "../errors";
import { ZText } from "../validation";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A deployment as a pipeline asks for it: environment and release by the names people use, or by id. */
export const ZApiDeployRequestSchema = z.object({
  environment: ZText().trim().min(1, "Name the environment: its slug (qa), its name (QA) or its id.").max(200),
  release: ZText().trim().min(1, "Name the release: its version (1.4.0) or its id.").max(200),
  reason: ZText().trim().max(500, "Keep the reason under 500 characters.").optional(),
  /** Start later (a maintenance window): an ISO 8601 instant with its offset; requestDeployment judges the time. */
  scheduledFor: z.iso.datetime({ offset: true, error: "scheduledFor must be an ISO 8601 date and time with its offset, e.g. 2026-11-28T22:00:00+01:00." }).optional(),
});
export type TApiDeployRequest = z.infer<typeof ZApiDeployRequestSchema>;

/**
 * Turns "qa" and "1.4.0" into the environment and release of the application, for requestDeployment. Only within
 * the application the actor may view; what does not exist there is NOT_FOUND, saying what does.
 */
export async function resolveDeployRequest(actor: UserActor | ApiTokenActor, applicationId: string, input: TApiDeployRequest) {
  const { application, environment } = await findEnvironmentByRef(actor, applicationId, input.environment);
  const release = await db.release.findFirst({
    where: { applicationId, ...(UUID.test(input.release) ? { id: input.release.toLowerCase() } : { version: input.release }) },
    select: { id: true },
  });
  if (!release) throw new AppError("NOT_FOUND", `${application.name} has no release "${input.release}". Upload it first, or list the releases.`);
  return {
    environmentId: environment.id,
    releaseId: release.id,
    ...(input.reason ? { reason: input.reason } : {}),
    ...(input.scheduledFor ? { timing: "later" as const, scheduledFor: input.scheduledFor } : {}),
  };
}
