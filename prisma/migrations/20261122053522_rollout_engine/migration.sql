-- AlterTable
ALTER TABLE "ApiToken" ADD COLUMN     "roles" "Role"[] DEFAULT ARRAY['DEVELOPER']::"Role"[];

-- AlterTable
ALTER TABLE "Deployment" ADD COLUMN     "cancelRequestedAt" TIMESTAMP(3),
ADD COLUMN     "cancelRequestedById" UUID;

-- AlterTable
ALTER TABLE "DeploymentStep" ADD COLUMN     "logSeq" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "progress" DOUBLE PRECISION;

-- AlterTable
ALTER TABLE "Release" ADD COLUMN     "uploadedViaTokenId" UUID;

-- CreateIndex
CREATE INDEX "DeploymentStep_status_leaseExpiresAt_idx" ON "DeploymentStep"("status", "leaseExpiresAt");
