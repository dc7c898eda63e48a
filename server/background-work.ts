// What every control-plane process runs besides answering requests, started by scripts/start.ts before it listens
// (so the first-run credentials are printed before "ready:", and an instance that only agents talk to sweeps too):
// the first-run administrator, then the periodic work every instance shares (audit checkpoints, the rollout sweep,
// notification deliveries, abandoned upload clean-up). Each takes turns with other instances through the database,
// and each stops at shutdown before the pool closes (lib/shutdown.ts).
import { startCheckpointTimer } from "../lib/audit/checkpoint-timer";
import { startNotificationTimer } from "../lib/notifications/notification-timer";
import { startRolloutTimer } from "../lib/rollouts/rollout-timer";
import { startUploadSweepTimer } from "../lib/storage/upload-staging";
import { announceFirstAdmin } from "../lib/users/announce-first-admin";

export async function startBackgroundWork(): Promise<void> {
  await announceFirstAdmin();
  await startCheckpointTimer();
  startRolloutTimer();
  startNotificationTimer();
  startUploadSweepTimer();
}
