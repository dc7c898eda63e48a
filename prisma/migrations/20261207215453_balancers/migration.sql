-- CreateEnum
CREATE TYPE "BalancerKind" AS ENUM ('HAPROXY', 'HOOK');

-- CreateTable
CREATE TABLE "Balancer" (
    "id" UUID NOT NULL,
    "environmentId" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "kind" "BalancerKind" NOT NULL,
    "address" TEXT,
    "drainCommand" TEXT,
    "undrainCommand" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Balancer_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "BalancerMembership" (
    "id" UUID NOT NULL,
    "balancerId" UUID NOT NULL,
    "targetId" UUID NOT NULL,
    "backend" TEXT NOT NULL DEFAULT '',
    "server" TEXT NOT NULL,
    "observedAt" TIMESTAMP(3),
    "observedError" TEXT,
    "observedAdminState" TEXT,
    "observedStatus" TEXT,
    "observedSessions" INTEGER,
    "observedCheck" TEXT,
    "observedResponses" BIGINT,
    "observed5xx" BIGINT,
    "observedRtimeMs" INTEGER,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "BalancerMembership_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "Balancer_environmentId_name_key" ON "Balancer"("environmentId", "name");

-- CreateIndex
CREATE INDEX "BalancerMembership_targetId_idx" ON "BalancerMembership"("targetId");

-- CreateIndex
CREATE UNIQUE INDEX "BalancerMembership_balancerId_targetId_backend_key" ON "BalancerMembership"("balancerId", "targetId", "backend");

-- AddForeignKey
ALTER TABLE "Balancer" ADD CONSTRAINT "Balancer_environmentId_fkey" FOREIGN KEY ("environmentId") REFERENCES "Environment"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "BalancerMembership" ADD CONSTRAINT "BalancerMembership_balancerId_fkey" FOREIGN KEY ("balancerId") REFERENCES "Balancer"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "BalancerMembership" ADD CONSTRAINT "BalancerMembership_targetId_fkey" FOREIGN KEY ("targetId") REFERENCES "Target"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Carry each server's own load-balancer settings over. Servers of an environment that named the same HAProxy
-- runtime API share one balancer; servers with the same drain/undrain commands share one. Names say which.
CREATE TEMP TABLE "_lb_old" AS
  SELECT t.id AS "targetId", t.name AS "targetName", t."environmentId", t."lbKind"::text AS kind,
         t."lbAddress", t."lbBackend", t."lbServer", t."drainCommand", t."undrainCommand"
  FROM "Target" t
  WHERE (t."lbKind" = 'HAPROXY' AND t."lbAddress" IS NOT NULL AND t."lbBackend" IS NOT NULL AND t."lbServer" IS NOT NULL)
     OR t."lbKind" = 'HOOK';

CREATE TEMP TABLE "_lb_new" AS
  SELECT gen_random_uuid() AS id, g."environmentId", g.kind, g."lbAddress", g."drainCommand", g."undrainCommand",
         CASE WHEN g.kind = 'HAPROXY' THEN 'HAProxy' ELSE 'Commands' END
           || CASE WHEN count(*) OVER (PARTITION BY g."environmentId", g.kind) > 1
                   THEN ' ' || row_number() OVER (PARTITION BY g."environmentId", g.kind ORDER BY g."lbAddress", g."drainCommand", g."undrainCommand")
                   ELSE '' END AS name
  FROM (SELECT DISTINCT "environmentId", kind,
               CASE WHEN kind = 'HAPROXY' THEN "lbAddress" END AS "lbAddress",
               CASE WHEN kind = 'HOOK' THEN "drainCommand" END AS "drainCommand",
               CASE WHEN kind = 'HOOK' THEN "undrainCommand" END AS "undrainCommand"
        FROM "_lb_old") g;

INSERT INTO "Balancer" (id, "environmentId", name, kind, address, "drainCommand", "undrainCommand", "updatedAt")
  SELECT id, "environmentId", name, kind::"BalancerKind", "lbAddress", "drainCommand", "undrainCommand", CURRENT_TIMESTAMP FROM "_lb_new";

INSERT INTO "BalancerMembership" (id, "balancerId", "targetId", backend, server, "updatedAt")
  SELECT gen_random_uuid(), n.id, o."targetId",
         CASE WHEN o.kind = 'HAPROXY' THEN o."lbBackend" ELSE '' END,
         CASE WHEN o.kind = 'HAPROXY' THEN o."lbServer" ELSE o."targetName" END,
         CURRENT_TIMESTAMP
  FROM "_lb_old" o
  JOIN "_lb_new" n ON n."environmentId" = o."environmentId" AND n.kind = o.kind
   AND n."lbAddress" IS NOT DISTINCT FROM (CASE WHEN o.kind = 'HAPROXY' THEN o."lbAddress" END)
   AND n."drainCommand" IS NOT DISTINCT FROM (CASE WHEN o.kind = 'HOOK' THEN o."drainCommand" END)
   AND n."undrainCommand" IS NOT DISTINCT FROM (CASE WHEN o.kind = 'HOOK' THEN o."undrainCommand" END);

DROP TABLE "_lb_old";
DROP TABLE "_lb_new";

-- The settings now live on the balancers and memberships.
ALTER TABLE "Target" DROP COLUMN "drainCommand",
DROP COLUMN "lbAddress",
DROP COLUMN "lbBackend",
DROP COLUMN "lbKind",
DROP COLUMN "lbServer",
DROP COLUMN "undrainCommand";

-- DropEnum
DROP TYPE "LoadBalancerKind";
