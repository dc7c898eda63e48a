import "server-only";
import { z } from "zod";
import { recordAuditEvent } from "../audit/record-audit-event";
import type { UserActor } from "../auth/actor";
import { assertCan, can } from "../auth/permissions";
import { db } from "../db/client";
import { conflict, notFound } from "../errors";
import { parseInput } from "../validation";

export const ZEndFreezeRequestSchema = z.object({ freezeId: z.uuid("Pick a freeze.") });
export type TEndFreezeRequest = z.infer<typeof ZEndFreezeRequestSchema>;

/**
 * Lifts a freeze now (or calls off one that has not started: it then ends at its start and never covers a moment).
 * The row is kept, with its new end, as the environment's history.
 */
export async function endFreeze(actor: UserActor, raw: TEndFreezeRequest) {
  const input = parseInput(ZEndFreezeRequestSchema, raw);
  const freeze = await db.freeze.findUnique({ where: { id: input.freezeId }, include: { environment: { include: { application: true } } } });
  if (!freeze || !can(actor, "application.view", freeze.environment.applicationId)) throw notFound("Freeze");
  const env = freeze.environment;
  assertCan(actor, "freeze.manage", env.applicationId, { environmentId: env.id });
  const now = new Date();
  const endsAt = freeze.startsAt > now ? freeze.startsAt : now;
  return db.$transaction(async (tx) => {
    // Conditional: of two people lifting it at once, one does; the other is told it is already over.
    const { count } = await tx.freeze.updateMany({ where: { id: freeze.id, endsAt: { gt: now } }, data: { endsAt } });
    if (count !== 1) throw conflict(`The freeze of ${env.name} is already over.`);
    await recordAuditEvent(tx, actor, {
      type: "FREEZE_ENDED",
      object: { type: "Freeze", id: freeze.id },
      scope: { customerId: env.application.customerId, applicationId: env.applicationId, environmentId: env.id },
      summary: `${freeze.startsAt > now ? "called off the planned freeze" : "lifted the freeze"} of ${env.application.name} / ${env.name} (${freeze.reason})`,
      before: { endsAt: freeze.endsAt.toISOString() },
      after: { endsAt: endsAt.toISOString() },
    });
    return { id: freeze.id, environment: { id: env.id, name: env.name }, endsAt };
  });
}
