// Runs `prisma generate` so that it works on machines that cannot download Prisma's native schema engine.
// Generation itself is WASM; the CLI only checks that PRISMA_SCHEMA_ENGINE_BINARY names an existing file before
// generating, so we point it at this script when no engine is configured. With internet access, plain
// `npx prisma generate` does the same.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const env = { ...process.env };
env.PRISMA_SCHEMA_ENGINE_BINARY ??= fileURLToPath(import.meta.url);
env.PRISMA_HIDE_UPDATE_MESSAGE = "1";

const result = spawnSync("npx", ["--no-install", "prisma", "generate"], { stdio: "inherit", env });
process.exit(result.status ?? 1);
