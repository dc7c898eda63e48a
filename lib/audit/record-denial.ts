import "server-only";
import type { ApiTokenActor, UserActor } from "../auth/actor";
import { db } from "../db/client";
import type { AppError } from "../errors";
import { log } from "../log";
import { recordAuditEvent } from "./record-audit-event";

/**
 * Records that an action or read was refused for lack of permission: the one writer of PERMISSION_DENIED, called
 * by the entry-point wrappers (lib/entry/) for people and pipelines alike; and of DEPLOYMENT_REFUSED, a deployment
 * the environment's gates refused (lib/deployments/request-deployment.ts), which an auditor looks for as much. The refusal changed nothing; it is still
 * evidence (who tried what, from where), so it gets its own transaction. It is filed under what the refusal was
 * about (the FORBIDDEN's scope: application, environment, release; a pipeline's own application otherwise), so the
 * application's auditor finds it and a release's evidence lists it; the refusal's message is kept as its reason.
 * Never throws: a failure to record is logged and the caller still gets their refusal.
 */
export async function recordDenial(
  actor: UserActor | ApiTokenActor,
  what: string,
  refusal?: AppError,
  type: "PERMISSION_DENIED" | "DEPLOYMENT_REFUSED" = "PERMISSION_DENIED",
): Promise<void> {
  const about = refusal?.scope ?? {};
  const applicationId = about.applicationId ?? (actor.type === "API_TOKEN" ? actor.applicationId : null);
  await db
    .$transaction(async (tx) => {
      // The application names the tenant; an id that names no application (typed into a request) files nothing.
      const app = applicationId ? await tx.application.findUnique({ where: { id: applicationId }, select: { id: true, customerId: true } }) : null;
      await recordAuditEvent(tx, actor, {
        type,
        object: { type: "Action", id: what },
        scope: app
          ? { customerId: app.customerId, applicationId: app.id, environmentId: about.environmentId ?? null, releaseId: about.releaseId ?? null }
          : undefined,
        summary: `${actor.type === "USER" ? actor.email : actor.label} was refused ${what}`,
        ...(refusal ? { data: { reason: refusal.message } } : {}),
      });
    })
    .catch((err: unknown) => log.error({ err, requestId: actor.ctx.requestId }, "could not audit a denial"));
}
