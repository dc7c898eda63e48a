// The agent's main loop: heartbeat on a timer; long-poll for a job; run it; repeat. One job at a time, by design:
// a node is either installing or waiting, never two things at once, which keeps its state easy to reason about.
import os from "node:os";
import { MAX_CLAIM_WAIT_SECONDS, type TBalancerToRead } from "../../lib/contracts/agent-api";
import { readBalancers } from "./lb/read-balancers";
import { AgentApi, AgentApiError, backoffMs } from "./api-client";
import { type AgentConfig, stateDir } from "./config";
import { Journal } from "./journal";
import type { AgentLogger } from "./logger";
import { ReleaseStore } from "./install/release-store";
import { runJob } from "./run-job";
import { AGENT_VERSION } from "./version";

/** Under common proxies' 60 s read timeout, and under the server's 30 s cap. */
const CLAIM_WAIT_SECONDS = Math.min(25, MAX_CLAIM_WAIT_SECONDS);

export interface AgentLoopOptions {
  config: AgentConfig;
  log: AgentLogger;
  signal: AbortSignal;
}

export async function runAgent({ config, log, signal }: AgentLoopOptions): Promise<void> {
  const api = new AgentApi(config.server, config.agentSecret);
  const store = new ReleaseStore(config.dir);
  const journal = new Journal(stateDir(config.dir));
  await store.init();

  await reportInterruptedStep(api, journal, log);

  let heartbeatSeconds = 10;
  // The balancer memberships the control plane asked for in its last answer; read afresh before every heartbeat.
  let balancersToRead: TBalancerToRead[] = [];
  const beat = async () => {
    try {
      const current = await store.describeCurrent();
      const staged = await store.listStaged();
      const balancers = await readBalancers(balancersToRead, signal);
      const r = await api.heartbeat({
        agentVersion: AGENT_VERSION,
        hostname: os.hostname(),
        liveReleaseId: current.kind === "release" ? current.releaseId : null,
        stagedReleaseIds: staged.map((s) => s.releaseId).slice(0, 100),
        current,
        ...(balancers.length ? { balancers } : {}),
      });
      heartbeatSeconds = r.heartbeatIntervalSeconds;
      const first = balancersToRead.length === 0 && (r.balancers?.length ?? 0) > 0;
      balancersToRead = r.balancers ?? [];
      // The first time the control plane names balancers, show them at once rather than a heartbeat later.
      if (first) void beat();
    } catch (err) {
      if (err instanceof AgentApiError && err.status === 401) log.error("the control plane refused this agent's secret (revoked or rotated); enroll again");
      else log.warn(`heartbeat failed: ${(err as Error).message}`);
    }
  };
  let heartbeatTimer: NodeJS.Timeout | undefined;
  const scheduleBeat = () => {
    heartbeatTimer = setTimeout(() => void beat().finally(() => !signal.aborted && scheduleBeat()), heartbeatSeconds * 1000);
  };
  await beat();
  scheduleBeat();
  log.info(`agent ${AGENT_VERSION} running for ${config.target.application} / ${config.target.environment} / ${config.target.name}, waiting for work`);

  let failures = 0;
  try {
    while (!signal.aborted) {
      let job;
      try {
        ({ job } = await api.claim(CLAIM_WAIT_SECONDS, signal));
        failures = 0;
      } catch (err) {
        if (signal.aborted) break;
        failures++;
        const wait = backoffMs(failures);
        log.warn(`could not ask for work (${(err as Error).message}); retrying in ${Math.round(wait / 1000)} s`);
        await new Promise((r) => setTimeout(r, wait));
        continue;
      }
      if (!job) continue;
      await runJob({ api, job, store, journal, log, vars: config.vars, dir: config.dir });
      void beat(); // tell the control plane what the node runs now, without waiting for the next beat
    }
  } finally {
    clearTimeout(heartbeatTimer);
  }
}

/** After a crash or kill mid-step: report that step INTERRUPTED with the phase it reached. */
async function reportInterruptedStep(api: AgentApi, journal: Journal, log: AgentLogger): Promise<void> {
  const entry = await journal.read();
  if (!entry) return;
  const where = entry.outOfRotation ? " The node was left out of the load balancer; it is put back by the rollback." : "";
  const message = `The agent restarted during "${entry.phase}" of ${entry.action} ${entry.version}.${where}`;
  log.warn(message);
  try {
    await api.report(entry.stepId, { leaseId: entry.leaseId, status: "INTERRUPTED", phase: entry.phase, message });
  } catch (err) {
    // LEASE_LOST: the control plane already decided (lease expired, step interrupted by the sweep). Nothing to do.
    if (!(err instanceof AgentApiError)) throw err;
    log.info(`the interrupted step was already settled by the control plane (${err.code})`);
  }
  await journal.clear();
}
