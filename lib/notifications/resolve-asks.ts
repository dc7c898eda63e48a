import "server-only";
import { acceptanceEnvironment, approvalEnvironment, productionEnvironment } from "../approvals/stages";
import { db } from "../db/client";
import type { NotificationAsk } from "../db/generated/enums";
import { liveReleaseOf } from "../deployments/live-release";
import { type AskFacts, type AskResolution, resolveAsk } from "./ask-resolution";

export interface AskingNotification {
  userId: string;
  ask: NotificationAsk | null;
  releaseId: string | null;
}

/**
 * For each notification, whether what it asks is done or moot now (ask-resolution.ts), null while it stands or when
 * it asks nothing. The facts are loaded once per release and per application however many notifications there are:
 * a few indexed reads per application concerned.
 */
export async function resolveAsks(notifications: readonly AskingNotification[]): Promise<AskResolution[]> {
  const releaseIds = [...new Set(notifications.flatMap((n) => (n.ask && n.releaseId ? [n.releaseId] : [])))];
  if (releaseIds.length === 0) return notifications.map(() => null);
  const releases = await db.release.findMany({
    where: { id: { in: releaseIds } },
    select: {
      id: true,
      version: true,
      status: true,
      createdAt: true,
      artifactSha256: true,
      applicationId: true,
      verdicts: { orderBy: { createdAt: "desc" }, select: { verdict: true, artifactSha256: true, user: { select: { name: true } } } },
      approvals: { select: { userId: true, environmentId: true, artifactSha256: true } },
    },
  });
  const appIds = [...new Set(releases.map((r) => r.applicationId))];
  const environments = await db.environment.findMany({
    where: { applicationId: { in: appIds } },
    select: { id: true, applicationId: true, name: true, position: true, isProduction: true, requiresAcceptance: true, requiredApprovals: true },
  });
  const perApp = new Map(
    await Promise.all(
      appIds.map(async (appId) => {
        const envs = environments.filter((e) => e.applicationId === appId);
        const [acceptance, production] = [acceptanceEnvironment(envs), productionEnvironment(envs)];
        const [acceptanceLive, productionLive, newest] = await Promise.all([
          acceptance ? liveReleaseOf(db, acceptance.id) : null,
          production ? liveReleaseOf(db, production.id) : null,
          db.release.findFirst({ where: { applicationId: appId }, orderBy: [{ createdAt: "desc" }, { id: "desc" }], select: { id: true, version: true, createdAt: true } }),
        ]);
        const running = await db.release.findMany({
          where: { id: { in: [acceptanceLive?.releaseId, productionLive?.releaseId].filter((id): id is string => !!id) } },
          select: { id: true, version: true, createdAt: true },
        });
        const find = (id: string | undefined) => running.find((r) => r.id === id) ?? null;
        const inAcceptance = find(acceptanceLive?.releaseId);
        return [
          appId,
          {
            gate: approvalEnvironment(envs),
            acceptanceRuns: inAcceptance && acceptance ? { ...inAcceptance, environment: acceptance.name } : null,
            productionRuns: find(productionLive?.releaseId),
            newest,
          },
        ] as const;
      }),
    ),
  );
  const facts = new Map(
    releases.map((r): [string, AskFacts] => {
      const app = perApp.get(r.applicationId)!;
      const onSha = <T extends { artifactSha256: string }>(rows: T[]) => rows.filter((x) => x.artifactSha256 === r.artifactSha256);
      const latest = onSha(r.verdicts)[0];
      const approvals = app.gate ? onSha(r.approvals).filter((a) => a.environmentId === app.gate!.id) : [];
      return [
        r.id,
        {
          release: r,
          latestVerdict: latest ? { verdict: latest.verdict, by: latest.user.name } : null,
          approvals: { userIds: new Set(approvals.map((a) => a.userId)), required: app.gate?.requiredApprovals ?? 0 },
          acceptanceRuns: app.acceptanceRuns,
          productionRuns: app.productionRuns,
          newerUpload: app.newest && app.newest.id !== r.id && app.newest.createdAt > r.createdAt ? { version: app.newest.version } : null,
        },
      ];
    }),
  );
  return notifications.map((n) => {
    const f = n.ask && n.releaseId ? facts.get(n.releaseId) : undefined;
    return n.ask && f ? resolveAsk(n.ask, n.userId, f) : null;
  });
}
