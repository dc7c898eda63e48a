import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { SERVER_NODE_ARGS } from "./server-node-args";

const pkg = JSON.parse(readFileSync(path.resolve(import.meta.dirname, "../../package.json"), "utf8")) as { scripts: Record<string, string> };

describe("the control plane's node flags", () => {
  it.each(["start", "dev"])("npm run %s starts the server with them", (name) => {
    expect(pkg.scripts[name]).toMatch(new RegExp(`^node ${SERVER_NODE_ARGS.join(" ")} --import tsx scripts/start\\.ts`));
  });
});
