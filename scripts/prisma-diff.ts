// Prints Prisma-format migration SQL without Prisma's native schema engine, which this machine cannot download
// (so `prisma migrate diff` fails here). It runs the same engine compiled to WebAssembly; see scripts/lib/prisma-diff.ts.
// On a machine with internet access, `prisma migrate diff --from-empty|--from-config-datasource --to-schema <schema>
// --script` does the same (the database URL then comes from prisma.config.ts).
//
//   npx tsx scripts/prisma-diff.ts --from-empty [--schema prisma/schema.prisma]
//   npx tsx scripts/prisma-diff.ts --from-url postgresql://… [--schema prisma/schema.prisma] [--exit-code]
//
// The SQL goes to stdout. When there is no difference stdout stays empty and stderr says so.
// --exit-code: exit 2 when there is a difference, 0 when there is none (like `prisma migrate diff --exit-code`).
// --verbose: print the engine version and its log lines to stderr.
import { parseArgs } from "node:util";

import { diffFromDatabase, diffFromEmpty, engineInfo, type DiffOptions } from "./lib/prisma-diff";

const usage = `usage: npx tsx scripts/prisma-diff.ts (--from-empty | --from-url <postgres url>) [--schema <path>] [--exit-code] [--verbose]`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      "from-empty": { type: "boolean", default: false },
      "from-url": { type: "string" },
      schema: { type: "string", default: "prisma/schema.prisma" },
      "exit-code": { type: "boolean", default: false },
      verbose: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(usage);
    return 0;
  }
  const fromUrl = values["from-url"];
  if (values["from-empty"] === (fromUrl !== undefined)) {
    console.error(usage);
    return 1;
  }
  const schemaPath = values.schema;
  const options: DiffOptions = values.verbose ? { log: (line) => console.error(line) } : {};
  if (values.verbose) {
    const { version, wasmFile } = await engineInfo();
    console.error(`schema engine ${version} (${wasmFile})`);
  }

  const sql = fromUrl === undefined ? await diffFromEmpty(schemaPath, options) : await diffFromDatabase(schemaPath, fromUrl, options);
  if (sql === "") {
    console.error(`No difference: ${fromUrl === undefined ? "an empty database" : "the database"} already matches ${schemaPath}.`);
    return 0;
  }
  process.stdout.write(sql.endsWith("\n") ? sql : `${sql}\n`);
  return values["exit-code"] ? 2 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    // The engine's stack traces point into Wasm and help nobody but Prisma's developers; --verbose shows them.
    const verbose = process.argv.includes("--verbose");
    console.error(error instanceof Error ? (verbose ? (error.stack ?? error.message) : `${error.name}: ${error.message}`) : error);
    process.exitCode = 1;
  },
);
