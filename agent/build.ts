// Bundles the agent into one file that runs on Node >= 20 with no node_modules on the server:
// agent/dist/releasegate-agent.mjs. `npm run agent:build`; the control plane also builds it on start so ops can
// download it from /downloads/releasegate-agent.mjs.
import path from "node:path";
import { build } from "esbuild";

const root = path.resolve(import.meta.dirname);
export const AGENT_BUNDLE = path.join(root, "dist", "releasegate-agent.mjs");

export async function buildAgent(outfile = AGENT_BUNDLE): Promise<string> {
  await build({
    entryPoints: [path.join(root, "src", "cli.ts")],
    outfile,
    bundle: true,
    platform: "node",
    target: "node20",
    format: "esm",
    minify: false,
    sourcemap: false,
    legalComments: "none",
    // ESM output still meets CommonJS dependencies (tar, yauzl): give them a require.
    banner: { js: "#!/usr/bin/env node\nimport { createRequire as __rgCreateRequire } from 'node:module'; const require = __rgCreateRequire(import.meta.url);" },
    logLevel: "warning",
  });
  return outfile;
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.join(root, "build.ts")) {
  const out = await buildAgent();
  console.log(`built ${path.relative(process.cwd(), out)}`);
}
