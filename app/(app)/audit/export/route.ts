import { z } from "zod";
import { ZAuditFilterSchema } from "@/lib/audit/audit-filter";
import { exportAuditEvents } from "@/lib/audit/export-audit-events";
import { chunkStream } from "@/lib/entry/http";
import { sessionRoute } from "@/lib/entry/route";

const ZExportQuerySchema = ZAuditFilterSchema.extend({ format: z.enum(["csv", "ndjson"], "format must be csv or ndjson").default("ndjson") });

export const GET = sessionRoute(ZExportQuerySchema, async ({ format, ...filter }, actor) => {
  const chunks = await exportAuditEvents(actor, filter, format);
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  return new Response(chunkStream(chunks), {
    headers: {
      "Content-Type": format === "csv" ? "text/csv; charset=utf-8" : "application/x-ndjson; charset=utf-8",
      "Content-Disposition": `attachment; filename="releasegate-audit-${stamp}.${format}"`,
      "Cache-Control": "no-store",
    },
  });
});
