// The difference between an application's configuration as it is and as a file wants it: a pure function, so the
// dry run and the apply are the same plan, and it is tested without a database. apply-configuration.ts authorizes
// and writes it.
import type { TBalancerSettings } from "../balancers/balancer-input";
import type { TConfigurationDocument, TEnvironmentConfig, TPolicy, TRollout, TSiteRollout } from "./configuration-document";

export type ConfigurationChange =
  | { type: "policy"; environment: string; field: keyof TPolicy; from: unknown; to: unknown }
  | { type: "rollout"; environment: string; field: keyof TRollout; from: unknown; to: unknown }
  | { type: "siteRollout"; environment: string; field: keyof TSiteRollout; from: unknown; to: unknown }
  | { type: "site.add"; environment: string; name: string }
  | { type: "sites.order"; environment: string; from: string[]; to: string[] }
  | { type: "site.remove"; environment: string; name: string }
  | { type: "server.site"; environment: string; server: string; from: string | null; to: string | null }
  | { type: "balancer.add"; environment: string; balancer: TBalancerSettings }
  | { type: "balancer.change"; environment: string; name: string; from: TBalancerSettings; to: TBalancerSettings }
  | { type: "balancer.remove"; environment: string; name: string }
  | { type: "server.add"; environment: string; name: string }
  | { type: "member.add"; environment: string; server: string; balancer: string; backend: string; name: string }
  | { type: "member.remove"; environment: string; server: string; balancer: string; backend: string; name: string };

export interface ConfigurationPlan {
  changes: ConfigurationChange[];
  /** What the file does not say and is therefore left as it is (said, so nobody expects it gone). */
  notes: string[];
  /** Problems that make the file impossible to apply, each naming where. */
  errors: string[];
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** A membership's key and its full value: commands default to the server's own name when none is given. */
function members(env: TEnvironmentConfig, server: TEnvironmentConfig["servers"][number]) {
  return server.behind.map((m) => {
    const kind = env.balancers.find((b) => b.name === m.balancer)?.kind;
    return { balancer: m.balancer, backend: m.backend ?? "", name: m.server ?? (kind === "HOOK" ? server.name : ""), kind };
  });
}

export function planConfiguration(current: TConfigurationDocument, desired: TConfigurationDocument): ConfigurationPlan {
  const changes: ConfigurationChange[] = [];
  const notes: string[] = [];
  const errors: string[] = [];
  const seen = new Set<string>();
  for (const want of desired.environments) {
    const where = `environment ${want.name}`;
    if (seen.has(want.name)) errors.push(`${where} is listed twice.`);
    seen.add(want.name);
    const have = current.environments.find((e) => e.name === want.name);
    if (!have) {
      errors.push(`The application has no ${where}: an administrator adds environments on the application's settings page.`);
      continue;
    }
    const env = want.name;
    if (want.policy.requiredApprovals > 0 && want.policy.approverRoles.length === 0) errors.push(`${where}: approvals are required, so name the roles that may approve (policy.approverRoles).`);
    for (const field of Object.keys(want.policy) as (keyof TPolicy)[]) {
      if (!same(have.policy[field], want.policy[field])) changes.push({ type: "policy", environment: env, field, from: have.policy[field], to: want.policy[field] });
    }
    for (const field of Object.keys(want.rollout) as (keyof TRollout)[]) {
      if (!same(have.rollout[field], want.rollout[field])) changes.push({ type: "rollout", environment: env, field, from: have.rollout[field], to: want.rollout[field] });
    }

    for (const field of Object.keys(want.siteRollout) as (keyof TSiteRollout)[]) {
      if (!same(have.siteRollout[field], want.siteRollout[field])) changes.push({ type: "siteRollout", environment: env, field, from: have.siteRollout[field], to: want.siteRollout[field] });
    }
    if (new Set(want.sites).size !== want.sites.length) errors.push(`${where}: a site is listed twice.`);
    for (const site of want.sites) if (!have.sites.includes(site)) changes.push({ type: "site.add", environment: env, name: site });
    const kept = have.sites.filter((x) => want.sites.includes(x));
    if (!same(kept, want.sites.filter((x) => have.sites.includes(x)))) changes.push({ type: "sites.order", environment: env, from: have.sites, to: want.sites });
    const removedSites = have.sites.filter((x) => !want.sites.includes(x));

    const names = new Set<string>();
    for (const b of want.balancers) {
      if (names.has(b.name)) errors.push(`${where}: balancer ${b.name} is listed twice.`);
      names.add(b.name);
      const old = have.balancers.find((x) => x.name === b.name);
      if (!old) changes.push({ type: "balancer.add", environment: env, balancer: b });
      else if (!same(old, b)) changes.push({ type: "balancer.change", environment: env, name: b.name, from: old, to: b });
    }
    for (const old of have.balancers) if (!names.has(old.name)) changes.push({ type: "balancer.remove", environment: env, name: old.name });

    const servers = new Set<string>();
    for (const s of want.servers) {
      if (servers.has(s.name)) errors.push(`${where}: server ${s.name} is listed twice.`);
      servers.add(s.name);
      const before = have.servers.find((x) => x.name === s.name);
      if (!before) changes.push({ type: "server.add", environment: env, name: s.name });
      if (s.site !== undefined && !want.sites.includes(s.site)) errors.push(`${where}, server ${s.name}: the file lists no site ${s.site} in ${want.name}.`);
      if ((before?.site ?? null) !== (s.site ?? null)) changes.push({ type: "server.site", environment: env, server: s.name, from: before?.site ?? null, to: s.site ?? null });
      const wanted = members(want, s);
      for (const m of wanted) {
        const at = `${where}, server ${s.name}, behind ${m.balancer}`;
        if (!m.kind) errors.push(`${at}: the file lists no balancer ${m.balancer} in ${want.name}.`);
        else if (m.kind === "HAPROXY" && (!m.backend || !m.name)) errors.push(`${at}: HAProxy needs the backend and the server's name there (backend, server).`);
      }
      const keys = wanted.map((m) => `${m.balancer}\u0000${m.backend}`);
      if (new Set(keys).size !== keys.length) errors.push(`${where}, server ${s.name}: the same balancer and backend are listed twice.`);
      const had = before ? members(have, before) : [];
      for (const m of had) {
        const still = wanted.find((w) => w.balancer === m.balancer && w.backend === m.backend && w.name === m.name);
        // A balancer that goes away takes its memberships with it; saying so once is enough.
        if (!still && names.has(m.balancer)) changes.push({ type: "member.remove", environment: env, server: s.name, balancer: m.balancer, backend: m.backend, name: m.name });
      }
      for (const m of wanted) {
        const existed = had.find((h) => h.balancer === m.balancer && h.backend === m.backend && h.name === m.name);
        if (!existed) changes.push({ type: "member.add", environment: env, server: s.name, balancer: m.balancer, backend: m.backend, name: m.name });
      }
    }
    for (const site of removedSites) {
      const left = have.servers.filter((x) => x.site === site && !servers.has(x.name)).map((x) => x.name);
      if (left.length) errors.push(`${where}: site ${site} is left out of the file but servers the file does not name are in it (${left.join(", ")}); move them or name them.`);
      else changes.push({ type: "site.remove", environment: env, name: site });
    }
    for (const old of have.servers) {
      if (!servers.has(old.name)) notes.push(`Server ${old.name} of ${env} is not in the file and is left as it is (a server leaves by revoking its agent on the environment's page).`);
    }
  }
  for (const e of current.environments) if (!seen.has(e.name)) notes.push(`Environment ${e.name} is not in the file and is left as it is.`);
  return { changes, notes, errors };
}

/** One line per change, as the dry run and the audit event say it. */
export function describeChange(c: ConfigurationChange): string {
  const v = (x: unknown) => (x === null || x === undefined ? "none" : Array.isArray(x) ? (x.length ? x.join(", ") : "none") : String(x));
  switch (c.type) {
    case "policy":
    case "rollout":
    case "siteRollout":
      return `${c.environment}: ${c.field} ${v(c.from)} → ${v(c.to)}`;
    case "site.add":
      return `${c.environment}: add site ${c.name}`;
    case "sites.order":
      return `${c.environment}: sites in the order ${v(c.to)}`;
    case "site.remove":
      return `${c.environment}: remove site ${c.name}`;
    case "server.site":
      return c.to === null ? `${c.environment}: take ${c.server} out of site ${c.from}` : `${c.environment}: put ${c.server} in site ${c.to}`;
    case "balancer.add":
      return `${c.environment}: add balancer ${c.balancer.name} (${c.balancer.kind === "HAPROXY" ? `HAProxy at ${c.balancer.address}` : "commands"})`;
    case "balancer.change":
      return `${c.environment}: change balancer ${c.name}`;
    case "balancer.remove":
      return `${c.environment}: remove balancer ${c.name} (its servers are no longer drained there)`;
    case "server.add":
      return `${c.environment}: add server ${c.name} (an enrollment token is issued for it)`;
    case "member.add":
      return `${c.environment}: put ${c.server} behind ${c.balancer}${c.backend ? ` as ${c.backend}/${c.name}` : ""}`;
    case "member.remove":
      return `${c.environment}: take ${c.server} off ${c.balancer}${c.backend ? ` (${c.backend}/${c.name})` : ""}`;
  }
}
