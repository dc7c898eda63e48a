// The control plane's HTTP server, in front of Next. Two jobs:
//   - the client address comes from the socket, not from a header any client can send (X-Forwarded-For is rewritten
//     so its last entry is the peer; with TRUST_PROXY, the one proxy in front appends the client before it);
//   - the agent API (below AGENT_API_PREFIX) is answered here, on node:http, and never reaches Next: a fleet holds
//     thousands of long-polls, which Next's request pipeline made expensive (lib/entry/agent-route.ts).
import { randomBytes } from "node:crypto";
import http from "node:http";
import { AGENT_API_PREFIX } from "../lib/contracts/agent-api";
import { log } from "../lib/log";
import { handleAgentApi } from "./agent-api";

export interface ControlPlaneServerOptions {
  trustProxy: boolean;
  /** Next's request handler, for everything that is not the agent API. */
  next: (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>;
}

export function createControlPlaneServer(options: ControlPlaneServerOptions): http.Server {
  return http.createServer((req, res) => {
    const peer = req.socket.remoteAddress ?? "";
    const forwarded = req.headers["x-forwarded-for"];
    req.headers["x-forwarded-for"] = options.trustProxy && forwarded ? `${String(forwarded)}, ${peer}` : peer;
    req.headers["x-request-id"] = randomBytes(8).toString("hex");
    const url = req.url ?? "/";
    if (url === AGENT_API_PREFIX || url.startsWith(`${AGENT_API_PREFIX}/`)) {
      // The agent API answers every call itself (errors included); should anything still escape it, the caller gets
      // a 500 rather than a connection held open forever.
      handleAgentApi(req, res).catch((err: unknown) => {
        log.error({ err, requestId: req.headers["x-request-id"] }, "agent API call failed outside its handler");
        if (!res.headersSent) res.writeHead(500, { "content-type": "application/json", connection: "close" }).end('{"error":{"code":"INTERNAL","message":"Something went wrong on our side."}}');
        else res.destroy();
      });
    }
    else void options.next(req, res);
  });
}
