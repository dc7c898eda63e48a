// The auditor's filters come from a URL anyone can edit (/audit?…, /audit/export?…). Whatever it holds, the filter
// schema either refuses it with a message a person can act on, or the search and the export run: a value PostgreSQL
// cannot take (a cursor beyond bigint, a NUL byte, a date beyond its calendar) must never reach it and fail as a 500.
import { describe, expect, it } from "vitest";
import { createAdmin } from "../../test/factories";
import { ZAuditFilterSchema } from "./audit-filter";
import { exportAuditEvents } from "./export-audit-events";
import { searchAuditEvents } from "./search-audit-events";

const hostile: Record<string, string>[] = [
  { before: "-99999999999999999999" },
  { before: "99999999999999999999" },
  { before: "9223372036854775808" },
  { before: "-1" },
  { actor: "ana\u0000@example.test" },
  { actor: "\u0000" },
  { release: "1.0\u0000" },
  { release: "\u0000*" },
  { from: "-200000-01-01" },
  { to: "+275000-01-01" },
  { from: "0001-01-01" },
];

async function drain(chunks: AsyncIterable<Uint8Array>): Promise<number> {
  let bytes = 0;
  for await (const c of chunks) bytes += c.length;
  return bytes;
}

describe("audit filters from a URL", () => {
  it("are refused with a readable message, or they run: never a database error", async () => {
    const admin = await createAdmin();
    for (const raw of hostile) {
      const parsed = ZAuditFilterSchema.safeParse(raw);
      if (!parsed.success) {
        const message = parsed.error.issues[0]?.message ?? "";
        // A sentence of ours, not zod's "Invalid input" or "Too big: expected bigint…".
        expect(message, JSON.stringify(raw)).toMatch(/^[A-Z][^:]*\.$/);
        continue;
      }
      await expect(searchAuditEvents(admin, parsed.data), JSON.stringify(raw)).resolves.toBeDefined();
      for (const format of ["ndjson", "csv"] as const) {
        await expect(exportAuditEvents(admin, parsed.data, format).then(drain), JSON.stringify(raw)).resolves.toBeGreaterThan(0);
      }
    }
  });

  it("refuses a NUL byte and an out-of-range cursor by name", () => {
    const refused = (raw: Record<string, string>) => ZAuditFilterSchema.safeParse(raw).error?.issues[0]?.message;
    expect(refused({ actor: "ana\u0000@example.test" })).toMatch(/NUL/);
    expect(refused({ release: "1.0\u0000" })).toMatch(/NUL/);
    expect(refused({ before: "-99999999999999999999" })).toBeDefined();
    // A valid cursor still passes: the largest seq there can be, and the first.
    expect(ZAuditFilterSchema.parse({ before: "9223372036854775807" }).before).toBe(9223372036854775807n);
    expect(ZAuditFilterSchema.parse({ before: "1" }).before).toBe(1n);
  });
});
