import "server-only";
import { z } from "zod";
import type { ApiTokenActor, UserActor } from "../auth/actor";
import { can } from "../auth/permissions";
import { db } from "../db/client";
import { ReleaseStatus } from "../db/generated/enums";
import type { ReleaseWhereInput } from "../db/generated/models";
import { liveReleaseOf } from "../deployments/live-release";
import { notFound } from "../errors";
import { parseInput, ZText } from "../validation";

const emptyAsUndefined = (v: unknown) => (typeof v === "string" && v.trim() === "" ? undefined : v);

/** The filters the release list and the API share: a status, and text found in the version or the notes. */
const ZReleaseFilterSchema = z.object({
  status: z.preprocess(emptyAsUndefined, z.enum(ReleaseStatus, `status must be one of ${Object.values(ReleaseStatus).join(", ")}.`).optional()),
  q: z.preprocess(emptyAsUndefined, ZText().trim().max(200, "Search for at most 200 characters.").optional()),
});

export const ZListReleasesQuerySchema = ZReleaseFilterSchema.extend({
  limit: z.coerce.number().int("limit must be a whole number.").min(1).max(200, "At most 200 releases a page.").default(50),
});
export type TListReleasesQuery = z.input<typeof ZListReleasesQuerySchema>;

/** The release list page's query string. */
export const ZReleaseListPageQuerySchema = ZReleaseFilterSchema.extend({
  page: z.preprocess(emptyAsUndefined, z.coerce.number().int("page must be a whole number.").min(1, "Pages start at 1.").max(100_000).default(1)),
});
export type TReleaseListPageQuery = z.input<typeof ZReleaseListPageQuerySchema>;

/** Releases a list page shows. */
export const RELEASE_PAGE_SIZE = 25;

/** The one definition of which releases a filter selects, and in which order (newest first), for page and API. */
function releaseQuery(applicationId: string, filter: z.infer<typeof ZReleaseFilterSchema>) {
  const where: ReleaseWhereInput = {
    applicationId,
    ...(filter.status ? { status: filter.status } : {}),
    ...(filter.q
      ? { OR: [{ version: { contains: filter.q, mode: "insensitive" as const } }, { notes: { contains: filter.q, mode: "insensitive" as const } }] }
      : {}),
  };
  return { where, orderBy: [{ createdAt: "desc" as const }, { id: "desc" as const }], include: { uploadedBy: { select: { id: true, name: true } } } };
}

interface ReleaseRow {
  id: string;
  applicationId: string;
  version: string;
  status: ReleaseStatus;
  notes: string;
  needsMigration: boolean;
  migrationInstructions: string;
  artifactSha256: string;
  artifactSize: bigint;
  artifactFileName: string;
  uploadedViaTokenId: string | null;
  createdAt: Date;
  uploadedBy: { id: string; name: string };
}

/** A release as the API shows it (no storage details). */
export function toReleaseJson(r: ReleaseRow) {
  return {
    id: r.id,
    applicationId: r.applicationId,
    version: r.version,
    status: r.status,
    sha256: r.artifactSha256,
    size: Number(r.artifactSize),
    fileName: r.artifactFileName,
    notes: r.notes,
    needsMigration: r.needsMigration,
    migrationInstructions: r.migrationInstructions,
    uploadedBy: r.uploadedBy,
    uploadedViaToken: r.uploadedViaTokenId !== null,
    createdAt: r.createdAt.toISOString(),
  };
}
export type ReleaseJson = ReturnType<typeof toReleaseJson>;

/** The application's releases, newest first, for anyone who may view the application. */
export async function listReleases(actor: UserActor | ApiTokenActor, applicationId: string, raw: TListReleasesQuery = {}): Promise<ReleaseJson[]> {
  const query = parseInput(ZListReleasesQuerySchema, raw);
  if (!can(actor, "application.view", applicationId)) throw notFound("Application");
  const rows = await db.release.findMany({ ...releaseQuery(applicationId, query), take: query.limit });
  return rows.map(toReleaseJson);
}

/**
 * One page of the application's release list for a person: filtered, newest first, each release with the
 * environments it is live in (the release of each environment's last successful deployment).
 */
export async function listReleasePage(actor: UserActor, applicationId: string, raw: TReleaseListPageQuery = {}) {
  const query = parseInput(ZReleaseListPageQuerySchema, raw);
  if (!z.uuid().safeParse(applicationId).success || !can(actor, "application.view", applicationId)) throw notFound("Application");
  const app = await db.application.findUnique({
    where: { id: applicationId },
    select: { id: true, name: true, customer: { select: { name: true } }, environments: { orderBy: { position: "asc" }, select: { id: true, name: true, isProduction: true } } },
  });
  if (!app) throw notFound("Application");
  const selection = releaseQuery(app.id, query);
  const [total, rows, live] = await Promise.all([
    db.release.count({ where: selection.where }),
    db.release.findMany({ ...selection, skip: (query.page - 1) * RELEASE_PAGE_SIZE, take: RELEASE_PAGE_SIZE }),
    Promise.all(app.environments.map(async (e) => ({ environment: e, releaseId: (await liveReleaseOf(db, e.id))?.releaseId ?? null }))),
  ]);
  return {
    application: app,
    query,
    total,
    pageCount: Math.max(1, Math.ceil(total / RELEASE_PAGE_SIZE)),
    releases: rows.map((r) => ({ ...toReleaseJson(r), liveIn: live.filter((l) => l.releaseId === r.id).map((l) => l.environment) })),
  };
}
export type ReleaseListPage = Awaited<ReturnType<typeof listReleasePage>>;
