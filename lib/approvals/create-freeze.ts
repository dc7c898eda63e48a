import "server-only";
import { z } from "zod";
import { recordAuditEvent } from "../audit/record-audit-event";
import type { UserActor } from "../auth/actor";
import { assertCan, can } from "../auth/permissions";
import { db } from "../db/client";
import { notFound } from "../errors";
import { parseInput, ZStorableDate, ZText } from "../validation";

const emptyAsUndefined = (v: unknown) => (v === "" || v === null ? undefined : v);

export const ZCreateFreezeRequestSchema = z
  .object({
    environmentId: z.uuid("Pick an environment."),
    /** Absent: from now. The form sends ISO times converted from the person's own time zone. */
    startsAt: z.preprocess(emptyAsUndefined, ZStorableDate("Enter a valid start time.").optional()),
    endsAt: z.preprocess(emptyAsUndefined, ZStorableDate("Enter when the freeze ends.")),
    reason: ZText().trim().min(1, "Say why the environment is frozen, e.g. Black Friday sales.").max(500, "Keep the reason under 500 characters."),
  })
  .superRefine((v, ctx) => {
    const start = v.startsAt ?? new Date();
    if (v.endsAt.getTime() <= Date.now()) ctx.addIssue({ code: "custom", path: ["endsAt"], message: "The end must be in the future." });
    else if (v.endsAt.getTime() <= start.getTime()) ctx.addIssue({ code: "custom", path: ["endsAt"], message: "The end must be after the start." });
  });
export type TCreateFreezeRequest = z.input<typeof ZCreateFreezeRequestSchema>;

/**
 * Freezes an environment from `startsAt` (default now) until `endsAt`: deployments to it are refused meanwhile
 * unless ops override the freeze with a recorded reason (lib/releases/policy.ts). Reverts are never blocked.
 */
export async function createFreeze(actor: UserActor, raw: TCreateFreezeRequest) {
  const input = parseInput(ZCreateFreezeRequestSchema, raw);
  const env = await db.environment.findUnique({ where: { id: input.environmentId }, include: { application: true } });
  if (!env || !can(actor, "application.view", env.applicationId)) throw notFound("Environment");
  assertCan(actor, "freeze.manage", env.applicationId, { environmentId: env.id });
  const startsAt = input.startsAt ?? new Date();
  return db.$transaction(async (tx) => {
    const freeze = await tx.freeze.create({ data: { environmentId: env.id, startsAt, endsAt: input.endsAt, reason: input.reason, createdById: actor.id } });
    await recordAuditEvent(tx, actor, {
      type: "FREEZE_CREATED",
      object: { type: "Freeze", id: freeze.id },
      scope: { customerId: env.application.customerId, applicationId: env.applicationId, environmentId: env.id },
      summary: `froze ${env.application.name} / ${env.name} from ${startsAt.toISOString()} until ${input.endsAt.toISOString()}: ${input.reason}`,
      after: { startsAt: startsAt.toISOString(), endsAt: input.endsAt.toISOString(), reason: input.reason },
    });
    return { ...freeze, environment: { id: env.id, name: env.name } };
  });
}
