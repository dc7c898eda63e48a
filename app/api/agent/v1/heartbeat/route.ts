import { recordHeartbeat } from "@/lib/agents/record-heartbeat";
import { ZHeartbeatRequestSchema } from "@/lib/contracts/agent-api";
import { agentRoute } from "@/lib/entry/agent-route";

export const POST = agentRoute(ZHeartbeatRequestSchema, (body, agent) => recordHeartbeat(agent, body));
