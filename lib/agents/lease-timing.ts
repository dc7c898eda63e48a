// Lease timing for agent jobs (see lib/contracts/agent-api.ts for the protocol).
/** A claimed job must be acknowledged (first RUNNING report) within this, or it is offered again: a claim whose
 * answer never reached the agent (dropped long-poll) did nothing on the node, so re-offering it is safe. */
export const ACK_SECONDS = 15;
/** A running step must report at least this often; the agent renews every LEASE_SECONDS / 4. A lease that runs out
 * marks the step INTERRUPTED: the node's state is unknown, and the rollout halts rather than guess. */
export const LEASE_SECONDS = 60;
