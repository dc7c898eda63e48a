// Prisma CLI configuration (Prisma 7 reads no .env by itself: DATABASE_URL comes from the environment).
import { defineConfig } from "prisma/config";

export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  datasource: { url: process.env.DATABASE_URL ?? "postgresql://localhost:5432/releasegate" },
});
