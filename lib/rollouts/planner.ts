// The rollout planner: a pure function from "what the steps of a deployment have done so far" to "what happens
// next". It owns every ordering and safety rule of a rollout, so those rules are tested exhaustively without a
// database (planner.test.ts); advance-rollout.ts only loads the facts, applies the plan and wakes the agents.
import { withoutLeftBehind } from "../contracts/agent-api";
import { plural } from "../util/text";
//
// The shape of a rollout:
//   1. STAGE the release on every node that does not have it staged yet (download, verify, extract; all nodes in
//      parallel, nobody is drained). A failed stage ends the deployment before any node left service.
//   2. ACTIVATE nodes batch by batch (drain, stop, switch, start, health, undrain). A rolling deployment never takes
//      more than `batchSize` nodes, and never all nodes, out of service at once.
//   3. On a failed or interrupted activation: stop creating work, let running steps finish, then (autoRollback)
//      ROLLBACK every node that was touched, batch by batch, to the previous release, and end FAILED with the reason.
//   4. A cancel stops like a failure, without one: touched nodes are rolled back, then the deployment is CANCELLED.
//   5. A revoked server (its agent is refused from its next call) leaves the rollout: no new step for it ever; a
//      step it had not started is SKIPPED and the rollout carries on without it; a switch it was in the middle of is
//      INTERRUPTED (the node's state is unknown), which halts the rollout like any broken node.
//
// Sites (data centres). Servers belong to a site, or to none: the servers without a site form one implicit site, so
// an environment without sites rolls out exactly as it always did (one site, floor 0). With sites:
//   - ACTIVATE goes site by site, in the order fixed when the rollout starts (ops' order, or the smallest site first
//     as a canary), in batches within a site; no node of a site is activated before every node of the sites before
//     it is. A deployment may pause after its first site until someone continues it (reverts never pause: they are
//     the way out of an incident).
//   - The floor: at most `size - floor` nodes of a site are ever out of service at once (in a step, or broken and
//     not yet returned), so at least `floor` keep serving, during activations and rollbacks alike. A site that has
//     no more nodes than the floor cannot be updated at all: the request is refused, and a rollout whose site
//     shrank that far (agents revoked) halts and rolls back instead of breaking the floor (siteFloorBlocker).
//   - Rolling still never takes every node of the environment out at once, whatever the floor.
//   - A rollback returns every touched node in every site: the broken ones first (they are out already), then site
//     by site backwards from the latest, under the same floor. A node that could only be returned by breaking the
//     floor (its site shrank through revocations) is left on the new release and the reason says so.

export type DeploymentStatus = "SCHEDULED" | "QUEUED" | "RUNNING" | "ROLLING_BACK" | "SUCCEEDED" | "FAILED" | "CANCELLED";
export type StepAction = "STAGE" | "ACTIVATE" | "ROLLBACK";
export type StepStatus = "PENDING" | "CLAIMED" | "RUNNING" | "SUCCEEDED" | "FAILED" | "SKIPPED" | "CANCELLED" | "INTERRUPTED";
export type SiteOrder = "CHOSEN" | "SMALLEST_FIRST";

/** The key of the implicit site that servers without one form (site keys are otherwise site ids), and its name. */
export const NO_SITE = "";
export const NO_SITE_NAME = "servers without a site";

/** "site fra-1", or "the servers without a site": a site's name in a sentence. */
export const siteWords = (name: string) => (name === NO_SITE_NAME ? `the ${NO_SITE_NAME}` : `site ${name}`);

export interface PlanSite {
  id: string;
  name: string;
  /** Ops' order of the environment's sites, 0 first. */
  position: number;
}

export interface PlanTarget {
  id: string;
  name: string;
  /** Releases extracted on the node and ready to switch to. */
  stagedReleaseIds: readonly string[];
  /** Its agent was revoked: nothing can run there any more. */
  revoked?: boolean;
  /** Its activation in this deployment recorded what it ran before, so a rollback can return it there. */
  canReturn?: boolean;
  /** The site it belongs to; null or absent: none (it is in the implicit site of servers without one). */
  siteId?: string | null;
}

export interface PlanStep {
  id: string;
  targetId: string;
  action: StepAction;
  batch: number;
  status: StepStatus;
  message: string | null;
}

export interface PlanInput {
  deployment: {
    status: DeploymentStatus;
    strategy: "ROLLING" | "ALL_AT_ONCE";
    batchSize: number;
    autoRollback: boolean;
    /** Null for a revert to the builds the servers ran before Releasegate: nothing to stage. */
    releaseId: string | null;
    /** What the environment ran before; null on a first deployment (nothing to roll back to but what servers report). */
    previousReleaseId: string | null;
    cancelRequested: boolean;
    /** A revert never pauses between sites. Absent: a deployment. */
    kind?: "DEPLOY" | "REVERT";
    /** How sites are ordered when the rollout starts (snapshot of the environment's setting at the request). */
    siteOrder?: SiteOrder;
    /** Nodes of each site that keep serving whatever happens (snapshot); 0 or absent: no floor. */
    siteFloor?: number;
    /** Wait after the first site until someone continues (snapshot). */
    pauseAfterFirstSite?: boolean;
    /** The site order fixed when the rollout started (site keys); empty or absent: not fixed yet. */
    siteSequence?: readonly string[];
    /** The rollout paused after its first site (it did, once: it never pauses again). */
    paused?: boolean;
    /** Someone continued it after the pause. */
    continued?: boolean;
    /** The reason recorded when the rollout halted without a broken step (a site that shrank below its floor). */
    failureReason?: string | null;
  };
  /** The environment's sites; absent: none. */
  sites?: readonly PlanSite[];
  /** In rollout order within a site. */
  targets: readonly PlanTarget[];
  steps: readonly PlanStep[];
}

export type PlanAction =
  | { type: "createSteps"; steps: { targetId: string; action: StepAction; batch: number }[] }
  | { type: "cancelSteps"; stepIds: string[] }
  /** Ends steps no agent can finish (their server was revoked), with the reason. */
  | { type: "endSteps"; steps: { id: string; status: "SKIPPED" | "INTERRUPTED"; message: string }[] }
  | { type: "setStatus"; status: DeploymentStatus; failureReason?: string }
  /** Records the order the rollout walks the sites in (site keys), so later changes cannot reorder it. */
  | { type: "fixSiteSequence"; siteKeys: string[] }
  /** The first site is done: wait until someone continues. Recorded once, with the sites' names. */
  | { type: "pause"; afterSite: string; nextSite: string };

const ACTIVE: readonly StepStatus[] = ["CLAIMED", "RUNNING"];
const BROKEN: readonly StepStatus[] = ["FAILED", "INTERRUPTED"];
const TERMINAL: readonly DeploymentStatus[] = ["SUCCEEDED", "FAILED", "CANCELLED"];
const IN_FLIGHT: readonly StepStatus[] = ["PENDING", "CLAIMED", "RUNNING"];

/** How many nodes may be out of service at once: rolling keeps at least one node serving whenever there are two. */
export function effectiveBatchSize(strategy: "ROLLING" | "ALL_AT_ONCE", batchSize: number, nodes: number): number {
  if (nodes === 0) return 1;
  if (strategy === "ALL_AT_ONCE") return nodes;
  return Math.max(1, Math.min(batchSize, nodes > 1 ? nodes - 1 : 1));
}

// ───────────────────────────── sites ─────────────────────────────

/** A site with the servers of the rollout in it (those that can still run work), in rollout order. */
export interface SiteGroup {
  key: string;
  name: string;
  position: number;
  targets: PlanTarget[];
}

type SiteTarget = Pick<PlanTarget, "id" | "siteId">;

function siteKeyOf(sites: readonly PlanSite[], t: SiteTarget | undefined): string {
  return t?.siteId && sites.some((s) => s.id === t.siteId) ? t.siteId : NO_SITE;
}

function siteNameOf(sites: readonly PlanSite[], key: string): string {
  return sites.find((s) => s.id === key)?.name ?? NO_SITE_NAME;
}

/** The sites that hold some of `targets`, in the order `mode` gives: ops' positions, or the smallest first. */
export function orderSites<T extends SiteTarget>(sites: readonly PlanSite[], targets: readonly T[], mode: SiteOrder = "CHOSEN"): (Omit<SiteGroup, "targets"> & { targets: T[] })[] {
  const groups = new Map<string, Omit<SiteGroup, "targets"> & { targets: T[] }>();
  for (const t of targets) {
    const key = siteKeyOf(sites, t);
    const site = sites.find((s) => s.id === key);
    const group = groups.get(key) ?? { key, name: siteNameOf(sites, key), position: site?.position ?? Number.POSITIVE_INFINITY, targets: [] };
    group.targets.push(t);
    groups.set(key, group);
  }
  // Servers without a site come after the named sites in ops' order (and among equally small ones).
  const byPosition = (a: { position: number; name: string }, b: { position: number; name: string }) =>
    a.position === b.position ? a.name.localeCompare(b.name) : a.position < b.position ? -1 : 1;
  return [...groups.values()].sort((a, b) => (mode === "SMALLEST_FIRST" && a.targets.length !== b.targets.length ? a.targets.length - b.targets.length : byPosition(a, b)));
}

/**
 * "Site ams-1 has 1 server and the floor is 1 serving server per site: none could be taken out to be updated."
 * `revoked`: the site also had servers whose agents were revoked since (they no longer count).
 */
function floorProblem(group: { key: string; name: string; targets: readonly unknown[] }, floor: number, revoked = false): string {
  const servers = `${plural(group.targets.length, "server")}${revoked ? " that can still run work (the agents of the others were revoked)" : ""}`;
  const has = group.key === NO_SITE ? `The servers without a site form one site of ${servers},` : `Site ${group.name} has ${servers}`;
  return `${has} and the floor is ${plural(floor, "serving server")} per site: none could be taken out to be updated.`;
}

/**
 * Why the sites of a rollout cannot all be updated without breaking the floor, or null when they can. A site needs
 * more nodes than its floor: with exactly `floor` nodes, taking one out to update it leaves fewer serving. This is
 * the rule the request is refused by, and the one a running rollout halts on when its sites shrink that far.
 */
export function siteFloorBlocker(sites: readonly PlanSite[], targets: readonly SiteTarget[], floor: number): string | null {
  if (floor <= 0) return null;
  const blocked = orderSites(sites, targets).filter((g) => g.targets.length <= floor);
  if (blocked.length === 0) return null;
  return (
    blocked.map((g) => floorProblem(g, floor)).join(" ") +
    ` Lower the floor, or add servers${blocked.some((g) => g.key === NO_SITE) ? " (or assign the servers without a site to a site)" : ""}.`
  );
}

/** The rollout's sites in the order it walks them: fixed when it started; sites it did not know then come last. */
function sitesInOrder(input: PlanInput, targets: readonly PlanTarget[]): SiteGroup[] {
  const computed = orderSites(input.sites ?? [], targets, input.deployment.siteOrder);
  const fixed = input.deployment.siteSequence ?? [];
  if (fixed.length === 0) return computed;
  const rank = (g: SiteGroup) => (fixed.includes(g.key) ? fixed.indexOf(g.key) : fixed.length + computed.indexOf(g));
  return [...computed].sort((a, b) => rank(a) - rank(b));
}

/**
 * Servers out of service now: in an ACTIVATE or ROLLBACK that has not ended, or left broken by one (a rollback
 * that did not succeed leaves its node in an unknown state: counted out too).
 */
function outOfService(steps: readonly PlanStep[]): Set<string> {
  const last = new Map<string, PlanStep>();
  for (const s of steps) if (s.action !== "STAGE") last.set(s.targetId, s);
  const out = new Set<string>();
  for (const [id, s] of last) {
    if (IN_FLIGHT.includes(s.status) || BROKEN.includes(s.status) || (s.action === "ROLLBACK" && s.status === "CANCELLED")) out.add(id);
  }
  return out;
}

/**
 * How many more nodes of `site` may leave service now: the floor keeps `floor` of its nodes serving; rolling also
 * keeps one node of the environment serving (when it has two); and a batch is at most `batchSize` (rolling).
 */
function room(input: PlanInput, targets: readonly PlanTarget[], site: SiteGroup, out: ReadonlySet<string>): { room: number; byFloor: boolean } {
  const d = input.deployment;
  const floor = Math.max(0, d.siteFloor ?? 0);
  const siteRoom = site.targets.length - floor - site.targets.filter((t) => out.has(t.id)).length;
  if (d.strategy === "ALL_AT_ONCE") return { room: siteRoom, byFloor: floor > 0 && siteRoom <= 0 };
  const envRoom = targets.length > 1 ? targets.length - 1 - targets.filter((t) => out.has(t.id)).length : Number.POSITIVE_INFINITY;
  return { room: Math.min(siteRoom, envRoom, Math.max(1, d.batchSize)), byFloor: floor > 0 && siteRoom <= 0 };
}

type Forward =
  | { kind: "done" }
  | { kind: "activate"; targetIds: string[] }
  | { kind: "pause"; afterSite: string; nextSite: string }
  | { kind: "blocked"; reason: string };

/** What the rollout does next while nothing runs and nothing broke: the next batch, a pause, the end, or a halt. */
function nextActivations(input: PlanInput, targets: readonly PlanTarget[], sites: readonly SiteGroup[]): Forward {
  const d = input.deployment;
  const activated = new Set(input.steps.filter((s) => s.action === "ACTIVATE").map((s) => s.targetId));
  const site = sites.find((g) => g.targets.some((t) => !activated.has(t.id)));
  if (!site) return { kind: "done" };
  const out = outOfService(input.steps);
  const r = room(input, targets, site, out);
  if (r.byFloor || r.room <= 0) {
    // Only when the site shrank since the request was checked: its other agents were revoked.
    const shrank = input.targets.filter((t) => siteKeyOf(input.sites ?? [], t) === site.key).length > site.targets.length;
    return { kind: "blocked", reason: `The rollout cannot go on: ${floorProblem(site, d.siteFloor ?? 0, shrank)}` };
  }
  // The first site is the one the first activation was in; leaving it is the moment to pause (once).
  const first = input.steps.find((s) => s.action === "ACTIVATE");
  const firstKey = first ? siteKeyOf(input.sites ?? [], input.targets.find((t) => t.id === first.targetId)) : null;
  if (d.pauseAfterFirstSite && d.kind !== "REVERT" && !d.continued && firstKey !== null && firstKey !== site.key) {
    return { kind: "pause", afterSite: siteNameOf(input.sites ?? [], firstKey), nextSite: site.name };
  }
  return { kind: "activate", targetIds: site.targets.filter((t) => !activated.has(t.id)).slice(0, Math.max(0, r.room)).map((t) => t.id) };
}

/**
 * The next batch of rollbacks, taken from `remaining` (broken nodes first, then site by site backwards) within one
 * site: the broken nodes of that site cost no room (they are out already); each serving node needs room under the
 * floor. A site whose remaining nodes are all serving and that has no room is `stuck`: with nothing running and no
 * broken node left there, that does not change, so the rollback goes on with the other sites and leaves it.
 */
function nextRollbacks(input: PlanInput, targets: readonly PlanTarget[], sites: readonly SiteGroup[], remaining: readonly string[]): { targetIds: string[]; stuck: { site: SiteGroup; targetIds: string[] }[] } {
  const out = outOfService(input.steps);
  const limit = input.deployment.strategy === "ROLLING" ? Math.max(1, input.deployment.batchSize) : Number.POSITIVE_INFINITY;
  const stuck: { site: SiteGroup; targetIds: string[] }[] = [];
  const seen = new Set<string>();
  for (const id of remaining) {
    const site = sites.find((g) => g.targets.some((t) => t.id === id));
    if (!site || seen.has(site.key)) continue;
    seen.add(site.key);
    const mine = remaining.filter((x) => site.targets.some((t) => t.id === x));
    const batch = mine.filter((x) => out.has(x)).slice(0, limit);
    let left = room(input, targets, site, out).room;
    for (const x of mine.filter((y) => !out.has(y))) {
      if (batch.length >= limit || left <= 0) break;
      batch.push(x);
      left--;
    }
    if (batch.length > 0) return { targetIds: batch, stuck };
    stuck.push({ site, targetIds: mine });
  }
  return { targetIds: [], stuck };
}

/** " Left on the new release: web-4 (returning it would take site ams-1 below the floor of 1 serving server; …)." */
function leftByFloor(input: PlanInput, stuck: readonly { site: SiteGroup; targetIds: string[] }[]): string {
  if (stuck.length === 0) return "";
  const floor = input.deployment.siteFloor ?? 0;
  const ids = stuck.flatMap((s) => s.targetIds);
  const where = stuck.map((s) => (s.site.key === NO_SITE ? "the servers without a site" : `site ${s.site.name}`)).join(" and ");
  return ` Left on the new release: ${names(input, ids)} (returning ${ids.length === 1 ? "it" : "them"} would take ${where} below the floor of ${plural(floor, "serving server")}; the agents of other servers there were revoked).`;
}

// ───────────────────────────── the plan ─────────────────────────────

export function planRollout(input: PlanInput): PlanAction[] {
  const { deployment: d, steps } = input;
  if (TERMINAL.includes(d.status) || d.status === "SCHEDULED") return [];
  const name = (targetId: string) => input.targets.find((t) => t.id === targetId)?.name ?? targetId;
  // Every rule below plans for the servers that can still run work.
  const targets = input.targets.filter((t) => !t.revoked);
  const revoked = new Set(input.targets.filter((t) => t.revoked).map((t) => t.id));
  const orphaned = steps.filter((s) => revoked.has(s.targetId) && (s.status === "PENDING" || ACTIVE.includes(s.status)));
  if (orphaned.length > 0) {
    return [
      {
        type: "endSteps",
        steps: orphaned.map((s) =>
          // A switch under way may have left the node drained or half-switched; a stage or a step not yet started
          // changed nothing the node serves.
          s.status === "RUNNING" && s.action !== "STAGE"
            ? { id: s.id, status: "INTERRUPTED" as const, message: `The agent of ${name(s.targetId)} was revoked during this step: the server may be out of the load balancer or half-switched, and needs attention.` }
            : { id: s.id, status: "SKIPPED" as const, message: `Not run: the agent of ${name(s.targetId)} was revoked, so this server is no longer part of the rollout.` },
        ),
      },
    ];
  }
  const of = (action: StepAction) => steps.filter((s) => s.action === action);
  const sites = sitesInOrder(input, targets);

  if (d.status === "QUEUED") {
    if (targets.length === 0) return [{ type: "setStatus", status: "FAILED", failureReason: "The environment has no servers." }];
    if (d.cancelRequested) return [{ type: "setStatus", status: "CANCELLED" }];
    const blocker = siteFloorBlocker(input.sites ?? [], targets, d.siteFloor ?? 0);
    if (blocker) return [{ type: "setStatus", status: "FAILED", failureReason: `${blocker} No server was changed.` }];
    const releaseId = d.releaseId;
    const toStage = releaseId === null ? [] : targets.filter((t) => !t.stagedReleaseIds.includes(releaseId));
    const forward = nextActivations(input, targets, sites);
    const first =
      toStage.length > 0
        ? toStage.map((t) => ({ targetId: t.id, action: "STAGE" as const, batch: 0 }))
        : forward.kind === "activate"
          ? forward.targetIds.map((targetId) => ({ targetId, action: "ACTIVATE" as const, batch: 1 }))
          : [];
    return [{ type: "setStatus", status: "RUNNING" }, { type: "fixSiteSequence", siteKeys: sites.map((g) => g.key) }, { type: "createSteps", steps: first }];
  }

  const pending = steps.filter((s) => s.status === "PENDING");
  const running = steps.filter((s) => ACTIVE.includes(s.status));

  if (d.status === "ROLLING_BACK") {
    const rollbacks = of("ROLLBACK");
    // A rollback that ended any other way than succeeding is not planned again (a stopped one was, forever): the
    // rollout ends saying where each node is, for ops to take over.
    const brokenRollback = rollbacks.find((s) => BROKEN.includes(s.status)) ?? rollbacks.find((s) => s.status === "CANCELLED");
    if (brokenRollback) {
      const actions: PlanAction[] = pending.length ? [{ type: "cancelSteps", stepIds: pending.map((s) => s.id) }] : [];
      if (running.length > 0) return actions;
      // Where every node the rollout touched is now: ops take it from here and need the whole picture.
      const back = new Set(rollbacks.filter((s) => s.status === "SUCCEEDED").map((s) => s.targetId));
      const brokenIds = new Set(rollbacks.filter((s) => BROKEN.includes(s.status)).map((s) => s.targetId));
      const activated = new Set(of("ACTIVATE").filter((s) => s.status === "SUCCEEDED").map((s) => s.targetId));
      const rolledBack = touchedTargets(input, targets, sites).filter((id) => back.has(id));
      const stillNew = touchedTargets(input, targets, sites).filter((id) => activated.has(id) && !back.has(id) && !brokenIds.has(id));
      const why = brokenRollback.message ? `: ${brokenRollback.message.replace(/\.+$/, "")}` : "";
      return [
        ...actions,
        {
          type: "setStatus",
          status: "FAILED",
          failureReason:
            `${failureReason(input, name, back)} The rollback failed on ${name(brokenRollback.targetId)}${why}; it needs attention.` +
            (rolledBack.length ? ` Rolled back to the previous release: ${names(input, rolledBack)}.` : "") +
            (stillNew.length ? ` Still on the new release: ${names(input, stillNew)}.` : ""),
        },
      ];
    }
    if (running.length > 0 || pending.length > 0) return [];
    const touched = touchedTargets(input, targets, sites);
    const rolledBack = new Set(rollbacks.filter((s) => s.status === "SUCCEEDED").map((s) => s.targetId));
    const remaining = touched.filter((id) => !rolledBack.has(id));
    const next = nextRollbacks(input, targets, sites, remaining);
    if (next.targetIds.length > 0) {
      const batch = Math.max(0, ...rollbacks.map((s) => s.batch)) + 1;
      return [{ type: "createSteps", steps: next.targetIds.map((targetId) => ({ targetId, action: "ROLLBACK" as const, batch })) }];
    }
    const returned = touched.filter((id) => rolledBack.has(id));
    const back = returned.length ? ` Rolled back to the previous release: ${names(input, returned)}.` : "";
    const left = leftByFloor(input, next.stuck);
    if (cancelled(input)) return [{ type: "setStatus", status: "CANCELLED", ...(left ? { failureReason: `Cancelled.${back}${left}` } : {}) }];
    return [{ type: "setStatus", status: "FAILED", failureReason: `${failureReason(input, name, rolledBack)}${back}${left}` }];
  }

  // RUNNING
  const broken = steps.find((s) => BROKEN.includes(s.status));
  const halt = (actions: PlanAction[], reason: string | null): PlanAction[] => {
    const touched = touchedTargets(input, targets, sites);
    // Each touched server returns to what it ran before: the release the deployment replaced, or what its own
    // activation recorded it ran (a first deployment over servers another tool had installed).
    const returnable = (id: string) => d.previousReleaseId !== null || targets.find((t) => t.id === id)?.canReturn === true;
    const first = nextRollbacks(input, targets, sites, touched);
    if (touched.length > 0 && d.autoRollback && touched.every(returnable) && first.targetIds.length > 0) {
      return [
        ...actions,
        { type: "setStatus", status: "ROLLING_BACK", ...(reason !== null ? { failureReason: reason } : {}) },
        { type: "createSteps", steps: first.targetIds.map((targetId) => ({ targetId, action: "ROLLBACK" as const, batch: 1 })) },
      ];
    }
    const leftOn =
      touched.length > 0 && d.autoRollback && touched.every(returnable)
        ? leftByFloor(input, first.stuck)
        : touched.length > 0
          ? ` Left on the new release: ${names(input, touched)} (automatic rollback is off or there is no previous release).`
          : "";
    if (reason === null) return [...actions, { type: "setStatus", status: "CANCELLED", ...(leftOn ? { failureReason: `Cancelled.${leftOn}` } : {}) }];
    return [...actions, { type: "setStatus", status: "FAILED", failureReason: `${reason}${leftOn}` }];
  };
  if (broken || d.cancelRequested) {
    const actions: PlanAction[] = pending.length ? [{ type: "cancelSteps", stepIds: pending.map((s) => s.id) }] : [];
    if (running.length > 0) return actions; // let in-flight steps finish: never abandon a node mid-switch
    return halt(actions, broken ? failureReason(input, name) : null);
  }

  if (targets.length === 0) return [{ type: "setStatus", status: "FAILED", failureReason: "No server is left in this rollout: the agents of all of them were revoked." }];
  const stages = of("STAGE");
  if (stages.some((s) => s.status !== "SUCCEEDED" && s.status !== "SKIPPED")) return [];

  const activations = of("ACTIVATE");
  if (activations.some((s) => s.status !== "SUCCEEDED" && s.status !== "SKIPPED")) return [];
  const forward = nextActivations(input, targets, sites);
  switch (forward.kind) {
    case "done":
      return [{ type: "setStatus", status: "SUCCEEDED" }];
    case "blocked":
      return halt([], forward.reason);
    case "pause":
      return d.paused ? [] : [{ type: "pause", afterSite: forward.afterSite, nextSite: forward.nextSite }];
    case "activate": {
      const batch = Math.max(0, ...activations.map((s) => s.batch)) + 1;
      return [{ type: "createSteps", steps: forward.targetIds.map((targetId) => ({ targetId, action: "ACTIVATE" as const, batch })) }];
    }
  }
}

/**
 * Nodes an activation reached (succeeded, or failed part-way): exactly the ones a rollback must return, among the
 * servers that can still run work (`targets`: a revoked one cannot). The broken ones come first: they are already
 * out of rotation, so returning them first never takes a serving node out while a broken one is still out (with two
 * nodes, the other order would leave none serving). The others follow site by site, the latest site first.
 */
function touchedTargets(input: PlanInput, targets: readonly PlanTarget[], sites: readonly SiteGroup[]): string[] {
  const activations = input.steps.filter((s) => s.action === "ACTIVATE");
  const broken = new Set(activations.filter((s) => BROKEN.includes(s.status)).map((s) => s.targetId));
  const ok = new Set(activations.filter((s) => s.status === "SUCCEEDED").map((s) => s.targetId));
  const ids = targets.map((t) => t.id);
  const backwards = [...sites].reverse().flatMap((g) => g.targets.map((t) => t.id));
  return [...ids.filter((id) => broken.has(id)), ...backwards.filter((id) => ok.has(id) && !broken.has(id))];
}

/** Servers by name, in rollout order (as the deployment's page lists them). */
function names(input: PlanInput, ids: readonly string[]): string {
  return input.targets.filter((t) => ids.includes(t.id)).map((t) => t.name).join(", ");
}

function cancelled(input: PlanInput): boolean {
  return input.deployment.cancelRequested && !input.steps.some((s) => s.action !== "ROLLBACK" && BROKEN.includes(s.status));
}

/**
 * Why the deployment failed, from its first broken step; `returned`: nodes a rollback has put back since. Without a
 * broken step: the cancel, or the reason recorded when the rollout halted on its own (a site below its floor).
 */
function failureReason(input: PlanInput, name: (id: string) => string, returned: ReadonlySet<string> = new Set()): string {
  const s = input.steps.find((x) => x.action !== "ROLLBACK" && BROKEN.includes(x.status));
  if (!s) return input.deployment.cancelRequested ? "Cancelled." : (input.deployment.failureReason ?? "Failed.");
  const what = s.action === "STAGE" ? "staging the release" : "activating the release";
  // The step's message says why when there is one (lease expired, agent restarted, agent revoked), and what the
  // failure left on the node: no longer true once a rollback returned it.
  const message = s.message && returned.has(s.targetId) ? withoutLeftBehind(s.message, name(s.targetId)) : s.message;
  const how = s.status === "INTERRUPTED" ? (message ? "was interrupted" : "was interrupted (the agent restarted or stopped answering)") : "failed";
  return `${name(s.targetId)}: ${what} ${how}${message ? `: ${message}` : ""}`.replace(/\.*$/, ".");
}
