-- The trigram operator class of the search indexes below (pg_trgm: PostgreSQL contrib, a trusted extension, so
-- the database owner who migrates may create it).
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- CreateIndex
CREATE INDEX "Release_applicationId_status_createdAt_idx" ON "Release"("applicationId", "status", "createdAt");

-- CreateIndex
CREATE INDEX "Release_version_idx" ON "Release" USING GIN ("version" gin_trgm_ops);

-- CreateIndex
CREATE INDEX "Release_notes_idx" ON "Release" USING GIN ("notes" gin_trgm_ops);
