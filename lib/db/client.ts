// The one Prisma client of the process, cached on globalThis so Next's dev reloads do not open a pool each time.
import { PrismaPg } from "@prisma/adapter-pg";
import { env } from "../env";
import { PrismaClient } from "./generated/client";

function createClient(): PrismaClient {
  const url = env().DATABASE_URL;
  if (!url) {
    throw new Error("DATABASE_URL is not set. Start the control plane with `npm start`, which provides one.");
  }
  const adapter = new PrismaPg({ connectionString: url, max: 10 });
  return new PrismaClient({ adapter });
}

const globalForPrisma = globalThis as unknown as { releasegatePrisma?: PrismaClient };

export const db: PrismaClient = globalForPrisma.releasegatePrisma ?? createClient();
globalForPrisma.releasegatePrisma = db;

export type Db = PrismaClient;
/** The client handed to a function running inside `db.$transaction(async (tx) => ...)`. */
export type Tx = Parameters<Parameters<PrismaClient["$transaction"]>[0]>[0];
