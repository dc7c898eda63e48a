import "server-only";
import type { UserActor } from "../auth/actor";
import { db } from "../db/client";
import { log } from "../log";
import { recordAuditEvent } from "./record-audit-event";

/**
 * Records that an action or read was refused for lack of permission. The refusal changed nothing; it is still
 * evidence (who tried what, from where), so it gets its own transaction. Never throws: a failure to record is
 * logged and the person still gets their refusal.
 */
export async function recordDenial(actor: UserActor, what: string): Promise<void> {
  await db
    .$transaction((tx) =>
      recordAuditEvent(tx, actor, {
        type: "PERMISSION_DENIED",
        object: { type: "Action", id: what },
        summary: `${actor.email} was refused ${what}`,
      }),
    )
    .catch((err: unknown) => log.error({ err, requestId: actor.ctx.requestId }, "could not audit a denial"));
}
