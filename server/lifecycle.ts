// How a control-plane process starts its background work and how it stops, shared by scripts/start.ts and the
// fault tests' control-plane processes (test/support/control-plane-main.ts), so both run and end the same way.
//
// Started before the server listens (so the first-run credentials are printed before "ready:", and an instance that
// only agents talk to sweeps too): the first-run administrator, then the periodic work every instance shares (audit
// checkpoints, the rollout sweep, notification deliveries, abandoned upload clean-up, the report of refused
// sign-ins); each takes turns with other instances through the database. Stopped in order: the HTTP server stops taking requests, the background work
// stops (lib/shutdown.ts), then the pool closes; only after that may an embedded PostgreSQL stop.
import type http from "node:http";
import { startCheckpointTimer } from "../lib/audit/checkpoint-timer";
import { startThrottleReportTimer } from "../lib/auth/report-throttled-sign-ins";
import { closeDatabase } from "../lib/db/client";
import { startNotificationTimer } from "../lib/notifications/notification-timer";
import { startRolloutTimer } from "../lib/rollouts/rollout-timer";
import { stopBackgroundWork } from "../lib/shutdown";
import { startUploadSweepTimer } from "../lib/storage/upload-staging";
import { announceFirstAdmin } from "../lib/users/announce-first-admin";

export async function startBackgroundWork(): Promise<void> {
  await announceFirstAdmin();
  await startCheckpointTimer();
  startRolloutTimer();
  startNotificationTimer();
  startUploadSweepTimer();
  startThrottleReportTimer();
}

/** How long requests in flight may finish before their connections are closed. */
const GRACE_MS = 2_000;

/**
 * Stops serving and everything behind it. Agents hold long-polls open for up to 30 s: requests in flight get a
 * moment, then what is left is closed (an agent whose poll is cut simply polls again, possibly another instance).
 * `closeApp` closes what else serves requests (Next). Problems are reported through `say`, never thrown: a stop
 * always runs to its end.
 */
export async function stopControlPlane(server: http.Server | undefined, closeApp: (() => Promise<void>) | undefined, say: (message: string) => void): Promise<void> {
  await new Promise<void>((resolve) => {
    if (!server) return resolve();
    server.close(() => resolve());
    server.closeIdleConnections();
    setTimeout(() => {
      server.closeAllConnections();
      resolve();
    }, GRACE_MS).unref();
  });
  await closeApp?.().catch((e: unknown) => say(`closing the web app failed: ${e instanceof Error ? e.message : String(e)}`));
  for (const f of await stopBackgroundWork()) say(`stopping ${f.name} failed: ${f.error instanceof Error ? f.error.message : String(f.error)}`);
  await closeDatabase().catch((e: unknown) => say(`closing the database pool failed: ${e instanceof Error ? e.message : String(e)}`));
}
