// Node flags for the control-plane server process, for every launcher: `npm start` and `npm run dev`
// (package.json, which cannot import this: scripts/lib/server-node-args.test.ts keeps the two equal), the e2e web
// server (playwright.config.ts), the demo and the benchmarks.
//
// --max-old-space-size=1024: a memory budget for the service, ten times the ~100 MB it keeps live with 2,000 agents
// connected. It matters beyond the limit itself: V8 chooses how far the heap may grow between collections from that
// limit. With its default here (about 4 GB on a 24 GB machine) it let the old space reach about four times the live
// heap, so the fleet benchmark peaked at 500 MB resident; with 1 GB it grows by about 1.6 times, and the same run
// peaked at 386 MB for the same CPU (bench/fleet.ts, docs/benchmarks.md).
export const SERVER_NODE_ARGS = ["--max-old-space-size=1024"] as const;
