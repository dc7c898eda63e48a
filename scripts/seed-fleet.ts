// `node --conditions=react-server --import tsx scripts/seed-fleet.ts '<SeedFleetOptions JSON>'` against
// DATABASE_URL: seeds an application with its fleet (scripts/lib/seed-fleet.ts) and prints the result as JSON.
// Used by the real-parts e2e tests, which run in a process of their own.
import { seedFleet, type SeedFleetOptions } from "./lib/seed-fleet";

const options = JSON.parse(process.argv[2] ?? "{}") as SeedFleetOptions;
const result = await seedFleet(options);
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(0);
