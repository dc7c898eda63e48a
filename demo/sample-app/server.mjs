// The sample web app Releasegate deploys in tests and the demo. Plain Node, no dependencies.
//
//   GET /          HTML page showing the version
//   GET /version   {"version": "..."}
//   GET /health    200 "ok <version>"; 500 "broken <version>" when a BROKEN file sits next to this one
//   GET /slow?ms=N answers after N ms (max 60000), for in-flight-request tests
//
// A FLAKY file holding N (2..1000) makes every Nth request to its pages (anything but /health) answer 500: a build
// that passes its health check but fails visitors, for the post-deploy analysis.
//
// Every response carries X-App-Version. VERSION comes from the VERSION file next to this one (a release artifact
// has one), else $VERSION, else "dev". PORT (default 8080) and HOST (default 127.0.0.1) from the environment.
//
// SIGTERM/SIGINT = graceful stop: stop accepting, let in-flight requests finish (their responses say
// Connection: close), close idle keep-alive connections, exit 0. After SHUTDOWN_TIMEOUT_MS (default 10000) the
// remaining connections are cut and it exits 1.
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));

function readMarker(name) {
  try {
    return fs.readFileSync(path.join(here, name), "utf8").trim();
  } catch {
    return null;
  }
}

const version = readMarker("VERSION") || process.env.VERSION || "dev";
const broken = readMarker("BROKEN") !== null;
const flakyEvery = Number(readMarker("FLAKY") ?? 0);
let pageRequests = 0;
const port = Number(process.env.PORT ?? 8080);
const host = process.env.HOST || "127.0.0.1";
const shutdownTimeoutMs = Number(process.env.SHUTDOWN_TIMEOUT_MS ?? 10_000);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`invalid PORT ${process.env.PORT}`);
  process.exit(2);
}

const log = (message) => console.log(`${new Date().toISOString()} [sample-app ${version} pid ${process.pid}] ${message}`);
const escapeHtml = (s) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

let shuttingDown = false;
let inFlight = 0;

function send(res, status, type, body) {
  res.statusCode = status;
  res.setHeader("Content-Type", type);
  res.setHeader("Cache-Control", "no-store");
  res.setHeader("X-App-Version", version);
  // A keep-alive connection must not outlive the process: ask the client to close it after this response.
  if (shuttingDown) res.setHeader("Connection", "close");
  res.end(res.req.method === "HEAD" ? undefined : body);
}

const server = http.createServer((req, res) => {
  inFlight++;
  res.on("close", () => inFlight--);
  const url = new URL(req.url ?? "/", "http://localhost");
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.setHeader("Allow", "GET, HEAD");
    return send(res, 405, "text/plain; charset=utf-8", "method not allowed\n");
  }
  if (url.pathname !== "/health" && flakyEvery >= 2 && ++pageRequests % flakyEvery === 0) {
    return send(res, 500, "text/plain; charset=utf-8", `flaky ${version}: request ${pageRequests} fails\n`);
  }
  switch (url.pathname) {
    case "/":
      return send(
        res,
        200,
        "text/html; charset=utf-8",
        `<!doctype html><html><head><title>Sample app ${escapeHtml(version)}</title></head>` +
          `<body><h1>Sample app</h1><p>Version <strong id="version">${escapeHtml(version)}</strong></p></body></html>\n`,
      );
    case "/version":
      return send(res, 200, "application/json", JSON.stringify({ version }));
    case "/health":
      return broken
        ? send(res, 500, "text/plain; charset=utf-8", `broken ${version}\n`)
        : send(res, 200, "text/plain; charset=utf-8", `ok ${version}\n`);
    case "/slow": {
      const ms = Math.min(Math.max(Number(url.searchParams.get("ms")) || 0, 0), 60_000);
      const timer = setTimeout(() => send(res, 200, "application/json", JSON.stringify({ version, sleptMs: ms })), ms);
      res.on("close", () => clearTimeout(timer));
      return;
    }
    default:
      return send(res, 404, "text/plain; charset=utf-8", "not found\n");
  }
});

// Longer than any proxy's idle timeout towards us, so the proxy, not the app, closes idle connections: an app
// closing one just as the proxy reuses it is the classic keep-alive race.
server.keepAliveTimeout = 65_000;
server.headersTimeout = 66_000;

server.on("error", (error) => {
  log(`cannot listen on ${host}:${port}: ${error.message}`);
  process.exit(1);
});

server.listen(port, host, () => {
  const address = server.address();
  log(`listening on http://${host}:${typeof address === "object" && address ? address.port : port}`);
});

function shutdown(signal) {
  if (shuttingDown) return;
  shuttingDown = true;
  log(`${signal}: stopping, ${inFlight} request(s) in flight`);
  server.close(() => {
    log("stopped");
    process.exit(0);
  });
  // close() stops accepting and closes the connections idle now; connections become idle again as their last
  // request finishes (those responses already say Connection: close), so sweep until none is left.
  server.closeIdleConnections();
  setInterval(() => server.closeIdleConnections(), 50).unref();
  setTimeout(() => {
    log(`still ${inFlight} request(s) in flight after ${shutdownTimeoutMs} ms; closing them`);
    server.closeAllConnections();
    process.exit(1);
  }, shutdownTimeoutMs).unref();
}

process.on("SIGTERM", () => shutdown("SIGTERM"));
process.on("SIGINT", () => shutdown("SIGINT"));
