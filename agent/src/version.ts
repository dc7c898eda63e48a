// Reported on every heartbeat so ops see which agents need an upgrade. Bumped with the agent's protocol.
export const AGENT_VERSION = "0.4.0";
