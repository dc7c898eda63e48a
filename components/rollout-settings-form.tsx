import type { ActionResult } from "@/lib/entry/action-result";
import { ActionForm, CheckboxField, Field, SelectField, TextAreaField } from "./form";

export interface RolloutSettings {
  strategy: "ROLLING" | "ALL_AT_ONCE";
  batchSize: number;
  autoRollback: boolean;
  healthCheckUrl: string | null;
  healthCheckExpectsVersion: boolean;
  healthCheckFailAfter5xx: number;
  stopCommand: string | null;
  startCommand: string | null;
  backupCommand: string | null;
  migrateCommand: string | null;
  validateCommand: string | null;
  maintenanceOnCommand: string | null;
  maintenanceOffCommand: string | null;
  hookTimeoutSeconds: number;
  keepReleases: number;
  persistentPaths: string[];
  bakeSeconds: number;
  bakeMax5xxPercent: number;
  bakeMaxResponseMs: number | null;
  bakeMaxResponseRatio: number | null;
}

const HOOKS: { name: keyof RolloutSettings; label: string; placeholder: string }[] = [
  { name: "stopCommand", label: "Stop", placeholder: "systemctl stop shop" },
  { name: "startCommand", label: "Start", placeholder: "systemctl start shop" },
  { name: "validateCommand", label: "Validate (after the health check)", placeholder: "./bin/smoke-test" },
  { name: "backupCommand", label: "Backup (before a migration)", placeholder: "pg_dump shop > /var/backups/shop.sql" },
  { name: "migrateCommand", label: "Migrate", placeholder: "./bin/migrate" },
  { name: "maintenanceOnCommand", label: "Maintenance page on", placeholder: "touch /var/www/maintenance.on" },
  { name: "maintenanceOffCommand", label: "Maintenance page off", placeholder: "rm -f /var/www/maintenance.on" },
];

/** How an environment's releases are rolled out and installed on each of its servers (ops). */
export function RolloutSettingsForm({ action, environmentId, settings }: { action: (fd: FormData) => Promise<ActionResult<undefined>>; environmentId: string; settings: RolloutSettings }) {
  return (
    <ActionForm action={action} submitLabel="Save rollout settings" resetOnSuccess={false}>
      <input type="hidden" name="environmentId" value={environmentId} />
      <div className="grid gap-4 sm:grid-cols-2">
        <SelectField
          name="strategy"
          label="Strategy"
          defaultValue={settings.strategy}
          options={[
            { value: "ROLLING", label: "Rolling: a batch of servers at a time" },
            { value: "ALL_AT_ONCE", label: "All at once (test environments)" },
          ]}
        />
        <Field name="batchSize" label="Servers per batch" type="number" defaultValue={settings.batchSize} hint="A rolling update always keeps at least one server serving." />
        <Field
          name="healthCheckUrl"
          label="Health check URL"
          type="url"
          defaultValue={settings.healthCheckUrl ?? ""}
          placeholder="e.g. http://127.0.0.1:8080/health"
          hint="Must answer 2xx. ${VARIABLES} from the agent's config are filled in per server."
          monospace
        />
        <div className="self-end pb-2">
          <CheckboxField name="healthCheckExpectsVersion" label="The answer must contain the new version" defaultChecked={settings.healthCheckExpectsVersion} />
        </div>
        <Field
          name="healthCheckFailAfter5xx"
          label="Fail after this many 5xx answers in a row"
          type="number"
          defaultValue={settings.healthCheckFailAfter5xx}
          hint="Rolls a build that answers 500 back at once, not after the hook timeout. Raise it for apps that answer 503 while warming up; 0 = off."
        />
        <Field name="hookTimeoutSeconds" label="Timeout per hook (seconds)" type="number" defaultValue={settings.hookTimeoutSeconds} hint="5 to 3600. Also bounds the health check and the load balancer's waits." />
        <Field name="keepReleases" label="Releases kept on each server" type="number" defaultValue={settings.keepReleases} hint="For instant reverts: 1 to 50." />
        <div className="self-end pb-2">
          <CheckboxField name="autoRollback" label="Roll back automatically when a server fails" defaultChecked={settings.autoRollback} />
        </div>
      </div>
      <fieldset>
        <legend className="text-sm font-medium text-slate-700">Hooks run on each server (empty = not used)</legend>
        <div className="mt-2 grid gap-3 sm:grid-cols-2">
          {HOOKS.map((h) => (
            <Field key={h.name} name={h.name} label={h.label} defaultValue={(settings[h.name] as string | null) ?? ""} placeholder={`e.g. ${h.placeholder}`} monospace />
          ))}
        </div>
      </fieldset>
      <fieldset>
        <legend className="text-sm font-medium text-slate-700">Post-deploy analysis</legend>
        <p className="mt-1 text-xs text-slate-500">
          Once a server serves again, watch its HAProxy counters beside the servers still on the previous build; a figure over its limit halts the rollout and rolls back. Needs
          HAProxy balancers and agent 0.4.0 or newer.
        </p>
        <div className="mt-2 grid gap-3 sm:grid-cols-2">
          <Field
            name="bakeSeconds"
            label="Watch each server for (seconds)"
            type="number"
            defaultValue={settings.bakeSeconds}
            hint="0 = off. Each batch waits this long before the next one starts; a figure clearly over its limit fails it sooner."
          />
          <Field
            name="bakeMax5xxPercent"
            label="Most 5xx responses (%)"
            type="number"
            step="any"
            defaultValue={settings.bakeMax5xxPercent}
            hint="Of the server's responses, above what the servers still on the previous build answer. Fewer than 20 responses are too few to judge."
          />
          <Field name="bakeMaxResponseMs" label="Slowest average response time (ms)" type="number" defaultValue={settings.bakeMaxResponseMs ?? ""} hint="HAProxy's rtime; empty = no limit." />
          <Field
            name="bakeMaxResponseRatio"
            label="Most times the previous build's response time"
            type="number"
            step="any"
            defaultValue={settings.bakeMaxResponseRatio ?? ""}
            hint="e.g. 2 = twice as slow fails; empty = no limit."
          />
        </div>
      </fieldset>
      <TextAreaField
        name="persistentPaths"
        label="Persistent paths"
        defaultValue={settings.persistentPaths.join("\n")}
        placeholder={"storage/uploads\nvar/cache"}
        hint="One path per line, relative to the application directory: kept in shared/ and linked into every release."
        rows={3}
        monospace
      />
    </ActionForm>
  );
}
