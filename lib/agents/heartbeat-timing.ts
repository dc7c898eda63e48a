// Heartbeat timing, shared by the agent API and the UI's online/offline status.
export const HEARTBEAT_INTERVAL_SECONDS = 10;
/** Offline after this much silence: three missed heartbeats plus slack, well within the 45 s promised. */
export const OFFLINE_AFTER_MS = 35_000;
