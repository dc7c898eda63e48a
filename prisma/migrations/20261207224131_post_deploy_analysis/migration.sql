-- Post-deploy analysis. Every existing environment gets bakeSeconds 0 (off): its rollouts behave as before until
-- ops turn the bake on. New Production environments get a bake from lib/environments/default-environments.ts.

-- AlterTable
ALTER TABLE "DeploymentStep" ADD COLUMN     "analysis" JSONB;

-- AlterTable
ALTER TABLE "Environment" ADD COLUMN     "bakeMax5xxPercent" DOUBLE PRECISION NOT NULL DEFAULT 5,
ADD COLUMN     "bakeMaxResponseMs" INTEGER,
ADD COLUMN     "bakeMaxResponseRatio" DOUBLE PRECISION,
ADD COLUMN     "bakeSeconds" INTEGER NOT NULL DEFAULT 0;
