-- Release.status now follows what production runs: RELEASED = live in a production environment now; REVERTED /
-- SUPERSEDED = was live there until a revert / a deployment of another release took it out (written from now on by
-- lib/releases/record-production-outcome.ts in the transaction that records the deployment's success). Until now a
-- release kept RELEASED once it had been live, reverted or not: work out what each one is from the deployment
-- records. (The values were added by the previous migration: PostgreSQL cannot use an enum value in the transaction
-- that adds it.)
WITH succeeded AS (
  -- Each production environment's successful deployments and reverts, in the order they took effect.
  SELECT d."releaseId", d."environmentId", d.kind, d."finishedAt",
         row_number() OVER (PARTITION BY d."environmentId" ORDER BY d."finishedAt", d."createdAt", d.id) AS n
  FROM "Deployment" d
  JOIN "Environment" e ON e.id = d."environmentId"
  WHERE e."isProduction" AND d.status = 'SUCCEEDED'
),
last_of AS (
  -- A release's last arrival in each production environment.
  SELECT DISTINCT ON ("releaseId", "environmentId") "releaseId", "environmentId", n
  FROM succeeded
  ORDER BY "releaseId", "environmentId", n DESC
),
followed_by AS (
  -- What came next there: nothing (it is still live), or the deployment that took it out.
  SELECT l."releaseId", next.kind, next."finishedAt"
  FROM last_of l
  LEFT JOIN succeeded next ON next."environmentId" = l."environmentId" AND next.n = l.n + 1
),
fate AS (
  -- Live anywhere wins; otherwise the latest take-out says how it left.
  SELECT DISTINCT ON ("releaseId") "releaseId",
         CASE WHEN bool_or(kind IS NULL) OVER (PARTITION BY "releaseId") THEN 'RELEASED'
              WHEN kind = 'REVERT' THEN 'REVERTED'
              ELSE 'SUPERSEDED' END AS status
  FROM followed_by
  ORDER BY "releaseId", "finishedAt" DESC NULLS FIRST
)
UPDATE "Release" r
SET status = fate.status::"ReleaseStatus"
FROM fate
WHERE fate."releaseId" = r.id AND r.status = 'RELEASED' AND fate.status <> 'RELEASED';
