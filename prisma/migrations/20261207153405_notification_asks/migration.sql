-- CreateEnum
CREATE TYPE "NotificationAsk" AS ENUM ('TEST', 'APPROVE', 'PROMOTE', 'FIX');

-- AlterTable
ALTER TABLE "Notification" ADD COLUMN     "ask" "NotificationAsk",
ADD COLUMN     "releaseId" UUID;

-- Notifications sent before asks were recorded, whose link names the release they ask about: the inbox can then
-- tell when they are done too. (Requests to promote linked to the application page: they stay as they were.)
UPDATE "Notification"
SET ask = CASE kind WHEN 'release.ready_for_acceptance' THEN 'TEST'::"NotificationAsk" WHEN 'release.rejected' THEN 'FIX'::"NotificationAsk" ELSE 'APPROVE'::"NotificationAsk" END,
    "releaseId" = substring(link from '^/apps/[0-9a-f-]{36}/releases/([0-9a-f-]{36})')::uuid
WHERE link ~ '^/apps/[0-9a-f-]{36}/releases/[0-9a-f-]{36}'
  AND (kind IN ('release.ready_for_acceptance', 'release.rejected') OR (kind = 'release.accepted' AND title LIKE 'Approve %'));
