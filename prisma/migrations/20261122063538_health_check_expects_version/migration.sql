-- AlterTable
ALTER TABLE "Environment" ADD COLUMN     "healthCheckExpectsVersion" BOOLEAN NOT NULL DEFAULT false;
