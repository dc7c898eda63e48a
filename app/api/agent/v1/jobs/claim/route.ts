import { claimJob } from "@/lib/agents/claim-job";
import { ZClaimRequestSchema } from "@/lib/contracts/agent-api";
import { agentRoute } from "@/lib/entry/agent-route";

// Long-poll: held open up to waitSeconds (<= 30) until work is queued for this agent's server.
export const POST = agentRoute(ZClaimRequestSchema, (body, agent, request) => claimJob(agent, body.waitSeconds, request.signal));
