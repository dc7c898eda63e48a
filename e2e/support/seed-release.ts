// `node --conditions=react-server --import tsx e2e/support/seed-release.ts '{"email":…,"applicationId":…,"version":…}'`
// against DATABASE_URL and DATA_DIR: uploads a small release candidate through the domain (createRelease, audited,
// stored in the artifact store), as the developer `email`, and prints the release as JSON. For e2e specs that need
// releases but are not about uploading them (fixtures.ts createRelease).
import { randomUUID } from "node:crypto";
import { Readable } from "node:stream";
import { toUserActor } from "../../lib/auth/session";
import { db } from "../../lib/db/client";
import { createRelease } from "../../lib/releases/create-release";

const input = JSON.parse(process.argv[2] ?? "{}") as { email: string; applicationId: string; version: string; needsMigration?: boolean; migrationInstructions?: string };
const user = await db.user.findUniqueOrThrow({ where: { email: input.email }, include: { memberships: true } });
const actor = toUserActor(user, null, { requestId: randomUUID().slice(0, 16), ip: null, userAgent: "e2e seed-release" });
const bytes = Buffer.from(`release ${input.version} of ${input.applicationId} ${randomUUID()}\n`);
const release = await createRelease(
  actor,
  { applicationId: input.applicationId, version: input.version, notes: `Release ${input.version}`, needsMigration: input.needsMigration ?? false, migrationInstructions: input.migrationInstructions ?? "" },
  { fileName: `shop-${input.version}.tar.gz`, stream: Readable.from([bytes]) },
);
process.stdout.write(`${JSON.stringify({ id: release.id, version: release.version, sha256: release.artifactSha256 })}\n`);
process.exit(0);
