-- CreateEnum
CREATE TYPE "SiteOrder" AS ENUM ('CHOSEN', 'SMALLEST_FIRST');

-- AlterTable
ALTER TABLE "Deployment" ADD COLUMN     "continuedAt" TIMESTAMP(3),
ADD COLUMN     "continuedById" UUID,
ADD COLUMN     "pauseAfterFirstSite" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "pausedAfterSite" TEXT,
ADD COLUMN     "pausedAt" TIMESTAMP(3),
ADD COLUMN     "siteFloor" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "siteOrder" "SiteOrder" NOT NULL DEFAULT 'CHOSEN',
ADD COLUMN     "siteSequence" TEXT[] DEFAULT ARRAY[]::TEXT[];

-- AlterTable
ALTER TABLE "Environment" ADD COLUMN     "pauseAfterFirstSite" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "siteFloor" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "siteOrder" "SiteOrder" NOT NULL DEFAULT 'CHOSEN';

-- AlterTable
ALTER TABLE "Target" ADD COLUMN     "siteId" UUID;

-- CreateTable
CREATE TABLE "Site" (
    "id" UUID NOT NULL,
    "environmentId" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "position" INTEGER NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Site_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "Site_environmentId_name_key" ON "Site"("environmentId", "name");

-- CreateIndex
CREATE UNIQUE INDEX "Site_environmentId_position_key" ON "Site"("environmentId", "position");

-- CreateIndex
CREATE INDEX "Target_siteId_idx" ON "Target"("siteId");

-- AddForeignKey
ALTER TABLE "Site" ADD CONSTRAINT "Site_environmentId_fkey" FOREIGN KEY ("environmentId") REFERENCES "Environment"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Target" ADD CONSTRAINT "Target_siteId_fkey" FOREIGN KEY ("siteId") REFERENCES "Site"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Deployment" ADD CONSTRAINT "Deployment_continuedById_fkey" FOREIGN KEY ("continuedById") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
