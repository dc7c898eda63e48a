import "server-only";
import { z } from "zod";
import { recordAuditEvent } from "../audit/record-audit-event";
import type { UserActor } from "../auth/actor";
import { assertCan, can } from "../auth/permissions";
import { db } from "../db/client";
import { invalid, notFound } from "../errors";
import { lockApplicationEnvironments } from "./lock-application-environments";

export const ZReorderEnvironmentsRequestSchema = z.object({
  applicationId: z.uuid(),
  environmentId: z.uuid(),
  direction: z.enum(["up", "down"]),
});
export type TReorderEnvironmentsRequest = z.infer<typeof ZReorderEnvironmentsRequestSchema>;

/** Moves one environment a place earlier or later in the application's lifecycle. */
export async function reorderEnvironments(actor: UserActor, input: TReorderEnvironmentsRequest) {
  if (!can(actor, "application.view", input.applicationId)) throw notFound("Application");
  assertCan(actor, "environment.manage", input.applicationId);
  return db.$transaction(async (tx) => {
    await lockApplicationEnvironments(tx, input.applicationId);
    const app = await tx.application.findUnique({
      where: { id: input.applicationId },
      include: { environments: { orderBy: { position: "asc" } } },
    });
    if (!app) throw notFound("Application");
    const order = app.environments.map((e) => e.id);
    const from = order.indexOf(input.environmentId);
    if (from === -1) throw notFound("Environment");
    const to = input.direction === "up" ? from - 1 : from + 1;
    if (to < 0 || to >= order.length) throw invalid(`That environment is already ${input.direction === "up" ? "first" : "last"}.`);
    [order[from], order[to]] = [order[to]!, order[from]!];
    // Positions are unique per application: park every row in a negative range first, then number them 0..n-1.
    for (const [i, id] of order.entries()) await tx.environment.update({ where: { id }, data: { position: -1 - i } });
    for (const [i, id] of order.entries()) await tx.environment.update({ where: { id }, data: { position: i } });
    const names = (ids: string[]) => ids.map((id) => app.environments.find((e) => e.id === id)!.name);
    await recordAuditEvent(tx, actor, {
      type: "ENVIRONMENTS_REORDERED",
      object: { type: "Application", id: app.id },
      scope: { customerId: app.customerId, applicationId: app.id },
      summary: `reordered environments of ${app.name}: ${names(order).join(" -> ")}`,
      before: names(app.environments.map((e) => e.id)),
      after: names(order),
    });
    return order;
  });
}
