// Bundles the agent into one file that runs on Node >= 20 with no node_modules on the server:
// agent/dist/releasegate-agent.mjs. `npm run agent:build`; the control plane also builds it on start so ops can
// download it from /downloads/releasegate-agent.mjs.
import { mkdir, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import { build } from "esbuild";

const root = path.resolve(import.meta.dirname);
export const AGENT_BUNDLE = path.join(root, "dist", "releasegate-agent.mjs");

export async function buildAgent(outfile = AGENT_BUNDLE): Promise<string> {
  const result = await build({
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
    write: false,
  });
  // Replaced in one step (a rename), never rewritten in place: while one process builds it, others read it (the
  // control plane serving /downloads/releasegate-agent.mjs, a fleet starting its agents, another instance starting
  // on the same checkout), and esbuild's own write truncates the file first, so they could get half of it.
  const [bundle] = result.outputFiles;
  if (!bundle) throw new Error("esbuild produced no agent bundle");
  await mkdir(path.dirname(outfile), { recursive: true });
  const partial = `${outfile}.${process.pid}.partial`;
  await writeFile(partial, bundle.contents, { mode: 0o644 });
  await rename(partial, outfile);
  return outfile;
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.join(root, "build.ts")) {
  const out = await buildAgent();
  console.log(`built ${path.relative(process.cwd(), out)}`);
}
