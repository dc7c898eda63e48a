import "server-only";
import type { UserActor } from "../auth/actor";
import { db } from "../db/client";
import type { Role } from "../db/generated/enums";

export interface WorkItem {
  kind: "accept" | "approve" | "promote" | "fix" | "setup";
  title: string;
  detail: string;
  href: string;
}

const LIMIT = 50;

function appsWithRole(actor: UserActor, role: Role): string[] {
  return [...actor.roles.entries()].filter(([, roles]) => roles.has(role)).map(([appId]) => appId);
}

/**
 * "What needs you now": the actions waiting on this person, from their roles. Each query is scoped to the
 * applications where the actor holds the role that acts on the item.
 */
export async function listWorkItems(actor: UserActor): Promise<WorkItem[]> {
  const items: WorkItem[] = [];
  const customerApps = appsWithRole(actor, "CUSTOMER");
  const approverApps = [...new Set([...appsWithRole(actor, "APPROVER"), ...appsWithRole(actor, "OPS")])];
  const opsApps = appsWithRole(actor, "OPS");
  const devApps = appsWithRole(actor, "DEVELOPER");

  if (customerApps.length > 0) {
    // Candidates live in an environment that feeds an acceptance gate, with no verdict on these bytes yet.
    const candidates = await db.release.findMany({
      where: {
        applicationId: { in: customerApps },
        status: "CANDIDATE",
        deployments: { some: { status: "SUCCEEDED", kind: "DEPLOY" } },
      },
      include: {
        application: { include: { environments: { orderBy: { position: "asc" } } } },
        deployments: { where: { status: "SUCCEEDED", kind: "DEPLOY" }, select: { environmentId: true } },
        verdicts: { select: { artifactSha256: true } },
      },
      orderBy: { createdAt: "desc" },
      take: LIMIT,
    });
    for (const r of candidates) {
      const envs = r.application.environments;
      const testedIn = envs.find(
        (e, i) => r.deployments.some((d) => d.environmentId === e.id) && envs[i + 1]?.requiresAcceptance === true,
      );
      if (!testedIn || r.verdicts.some((v) => v.artifactSha256 === r.artifactSha256)) continue;
      items.push({
        kind: "accept",
        title: `Test ${r.application.name} ${r.version}`,
        detail: `Live in ${testedIn.name}${testedIn.url ? ` at ${testedIn.url}` : ""}: accept or reject it.`,
        href: `/apps/${r.applicationId}/releases/${r.id}`,
      });
    }
  }

  if (approverApps.length > 0) {
    const accepted = await db.release.findMany({
      where: { applicationId: { in: approverApps }, status: "ACCEPTED", uploadedById: { not: actor.id } },
      include: {
        application: { include: { environments: { where: { requiredApprovals: { gt: 0 } } } } },
        approvals: { select: { userId: true, environmentId: true, artifactSha256: true } },
      },
      orderBy: { createdAt: "desc" },
      take: LIMIT,
    });
    for (const r of accepted) {
      const roles = actor.roles.get(r.applicationId) ?? new Set<Role>();
      for (const env of r.application.environments) {
        const valid = r.approvals.filter((a) => a.environmentId === env.id && a.artifactSha256 === r.artifactSha256);
        if (valid.length >= env.requiredApprovals || valid.some((a) => a.userId === actor.id)) continue;
        if (!env.approverRoles.some((role) => roles.has(role))) continue;
        items.push({
          kind: "approve",
          title: `Approve ${r.application.name} ${r.version} for ${env.name}`,
          detail: `${valid.length} of ${env.requiredApprovals} approvals so far.`,
          href: `/apps/${r.applicationId}/releases/${r.id}`,
        });
      }
    }
  }

  if (opsApps.length > 0) {
    const approved = await db.release.findMany({
      where: { applicationId: { in: opsApps }, status: "APPROVED" },
      include: { application: { select: { name: true } } },
      orderBy: { createdAt: "desc" },
      take: LIMIT,
    });
    for (const r of approved) {
      items.push({
        kind: "promote",
        title: `Promote ${r.application.name} ${r.version} to production`,
        detail: "Accepted and approved: ready to roll out.",
        href: `/apps/${r.applicationId}/releases/${r.id}`,
      });
    }
  }

  if (devApps.length > 0) {
    const rejected = await db.release.findMany({
      where: { applicationId: { in: devApps }, status: "REJECTED", uploadedById: actor.id },
      include: {
        application: { select: { name: true } },
        verdicts: { where: { verdict: "REJECTED" }, orderBy: { createdAt: "desc" }, take: 1, include: { user: { select: { name: true } } } },
      },
      orderBy: { createdAt: "desc" },
      take: LIMIT,
    });
    for (const r of rejected) {
      const v = r.verdicts[0];
      items.push({
        kind: "fix",
        title: `${r.application.name} ${r.version} was rejected`,
        detail: v ? `${v.user.name}: “${v.reason}”` : "Rejected in acceptance.",
        href: `/apps/${r.applicationId}/releases/${r.id}`,
      });
    }
  }

  if (actor.isPlatformAdmin) {
    const [customersWithoutApps, appsWithoutMembers] = await Promise.all([
      db.customer.findMany({ where: { applications: { none: {} } }, orderBy: { name: "asc" }, take: LIMIT }),
      db.application.findMany({
        where: { memberships: { none: {} } },
        include: { customer: { select: { name: true } } },
        orderBy: { name: "asc" },
        take: LIMIT,
      }),
    ]);
    for (const c of customersWithoutApps) {
      items.push({ kind: "setup", title: `Add an application for ${c.name}`, detail: "This customer has no applications yet.", href: "/admin/customers" });
    }
    for (const a of appsWithoutMembers) {
      items.push({
        kind: "setup",
        title: `Give people roles on ${a.name}`,
        detail: `${a.customer.name}'s application has no members yet.`,
        href: `/apps/${a.id}/settings`,
      });
    }
  }
  return items;
}
