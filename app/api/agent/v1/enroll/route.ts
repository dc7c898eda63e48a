import { enrollAgent } from "@/lib/agents/enroll-agent";
import { ZEnrollRequestSchema } from "@/lib/contracts/agent-api";
import { enrollmentRoute } from "@/lib/entry/agent-route";

export const POST = enrollmentRoute(ZEnrollRequestSchema, (body, ctx) => enrollAgent(body, ctx));
