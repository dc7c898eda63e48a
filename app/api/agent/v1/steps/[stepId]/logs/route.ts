import { appendStepLogs } from "@/lib/agents/append-step-logs";
import { ZStepLogRequestSchema } from "@/lib/contracts/agent-api";
import { agentRoute } from "@/lib/entry/agent-route";
import { uuidParam } from "@/lib/entry/route";

export const POST = agentRoute(ZStepLogRequestSchema, (body, agent, _request, params: { stepId: string }) => appendStepLogs(agent, uuidParam(params.stepId, "Step"), body));
