// One control-plane instance for the fault tests, started by test/support/control-plane.ts as its own process: the
// control plane's own HTTP server (server/http-server.ts: the agent API, answered outside Next) and the background
// work every instance runs (instrumentation.ts: the rollout sweep, audit checkpoints, notifications), exactly as
// scripts/start.ts wires them, with the configuration it would pass. What it leaves out is Next: pages and the
// pipeline API answer 404 here, so the tests run without a `next build` (the e2e specs look at the pages). A fault
// test kills this process with SIGKILL as a crash would; SIGTERM stops it the way start.ts does.
import type http from "node:http";
import { register } from "node:module";

register("../../server/load-hooks.mjs", import.meta.url);
// instrumentation.ts starts its timers only in Next's Node.js runtime, which this process stands in for.
process.env.NEXT_RUNTIME = "nodejs";

const port = Number(process.env.PORT);
const host = process.env.HOST ?? "127.0.0.1";
const { register: startBackgroundWork } = await import("../../instrumentation");
const { createControlPlaneServer } = await import("../../server/http-server");
await startBackgroundWork();
const server: http.Server = createControlPlaneServer({
  trustProxy: false,
  next: async (_req, res) => {
    res.writeHead(404, { "content-type": "text/plain" }).end("This test instance serves the agent API only.\n");
  },
});
await new Promise<void>((resolve) => server.listen(port, host, resolve));
console.log(`[control-plane] ready: http://${host}:${port} (pid ${process.pid})`);

const stop = () => {
  server.close(() => process.exit(0));
  server.closeIdleConnections();
  setTimeout(() => {
    server.closeAllConnections();
    process.exit(0);
  }, 2_000).unref();
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
