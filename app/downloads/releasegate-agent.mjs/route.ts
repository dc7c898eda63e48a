import { readFile } from "node:fs/promises";
import path from "node:path";

// The agent bundle (one file, Node >= 20, no node_modules), built by `npm start` from agent/ (agent/build.ts), so
// the servers run exactly the agent that speaks this control plane's protocol. Public: it holds no secret.
export async function GET(): Promise<Response> {
  const file = path.join(process.cwd(), "agent", "dist", "releasegate-agent.mjs");
  const body = await readFile(file).catch(() => null);
  if (!body) return Response.json({ error: { code: "NOT_FOUND", message: "The agent is not built: run `npm run agent:build`." } }, { status: 404 });
  return new Response(body, {
    headers: { "content-type": "text/javascript; charset=utf-8", "content-disposition": 'attachment; filename="releasegate-agent.mjs"', "cache-control": "no-cache" },
  });
}
