// What each balancer the node is behind says about it now, for the environment page's live view (and, later, the
// post-deploy analysis): read through the same runtime API the agent drains with, one short exchange per membership.
import type { TBalancerReading, TBalancerToRead } from "../../../lib/contracts/agent-api";
import { getServerState } from "./haproxy";

/** A reading should never hold up a heartbeat for long: an unresponsive balancer is reported as such. */
const READ_TIMEOUT_MS = 2_000;

export async function readBalancers(list: readonly TBalancerToRead[], signal?: AbortSignal): Promise<TBalancerReading[]> {
  return Promise.all(
    list.map(async (b): Promise<TBalancerReading> => {
      try {
        const timeout = AbortSignal.timeout(READ_TIMEOUT_MS);
        const s = await getServerState(b.address, b.backend, b.server, { signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
        return {
          membershipId: b.membershipId,
          adminState: s.adminState,
          status: s.status,
          sessions: s.currentSessions,
          check: s.checkStatus ? `${s.checkStatus.replace(/^\* /, "")}${s.checkCode !== null ? ` ${s.checkCode}` : ""}` : null,
          responses: s.responses,
          http5xx: s.http5xx,
          rtimeMs: s.rtimeMs,
        };
      } catch (error) {
        const message = error instanceof Error ? (error.name === "TimeoutError" || error.name === "AbortError" ? `no answer within ${READ_TIMEOUT_MS / 1000} s` : error.message) : String(error);
        return { membershipId: b.membershipId, error: message.slice(0, 500) };
      }
    }),
  );
}
