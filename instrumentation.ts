// Runs once when a control-plane server starts, before it serves requests.
export async function register(): Promise<void> {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  const { announceFirstAdmin } = await import("./lib/users/announce-first-admin");
  const { startCheckpointTimer } = await import("./lib/audit/checkpoint-timer");
  await announceFirstAdmin();
  const { startRolloutTimer } = await import("./lib/rollouts/rollout-timer");
  await startCheckpointTimer();
  startRolloutTimer();
  (await import("./lib/notifications/notification-timer")).startNotificationTimer();
}
