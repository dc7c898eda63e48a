// Entry of a verification worker thread (verify-database.ts). Worker threads do not inherit the TypeScript loader
// that tsx installs in the main thread (`npm run audit:verify`, the benchmark, the tests), so register it here
// before loading the real worker. Plain JavaScript because it must load before any TypeScript can.
import { workerData } from "node:worker_threads";
import { register } from "tsx/esm/api";

register();
await import(workerData.module);
