import "server-only";
import type { ApiTokenActor } from "../auth/actor";
import { recordAuditEvent } from "../audit/record-audit-event";
import { db } from "../db/client";
import { log } from "../log";

/**
 * Records that an API token was refused an action for lack of permission, as lib/audit/record-denial.ts does for
 * people: the refusal changed nothing but is evidence (which pipeline tried what). Never throws.
 */
export async function recordApiTokenDenial(actor: ApiTokenActor, what: string): Promise<void> {
  await db
    .$transaction((tx) =>
      recordAuditEvent(tx, actor, {
        type: "PERMISSION_DENIED",
        object: { type: "Action", id: what },
        scope: { applicationId: actor.applicationId },
        summary: `${actor.label} was refused ${what}`,
      }),
    )
    .catch((err: unknown) => log.error({ err, requestId: actor.ctx.requestId }, "could not audit a denial"));
}
