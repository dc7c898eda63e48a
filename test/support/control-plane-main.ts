// One control-plane instance for the fault tests, started by test/support/control-plane.ts as its own process: the
// control plane's own HTTP server (server/http-server.ts: the agent API, answered outside Next) and the background
// work every instance runs, started and stopped by server/lifecycle.ts exactly as scripts/start.ts does, with the
// configuration it would pass. What it leaves out is Next: pages and the pipeline API answer 404 here, so the tests
// run without a `next build` (the e2e specs look at the pages). A fault test kills this process with SIGKILL as a
// crash would; SIGTERM stops it the way start.ts does.
import { register } from "node:module";

register("../../server/load-hooks.mjs", import.meta.url);

const port = Number(process.env.PORT);
const host = process.env.HOST ?? "127.0.0.1";
const { startBackgroundWork, stopControlPlane } = await import("../../server/lifecycle");
const { createControlPlaneServer } = await import("../../server/http-server");
const server = createControlPlaneServer({
  trustProxy: false,
  next: async (_req, res) => {
    res.writeHead(404, { "content-type": "text/plain" }).end("This test instance serves the agent API only.\n");
  },
});
await startBackgroundWork();
await new Promise<void>((resolve) => server.listen(port, host, resolve));
console.log(`[control-plane] ready: http://${host}:${port} (pid ${process.pid})`);

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  void stopControlPlane(server, undefined, (m) => console.error(`[control-plane] ${m}`)).then(() => process.exit(0));
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
