// The agent API on a real HTTP server on loopback (server/agent-api.ts, exactly what scripts/start.ts serves), for
// integration tests that call it as an agent would: over HTTP, with fetch.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { handleAgentApi } from "../server/agent-api";

export interface AgentApiServer {
  /** e.g. http://127.0.0.1:40123 (paths from AGENT_API_PATHS go after it). */
  url: string;
  close(): Promise<void>;
}

export async function startAgentApiServer(): Promise<AgentApiServer> {
  const server = http.createServer((req, res) => void handleAgentApi(req, res));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
