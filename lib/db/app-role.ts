// A least-privilege database role for the running control plane. Migrations run as the schema owner; the app
// connects as this role, which may read and write the domain tables but only INSERT into the audit tables. So
// even application code that bypassed lib/audit could not change history, and unlike the owner it cannot disable
// the append-only triggers either. Used automatically with the embedded PostgreSQL; see README for other setups.
import pg from "pg";

const AUDIT_TABLES = ['"AuditEvent"', '"AuditCheckpoint"'];

/** Creates or updates `role` (LOGIN, with `password`) and (re)applies its grants. Idempotent; run after migrations. */
export async function ensureAppRole(ownerUrl: string, role: string, password: string): Promise<void> {
  if (!/^[a-z_][a-z0-9_]*$/.test(role)) throw new Error(`invalid role name ${role}`);
  const client = new pg.Client({ connectionString: ownerUrl });
  await client.connect();
  try {
    const quotedPassword = (await client.query<{ q: string }>("SELECT quote_literal($1) AS q", [password])).rows[0]!.q;
    const exists = (await client.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [role])).rowCount === 1;
    await client.query(`${exists ? "ALTER" : "CREATE"} ROLE ${role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD ${quotedPassword}`);
    const db = (await client.query<{ d: string }>("SELECT current_database() AS d")).rows[0]!.d;
    await client.query(`GRANT CONNECT ON DATABASE "${db}" TO ${role}`);
    await client.query(`GRANT USAGE ON SCHEMA public TO ${role}`);
    await client.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${role}`);
    await client.query(`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO ${role}`);
    await client.query(`REVOKE UPDATE, DELETE, TRUNCATE ON ${AUDIT_TABLES.join(", ")} FROM ${role}`);
    await client.query(`REVOKE ALL ON "_prisma_migrations" FROM ${role}`);
  } finally {
    await client.end();
  }
}
