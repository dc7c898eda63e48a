-- AlterTable
ALTER TABLE "Environment" ADD COLUMN     "healthCheckFailAfter5xx" INTEGER NOT NULL DEFAULT 3;
