-- CreateIndex
CREATE INDEX "Deployment_environmentId_status_finishedAt_createdAt_idx" ON "Deployment"("environmentId", "status", "finishedAt", "createdAt");

-- CreateIndex
CREATE INDEX "Deployment_previousReleaseId_idx" ON "Deployment"("previousReleaseId");
