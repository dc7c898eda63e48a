import "server-only";
import { z } from "zod";
import type { ApiTokenActor, UserActor } from "../auth/actor";
import { can } from "../auth/permissions";
import { db } from "../db/client";
import type { ReleaseStatus } from "../db/generated/enums";
import { notFound } from "../errors";

export const ZListReleasesQuerySchema = z.object({
  limit: z.coerce.number().int("limit must be a whole number.").min(1).max(200, "At most 200 releases a page.").default(50),
});
export type TListReleasesQuery = z.infer<typeof ZListReleasesQuerySchema>;

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
export async function listReleases(actor: UserActor | ApiTokenActor, applicationId: string, query: TListReleasesQuery = { limit: 50 }): Promise<ReleaseJson[]> {
  if (!can(actor, "application.view", applicationId)) throw notFound("Application");
  const rows = await db.release.findMany({
    where: { applicationId },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: query.limit,
    include: { uploadedBy: { select: { id: true, name: true } } },
  });
  return rows.map(toReleaseJson);
}
