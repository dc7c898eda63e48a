-- AlterTable
ALTER TABLE "Deployment" ALTER COLUMN "releaseId" DROP NOT NULL;

-- AlterTable
ALTER TABLE "DeploymentStep" ADD COLUMN     "fromPath" TEXT,
ADD COLUMN     "fromReleaseId" UUID;

-- AlterTable
ALTER TABLE "Target" ADD COLUMN     "currentKind" TEXT,
ADD COLUMN     "currentPath" TEXT,
ADD COLUMN     "currentRevision" TEXT,
ADD COLUMN     "takenOverFromPath" TEXT;
