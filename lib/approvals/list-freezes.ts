import "server-only";
import type { UserActor } from "../auth/actor";
import { can } from "../auth/permissions";
import { db } from "../db/client";
import { notFound } from "../errors";

export type FreezeState = "active" | "planned" | "over";

/**
 * An application's freezes per environment, for anyone who may view it: current and planned ones, and the most
 * recent past ones (`past` per environment).
 */
export async function listFreezes(actor: UserActor, applicationId: string, options: { environmentId?: string; past?: number } = {}) {
  if (!can(actor, "application.view", applicationId)) throw notFound("Application");
  const now = new Date();
  const environments = await db.environment.findMany({
    where: { applicationId, ...(options.environmentId ? { id: options.environmentId } : {}) },
    orderBy: { position: "asc" },
    select: { id: true, name: true, isProduction: true },
  });
  const freezes = await db.freeze.findMany({
    where: { environmentId: { in: environments.map((e) => e.id) } },
    orderBy: [{ endsAt: "desc" }],
    include: { createdBy: { select: { name: true } } },
  });
  const stateOf = (f: { startsAt: Date; endsAt: Date }): FreezeState => (f.endsAt <= now ? "over" : f.startsAt > now ? "planned" : "active");
  return environments.map((e) => {
    const own = freezes.filter((f) => f.environmentId === e.id).map((f) => ({ ...f, state: stateOf(f) }));
    return {
      ...e,
      freezes: [
        ...own.filter((f) => f.state !== "over").sort((a, b) => a.startsAt.getTime() - b.startsAt.getTime()),
        ...own.filter((f) => f.state === "over").slice(0, options.past ?? 5),
      ],
    };
  });
}

/** The rows the freeze list shows (plain strings: they cross into a client component). */
export function freezeRows(freezes: { id: string; reason: string; startsAt: Date; endsAt: Date; createdBy: { name: string }; state: FreezeState }[]) {
  return freezes.map((f) => ({ id: f.id, reason: f.reason, startsAt: f.startsAt.toISOString(), endsAt: f.endsAt.toISOString(), createdBy: f.createdBy.name, state: f.state }));
}
