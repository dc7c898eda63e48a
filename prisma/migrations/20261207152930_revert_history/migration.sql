-- AlterTable
ALTER TABLE "Deployment" ADD COLUMN     "returnToDeploymentId" UUID;

-- CreateIndex
CREATE INDEX "Deployment_returnToDeploymentId_idx" ON "Deployment"("returnToDeploymentId");

-- AddForeignKey
ALTER TABLE "Deployment" ADD CONSTRAINT "Deployment_returnToDeploymentId_fkey" FOREIGN KEY ("returnToDeploymentId") REFERENCES "Deployment"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- Backfill the history that existing deployments imply, oldest request first (each one's pointer depends only on
-- earlier ones). `live` is what ran when the deployment was requested (one deployment per environment at a time,
-- so the newest success finished before it). A deploy builds on it (a redeploy of the same release replaces it);
-- a revert returns to what the entry it went back to had returned to.
DO $$
DECLARE
  d RECORD;
  live RECORD;
  back RECORD;
BEGIN
  FOR d IN SELECT id, "environmentId", kind, "releaseId", "createdAt" FROM "Deployment" ORDER BY "createdAt", id LOOP
    SELECT id, "releaseId", "returnToDeploymentId" INTO live FROM "Deployment"
      WHERE "environmentId" = d."environmentId" AND status = 'SUCCEEDED' AND "finishedAt" <= d."createdAt" AND id <> d.id
      ORDER BY "finishedAt" DESC, "createdAt" DESC LIMIT 1;
    CONTINUE WHEN NOT FOUND;
    IF d.kind = 'DEPLOY' THEN
      UPDATE "Deployment" SET "returnToDeploymentId" = CASE WHEN live."releaseId" = d."releaseId" THEN live."returnToDeploymentId" ELSE live.id END
        WHERE id = d.id;
    ELSE
      SELECT "returnToDeploymentId" INTO back FROM "Deployment"
        WHERE "environmentId" = d."environmentId" AND status = 'SUCCEEDED' AND "finishedAt" <= d."createdAt"
          AND "releaseId" = d."releaseId" AND id <> live.id AND id <> d.id
        ORDER BY "finishedAt" DESC, "createdAt" DESC LIMIT 1;
      IF FOUND THEN
        UPDATE "Deployment" SET "returnToDeploymentId" = back."returnToDeploymentId" WHERE id = d.id;
      END IF;
    END IF;
  END LOOP;
END $$;
