import { z } from "zod";
import { applyConfiguration, ZApplyConfigurationQuerySchema } from "@/lib/configuration/apply-configuration";
import { readConfiguration } from "@/lib/configuration/read-configuration";
import { apiRoute } from "@/lib/entry/api-route";

const ZParams = z.object({ applicationId: z.uuid() });

/** The application's configuration file (environments, policy, rollout settings, hooks, balancers, servers). */
export const GET = apiRoute({ params: ZParams, body: null }, async ({ actor, params }) => readConfiguration(actor, params.applicationId));

/**
 * Applies a configuration file as one audited change; `?dryRun=true` answers what would change and changes nothing.
 * The file is validated by the domain (lib/configuration/), which needs the application's current state to do so.
 */
export const PUT = apiRoute({ params: ZParams, body: z.unknown(), query: ZApplyConfigurationQuerySchema }, async ({ actor, params, body, query }) =>
  applyConfiguration(actor, params.applicationId, body, { dryRun: query.dryRun }),
);
