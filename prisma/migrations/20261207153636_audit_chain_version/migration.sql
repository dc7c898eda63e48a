-- Every event written so far was hashed by chain version 1 (lib/audit/chain.ts); the writer sets 2 from now on.
-- The default stays 1 so that a row inserted without the column (an instance not yet upgraded, during a rolling
-- upgrade) is read by the rule it was hashed with. Adding a column with a constant default rewrites no row, so the
-- append-only triggers are not involved.
-- AlterTable
ALTER TABLE "AuditEvent" ADD COLUMN     "chainVersion" SMALLINT NOT NULL DEFAULT 1;
