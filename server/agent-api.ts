// The agent API (contract: lib/contracts/agent-api.ts), one line per endpoint: parse, call the domain, answer.
// Served by the control plane's own HTTP server (server/http-server.ts) outside Next's request pipeline; see
// lib/entry/agent-route.ts for why and for what the wrapper guarantees.
import { appendStepLogs } from "../lib/agents/append-step-logs";
import { claimJob } from "../lib/agents/claim-job";
import { describeAgent } from "../lib/agents/describe-agent";
import { enrollAgent } from "../lib/agents/enroll-agent";
import { recordHeartbeat } from "../lib/agents/record-heartbeat";
import { reportStep } from "../lib/agents/report-step";
import { ZClaimRequestSchema, ZEnrollRequestSchema, ZHeartbeatRequestSchema, ZStepLogRequestSchema, ZStepReportSchema, ZWhoAmIRequestSchema } from "../lib/contracts/agent-api";
import { agentEndpoint, enrollmentEndpoint, serveAgentApi } from "../lib/entry/agent-route";
import { uuidParam } from "../lib/entry/http";
import { getReleaseArtifact } from "../lib/releases/get-release-artifact";
import { artifactResponse } from "../lib/storage/artifact-response";
import { getArtifactStore } from "../lib/storage/artifact-store";

const header = (value: string | string[] | undefined) => (Array.isArray(value) ? (value[0] ?? null) : (value ?? null));

export const handleAgentApi = serveAgentApi([
  enrollmentEndpoint({ methods: ["POST"], path: "/enroll", body: ZEnrollRequestSchema, status: 201 }, ({ body, ctx }) => enrollAgent(body, ctx)),
  agentEndpoint({ methods: ["POST"], path: "/heartbeat", body: ZHeartbeatRequestSchema }, ({ body, agent }) => recordHeartbeat(agent, body)),
  agentEndpoint({ methods: ["POST"], path: "/whoami", body: ZWhoAmIRequestSchema }, ({ agent }) => describeAgent(agent)),
  // Long-poll: held open up to waitSeconds (<= 30) until work is queued for this agent's server.
  agentEndpoint({ methods: ["POST"], path: "/jobs/claim", body: ZClaimRequestSchema }, ({ body, agent, request }) => claimJob(agent, body.waitSeconds, request.signal)),
  agentEndpoint({ methods: ["POST"], path: "/steps/:stepId/report", body: ZStepReportSchema }, ({ body, agent, params }) => reportStep(agent, uuidParam(params.stepId, "Step"), body)),
  agentEndpoint({ methods: ["POST"], path: "/steps/:stepId/logs", body: ZStepLogRequestSchema }, ({ body, agent, params }) => appendStepLogs(agent, uuidParam(params.stepId, "Step"), body)),
  // Resumable with `Range: bytes=N-`; only releases of the agent's own application.
  agentEndpoint({ methods: ["GET", "HEAD"], path: "/artifacts/:releaseId", body: null }, async ({ agent, params, request }) =>
    artifactResponse(getArtifactStore(), await getReleaseArtifact(agent, params.releaseId), {
      method: request.method,
      range: header(request.headers.range),
      ifRange: header(request.headers["if-range"]),
    }),
  ),
]);
