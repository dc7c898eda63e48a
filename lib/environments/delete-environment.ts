import "server-only";
import { z } from "zod";
import { recordAuditEvent } from "../audit/record-audit-event";
import type { UserActor } from "../auth/actor";
import { assertCan, can } from "../auth/permissions";
import { db } from "../db/client";
import { conflict, notFound } from "../errors";
import { lockApplicationEnvironments } from "./lock-application-environments";

export const ZDeleteEnvironmentRequestSchema = z.object({ environmentId: z.uuid() });
export type TDeleteEnvironmentRequest = z.infer<typeof ZDeleteEnvironmentRequestSchema>;

/**
 * Removes an environment that has never been deployed to. One with deployments, verdicts or approvals is part of
 * the release record and stays; so does an application's last environment.
 */
export async function deleteEnvironment(actor: UserActor, input: TDeleteEnvironmentRequest) {
  return db.$transaction(async (tx) => {
    const owner = await tx.environment.findUnique({ where: { id: input.environmentId }, select: { applicationId: true } });
    if (owner) await lockApplicationEnvironments(tx, owner.applicationId);
    const env = await tx.environment.findUnique({
      where: { id: input.environmentId },
      include: {
        application: { include: { _count: { select: { environments: true } } } },
        _count: { select: { deployments: true, verdicts: true, approvals: true, targets: true } },
      },
    });
    if (!env || !can(actor, "application.view", env.applicationId)) throw notFound("Environment");
    assertCan(actor, "environment.manage", env.applicationId);
    if (env._count.deployments + env._count.verdicts + env._count.approvals > 0) {
      throw conflict(`${env.name} has release history and cannot be removed.`);
    }
    if (env._count.targets > 0) throw conflict(`${env.name} still has servers. Remove them first.`);
    if (env.application._count.environments <= 1) throw conflict("An application needs at least one environment.");
    await tx.environment.delete({ where: { id: env.id } });
    // Close the gap so positions stay 0..n-1 (unique per application, so renumber in ascending order).
    const rest = await tx.environment.findMany({ where: { applicationId: env.applicationId }, orderBy: { position: "asc" } });
    for (const [i, e] of rest.entries()) {
      if (e.position !== i) await tx.environment.update({ where: { id: e.id }, data: { position: i } });
    }
    await recordAuditEvent(tx, actor, {
      type: "ENVIRONMENT_DELETED",
      object: { type: "Environment", id: env.id },
      scope: { customerId: env.application.customerId, applicationId: env.applicationId, environmentId: env.id },
      summary: `removed environment ${env.name} from ${env.application.name}`,
      before: { name: env.name, position: env.position },
    });
  });
}
