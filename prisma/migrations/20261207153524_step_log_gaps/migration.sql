-- AlterTable
ALTER TABLE "StepLog" ADD COLUMN     "line" INTEGER,
ADD COLUMN     "lostThroughSeq" INTEGER;
