import { reportStep } from "@/lib/agents/report-step";
import { ZStepReportSchema } from "@/lib/contracts/agent-api";
import { agentRoute } from "@/lib/entry/agent-route";
import { uuidParam } from "@/lib/entry/route";

export const POST = agentRoute(ZStepReportSchema, (body, agent, _request, params: { stepId: string }) => reportStep(agent, uuidParam(params.stepId, "Step"), body));
