import { z } from "zod";
import { getAuditOverview } from "@/lib/audit/get-audit-overview";
import { sessionRoute } from "@/lib/entry/route";

export const GET = sessionRoute(z.object({}), async (_query, actor) => {
  const { publicKeyPem } = await getAuditOverview(actor);
  return new Response(publicKeyPem, {
    headers: { "Content-Type": "application/x-pem-file", "Content-Disposition": 'attachment; filename="releasegate-audit-public-key.pem"' },
  });
});
