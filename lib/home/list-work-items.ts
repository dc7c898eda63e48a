import "server-only";
import type { UserActor } from "../auth/actor";
import { db } from "../db/client";
import type { Role } from "../db/generated/enums";
import type { ReleaseWhereInput } from "../db/generated/models";
import { acceptanceEnvironment, approvalEnvironment, productionEnvironment } from "../approvals/stages";
import { liveReleaseOf } from "../deployments/live-release";
import { loadDeploymentFactsForReleases } from "../deployments/load-deployment-facts-for-releases";
import { type DeploymentFacts, deploymentBlockers } from "../releases/policy";

export interface WorkItem {
  kind: "accept" | "approve" | "promote" | "fix" | "setup";
  title: string;
  detail: string;
  href: string;
}

const LIMIT = 50;
/** Each promotion candidate is checked against every gate: the newest ones suffice. */
const PROMOTE_LIMIT = 20;

/** The focused "review this release" page: verdicts, approvals and what changed since production. */
const reviewHref = (applicationId: string, releaseId: string) => `/apps/${applicationId}/releases/${releaseId}/decide`;

function appsWithRole(actor: UserActor, role: Role): string[] {
  return [...actor.roles.entries()].filter(([, roles]) => roles.has(role)).map(([appId]) => appId);
}

/** The release an environment runs now (its id and upload time), per environment asked about. */
async function runningIn(environmentIds: readonly string[]): Promise<Map<string, { id: string; createdAt: Date }>> {
  const live = await Promise.all(environmentIds.map(async (id) => [id, (await liveReleaseOf(db, id))?.releaseId ?? null] as const));
  const ids = [...new Set(live.flatMap(([, r]) => (r ? [r] : [])))];
  const rows = ids.length ? await db.release.findMany({ where: { id: { in: ids } }, select: { id: true, createdAt: true } }) : [];
  const byId = new Map(rows.map((r) => [r.id, r]));
  return new Map(live.flatMap(([env, r]) => (r && byId.has(r) ? [[env, byId.get(r)!] as const] : [])));
}

/**
 * Releases of `apps` uploaded after the one each application's production runs: approving or promoting anything
 * older (or the one running there) is no longer work, whatever its status says.
 */
async function newerThanProduction(apps: readonly string[]): Promise<ReleaseWhereInput> {
  const environments = await db.environment.findMany({
    where: { applicationId: { in: [...apps] } },
    select: { id: true, applicationId: true, name: true, position: true, isProduction: true, requiresAcceptance: true, requiredApprovals: true },
  });
  const production = new Map(
    apps.flatMap((app) => {
      const p = productionEnvironment(environments.filter((e) => e.applicationId === app));
      return p ? [[app, p.id] as const] : [];
    }),
  );
  const live = await runningIn([...production.values()]);
  return {
    OR: apps.map((app) => {
      const running = live.get(production.get(app) ?? "");
      return running ? { applicationId: app, createdAt: { gt: running.createdAt }, id: { not: running.id } } : { applicationId: app };
    }),
  };
}

/**
 * "What needs you now": the actions waiting on this person, from their roles and from what the environments run
 * now. Each query is scoped to the applications where the actor holds the role that acts on the item.
 */
export async function listWorkItems(actor: UserActor): Promise<WorkItem[]> {
  const items: WorkItem[] = [];
  const customerApps = appsWithRole(actor, "CUSTOMER");
  const approverApps = [...new Set([...appsWithRole(actor, "APPROVER"), ...appsWithRole(actor, "OPS")])];
  const opsApps = appsWithRole(actor, "OPS");
  const devApps = appsWithRole(actor, "DEVELOPER");

  if (customerApps.length > 0) {
    // What each application's acceptance environment (lib/approvals/stages.ts) runs now, if it is a candidate with no
    // verdict on these bytes yet: one replaced there since can no longer be tested. Their own uploads are left out:
    // the uploader may not judge them.
    const environments = await db.environment.findMany({ where: { applicationId: { in: customerApps } }, orderBy: { position: "asc" } });
    const acceptances = new Map(
      customerApps.flatMap((app) => {
        const e = acceptanceEnvironment(environments.filter((x) => x.applicationId === app));
        return e ? [[e.id, e] as const] : [];
      }),
    );
    const live = await runningIn([...acceptances.keys()]);
    const candidates = await db.release.findMany({
      where: { id: { in: [...live.values()].map((r) => r.id) }, applicationId: { in: customerApps }, status: "CANDIDATE", uploadedById: { not: actor.id } },
      include: { application: { select: { name: true } }, verdicts: { select: { artifactSha256: true } } },
      orderBy: { createdAt: "desc" },
      take: LIMIT,
    });
    for (const r of candidates) {
      const envId = [...live.entries()].find(([, running]) => running.id === r.id)?.[0];
      const testedIn = envId ? acceptances.get(envId) : undefined;
      if (!testedIn) continue;
      if (r.verdicts.some((v) => v.artifactSha256 === r.artifactSha256)) continue;
      items.push({
        kind: "accept",
        title: `Test ${r.application.name} ${r.version}`,
        detail: `Live in ${testedIn.name}${testedIn.url ? ` at ${testedIn.url}` : ""}: accept or reject it.`,
        href: reviewHref(r.applicationId, r.id),
      });
    }
  }

  // Approving or promoting a release older than what production runs, or the one running there, is no work.
  const current = approverApps.length > 0 ? await newerThanProduction(approverApps) : null;

  if (approverApps.length > 0) {
    const accepted = await db.release.findMany({
      where: { AND: [{ applicationId: { in: approverApps }, status: "ACCEPTED", uploadedById: { not: actor.id } }, current ?? {}] },
      include: {
        application: { include: { environments: true } },
        approvals: { select: { userId: true, environmentId: true, artifactSha256: true } },
      },
      orderBy: { createdAt: "desc" },
      take: LIMIT,
    });
    for (const r of accepted) {
      const roles = actor.roles.get(r.applicationId) ?? new Set<Role>();
      // The one environment approvals are given for (lib/approvals/approve-release.ts approves for it alone).
      const env = approvalEnvironment(r.application.environments);
      if (!env || env.requiredApprovals === 0) continue;
      const valid = r.approvals.filter((a) => a.environmentId === env.id && a.artifactSha256 === r.artifactSha256);
      if (valid.length >= env.requiredApprovals || valid.some((a) => a.userId === actor.id)) continue;
      if (!env.approverRoles.some((role) => roles.has(role))) continue;
      items.push({
        kind: "approve",
        title: `Approve ${r.application.name} ${r.version} for ${env.name}`,
        detail: `${valid.length} of ${env.requiredApprovals} approvals so far.`,
        href: reviewHref(r.applicationId, r.id),
      });
    }
  }

  if (opsApps.length > 0) {
    // Ready to promote = the lifecycle gates of production pass for this person now (lib/releases/policy.ts, the
    // same answer the deploy form and the server give), a freeze aside: ops may override it with a reason.
    const productions = await db.environment.findMany({ where: { applicationId: { in: opsApps }, isProduction: true }, orderBy: { position: "asc" } });
    const ready = await db.release.findMany({
      where: {
        AND: [{ applicationId: { in: [...new Set(productions.map((p) => p.applicationId))] }, status: { in: ["ACCEPTED", "APPROVED"] } }, current ?? {}],
      },
      include: {
        application: { select: { name: true } },
        deployments: { where: { environment: { isProduction: true }, status: { in: ["SCHEDULED", "QUEUED", "RUNNING", "ROLLING_BACK"] } }, select: { id: true } },
      },
      orderBy: { createdAt: "desc" },
      take: PROMOTE_LIMIT,
    });
    // The gates' facts per production environment, for all its candidates at once (not a query set per release).
    const candidates = ready.flatMap((r) => {
      const production = productions.find((p) => p.applicationId === r.applicationId);
      return production && r.deployments.length === 0 ? [{ release: r, production }] : [];
    });
    const factsOf = new Map<string, DeploymentFacts>();
    await Promise.all(
      [...new Set(candidates.map((c) => c.production))].map(async (production) => {
        const facts = await loadDeploymentFactsForReleases(db, actor, {
          kind: "DEPLOY",
          environment: production,
          releases: candidates.filter((c) => c.production === production).map(({ release: r }) => ({ id: r.id, version: r.version, status: r.status, sha256: r.artifactSha256, uploadedById: r.uploadedById })),
          freezeOverrideReason: null,
        });
        for (const [id, f] of facts) factsOf.set(id, f);
      }),
    );
    for (const { release: r, production } of candidates) {
      const facts = factsOf.get(r.id)!;
      const blockers = deploymentBlockers(facts);
      if (blockers.some((b) => b.code !== "FROZEN")) continue;
      const freeze = facts.activeFreeze;
      items.push({
        kind: "promote",
        title: `Promote ${r.application.name} ${r.version} to production`,
        detail: freeze
          ? `Ready, but ${production.name} is frozen until ${freeze.endsAt.toISOString().slice(0, 16).replace("T", " ")} UTC (${freeze.reason}): deploying needs an override reason.`
          : r.status === "APPROVED"
            ? "Accepted and approved: ready to roll out."
            : `Accepted; ${production.name} needs no approvals: ready to roll out.`,
        href: `/apps/${r.applicationId}/releases/${r.id}`,
      });
    }
  }

  // A rejection is work until a newer release is uploaded (the fix, or whatever replaced it): at most the newest
  // release of each application. For the people who work on it: every developer of the application, whoever uploaded
  // it, and whoever created the pipeline token that uploaded it (developers and ops create tokens).
  const workApps = [...new Set([...devApps, ...opsApps])];
  if (workApps.length > 0) {
    const newest = await Promise.all(
      workApps.map((app) => db.release.findFirst({ where: { applicationId: app }, orderBy: [{ createdAt: "desc" }, { id: "desc" }], select: { id: true } })),
    );
    const rejected = await db.release.findMany({
      where: { id: { in: newest.flatMap((r) => (r ? [r.id] : [])) }, status: "REJECTED" },
      include: {
        application: { select: { name: true } },
        verdicts: { where: { verdict: "REJECTED" }, orderBy: { createdAt: "desc" }, take: 1, include: { user: { select: { name: true } } } },
      },
      orderBy: { createdAt: "desc" },
    });
    const tokenIds = rejected.flatMap((r) => (r.uploadedViaTokenId ? [r.uploadedViaTokenId] : []));
    const tokenCreator = new Map(
      (tokenIds.length ? await db.apiToken.findMany({ where: { id: { in: tokenIds } }, select: { id: true, createdById: true } }) : []).map((t) => [t.id, t.createdById]),
    );
    for (const r of rejected) {
      const theirs = devApps.includes(r.applicationId) || r.uploadedById === actor.id || (r.uploadedViaTokenId !== null && tokenCreator.get(r.uploadedViaTokenId) === actor.id);
      if (!theirs) continue;
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
