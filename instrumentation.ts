// Runs once when a control-plane server starts, before it serves requests: the first-run administrator, then the
// periodic work every instance shares (audit checkpoints, the rollout sweep, notification deliveries, abandoned
// upload clean-up, the report of refused sign-ins). Each takes turns with other instances through the database.
export async function register(): Promise<void> {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  const { announceFirstAdmin } = await import("./lib/users/announce-first-admin");
  const { startCheckpointTimer } = await import("./lib/audit/checkpoint-timer");
  const { startRolloutTimer } = await import("./lib/rollouts/rollout-timer");
  const { startNotificationTimer } = await import("./lib/notifications/notification-timer");
  const { startUploadSweepTimer } = await import("./lib/storage/upload-staging");
  const { startThrottleReportTimer } = await import("./lib/auth/report-throttled-sign-ins");
  await announceFirstAdmin();
  await startCheckpointTimer();
  startRolloutTimer();
  startNotificationTimer();
  startUploadSweepTimer();
  startThrottleReportTimer();
}
