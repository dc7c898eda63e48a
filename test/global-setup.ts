// Integration tests run against a real PostgreSQL. `npm test` provisions the database and passes it in
// RELEASEGATE_TEST_DATABASE_URL; run on their own (`npm run test:int`), they provision one here the same way.
import { migrateDatabase } from "../lib/db/migrate";
import { startTestServer, type TestServer } from "../scripts/lib/test-database";

let server: TestServer | undefined;
let ownDatabase: string | undefined;

export async function setup(): Promise<void> {
  let url = process.env.RELEASEGATE_TEST_DATABASE_URL;
  if (!url) {
    server = await startTestServer();
    // One database per run, so runs started side by side (several terminals, parallel work) never share one.
    ownDatabase = `releasegate_test_int_${process.pid}`;
    url = await server.createDatabase(ownDatabase);
    process.env.RELEASEGATE_TEST_DATABASE_URL = url;
  }
  await migrateDatabase(url);
  // Workers are started after global setup and inherit this environment; lib/env.ts reads it.
  process.env.DATABASE_URL = url;
  process.env.NEXTAUTH_SECRET ??= "integration-tests-secret-integration-tests-secret";
  process.env.LOG_LEVEL ??= "silent";
  // The webhook tests' receivers listen on 127.0.0.1; every other private address stays refused.
  process.env.WEBHOOK_ALLOWED_NETWORKS ??= "127.0.0.1/32";
}

export async function teardown(): Promise<void> {
  if (ownDatabase) await server?.dropDatabase(ownDatabase).catch(() => undefined);
  await server?.stop();
}
