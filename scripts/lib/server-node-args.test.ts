import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { SERVER_NODE_ARGS } from "./server-node-args";

const pkg = JSON.parse(readFileSync(path.resolve(import.meta.dirname, "../../package.json"), "utf8")) as { scripts: Record<string, string> };

describe("the control plane's node flags", () => {
  // `exec`: npm's shell is replaced by node, so the signal npm forwards (SIGINT, SIGTERM to npm alone, as a process
  // supervisor sends it) reaches the server; a shell in between would swallow it and leave the server running.
  it.each(["start", "dev"])("npm run %s starts the server with them, as npm's own child", (name) => {
    expect(pkg.scripts[name]).toMatch(new RegExp(`^exec node ${SERVER_NODE_ARGS.join(" ")} --import tsx scripts/start\\.ts`));
  });
});
