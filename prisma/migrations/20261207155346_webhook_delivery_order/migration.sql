-- AlterTable: existing deliveries take the time their payload says the event happened (every payload carries
-- occurredAt; the creation time is the fallback), so they keep their place in each webhook's order.
ALTER TABLE "WebhookDelivery" ADD COLUMN     "occurredAt" TIMESTAMP(3);
UPDATE "WebhookDelivery" SET "occurredAt" = COALESCE(("payload"->>'occurredAt')::timestamptz AT TIME ZONE 'UTC', "createdAt");
ALTER TABLE "WebhookDelivery" ALTER COLUMN "occurredAt" SET NOT NULL;
ALTER TABLE "WebhookDelivery" ADD COLUMN     "skippedAt" TIMESTAMP(3);

-- CreateIndex
CREATE INDEX "WebhookDelivery_webhookId_occurredAt_idx" ON "WebhookDelivery"("webhookId", "occurredAt");
