// Fixtures and UI steps shared by the e2e specs. Tests click through the app as a person would: every customer,
// application and person a test needs is created through the admin UI under a unique name, so tests do not depend on
// each other, need no database reset, and two spec files run at a time (playwright.config.ts). The one exception is
// first-run.spec.ts: it meets the empty database, turns the generated first administrator into one with a known
// password and stores it here for everyone else (playwright.config.ts makes every other spec depend on it).
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { test as base, expect, type APIRequestContext, type BrowserContext, type BrowserContextOptions, type Locator, type Page } from "@playwright/test";

export { expect };

export interface Credentials {
  email: string;
  password: string;
}

export interface Person {
  name: string;
  email: string;
}

// The control plane's DATA_DIR: playwright.config.ts hands the server the same variable (relative paths resolve
// against the project root, where Playwright runs).
const dataDir = path.resolve(process.env.E2E_DATA_DIR ?? ".data/e2e");
const ADMIN_FILE = path.join(dataDir, "e2e-admin.json");

/** The credentials the server printed on first start (lib/users/announce-first-admin.ts writes the same file). */
export async function readInitialAdmin(): Promise<Credentials> {
  const file = path.join(dataDir, "initial-admin.txt");
  const text = await readFile(file, "utf8").catch(() => {
    throw new Error(`${file} is missing: the e2e run needs a fresh database and a fresh E2E_DATA_DIR.`);
  });
  const email = /^email: (.+)$/m.exec(text)?.[1]?.trim();
  const password = /^password: (.+)$/m.exec(text)?.[1]?.trim();
  if (!email || !password) throw new Error(`${file} does not hold an email and a password.`);
  return { email, password };
}

/** Stored in the run's data dir, which is fresh for every run, so a stale password can never be picked up. */
export async function saveAdminCredentials(credentials: Credentials): Promise<void> {
  await writeFile(ADMIN_FILE, JSON.stringify(credentials), { mode: 0o600 });
}

async function loadAdminCredentials(): Promise<Credentials> {
  const text = await readFile(ADMIN_FILE, "utf8").catch(() => {
    throw new Error(`${ADMIN_FILE} is missing: first-run.spec.ts stores it, and must pass first.`);
  });
  return JSON.parse(text) as Credentials;
}

const suffix = () => randomUUID().slice(0, 6);

/** A readable name no other test uses, e.g. "Acme 3f9c1a". */
export const uniq = (prefix: string) => `${prefix} ${suffix()}`;

/** A person no other test uses, e.g. "Dana Developer 3f9c1a" <dana.developer.3f9c1a@example.test>. */
export function newPerson(first: string, last: string): Person {
  const s = suffix();
  return { name: `${first} ${last} ${s}`, email: `${first}.${last}.${s}@example.test`.toLowerCase() };
}

/** A password the policy accepts (at least 12 characters, not repetitive). */
export const newPassword = () => `e2e-${randomUUID()}`;

// ---- signing in -------------------------------------------------------------------------------------------------

/** Fills the sign-in form and submits it; resolves once the server has answered (success or not). */
export async function submitSignIn(page: Page, credentials: Credentials): Promise<void> {
  await page.getByLabel("Email", { exact: true }).fill(credentials.email);
  await page.getByLabel("Password", { exact: true }).fill(credentials.password);
  await Promise.all([
    page.waitForResponse((r) => r.url().includes("/api/auth/callback/credentials")),
    page.getByRole("button", { name: "Sign in" }).click(),
  ]);
}

/** Signs in over the UI and waits until the browser has left the sign-in page. */
export async function signIn(page: Page, credentials: Credentials): Promise<void> {
  await page.goto("/signin");
  await submitSignIn(page, credentials);
  await expect(page).not.toHaveURL(/\/signin/);
}

/** The sign-in form's message (scoped: Next's route announcer is another role="alert"). */
export const signInAlert = (page: Page) => page.getByRole("main").getByRole("alert");

/** On /account/password: chooses a new password and lands on home. */
export async function choosePassword(page: Page, current: string, next: string): Promise<void> {
  await page.getByLabel("Current password").fill(current);
  await page.getByLabel("New password", { exact: true }).fill(next);
  await page.getByLabel("New password again").fill(next);
  await page.getByRole("button", { name: "Save password" }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(/^Hello, /);
}

/** First sign-in with a one-time password: the person is sent to choose their own, then home. Returns it. */
export async function signInFirstTime(page: Page, email: string, oneTimePassword: string): Promise<Credentials> {
  await signIn(page, { email, password: oneTimePassword });
  await expect(page).toHaveURL(/\/account\/password$/);
  await expect(page.getByRole("heading", { name: "Choose your password" })).toBeVisible();
  const password = newPassword();
  await choosePassword(page, oneTimePassword, password);
  return { email, password };
}

/** Marks the loaded document; `sameDocument` tells whether the page is still that one (it was not reloaded). */
export async function markDocument(page: Page): Promise<() => Promise<boolean>> {
  await page.evaluate(() => {
    (window as unknown as { e2eMarker?: boolean }).e2eMarker = true;
  });
  return () => page.evaluate(() => (window as unknown as { e2eMarker?: boolean }).e2eMarker === true);
}

// ---- admin steps ------------------------------------------------------------------------------------------------

/** Clicks a button that asks for confirmation, checks the question and accepts it. */
export async function clickAndConfirm(button: Locator, question: string): Promise<void> {
  let asked: string | undefined;
  button.page().once("dialog", (dialog) => {
    asked = dialog.message();
    void dialog.accept();
  });
  await button.click();
  expect(asked).toBe(question);
}

export async function createCustomer(page: Page, name: string): Promise<void> {
  await page.goto("/admin/customers");
  const form = page.getByRole("region", { name: "New customer", exact: true });
  await form.getByLabel("Name").fill(name);
  await form.getByRole("button", { name: "Create customer" }).click();
  await expect(form.getByRole("status")).toHaveText(`Customer ${name} created.`);
  await expect(page.getByRole("region", { name, exact: true })).toBeVisible();
}

/** Creates an application of `customer` and returns its id (read from the link the customer card shows). */
export async function createApplication(page: Page, customer: string, name: string, description = ""): Promise<string> {
  await page.goto("/admin/customers");
  const form = page.getByRole("region", { name: "New application", exact: true });
  await form.getByLabel("Customer").selectOption({ label: customer });
  await form.getByLabel("Name").fill(name);
  await form.getByLabel("Description").fill(description);
  await form.getByRole("button", { name: "Create application" }).click();
  await expect(form.getByRole("status")).toHaveText(`Application ${name} created with QA, Acceptance and Production.`);
  const link = page.getByRole("region", { name: customer, exact: true }).getByRole("link", { name, exact: true });
  const id = /^\/apps\/([0-9a-f-]{36})$/.exec((await link.getAttribute("href")) ?? "")?.[1];
  if (!id) throw new Error(`no link to application ${name} on the customers page`);
  return id;
}

/** Creates an account (staff, or a customer's when `customer` is given); returns the one-time password shown once. */
export async function createUser(page: Page, person: Person, customer?: string): Promise<string> {
  await page.goto("/admin/users");
  const form = page.getByRole("region", { name: "New user", exact: true });
  await form.getByLabel("Name").fill(person.name);
  await form.getByLabel("Email").fill(person.email);
  await form.getByLabel("Works for").selectOption({ label: customer ? `Customer: ${customer}` : "Our team (staff)" });
  await form.getByRole("button", { name: "Create user" }).click();
  await expect(form.getByRole("status")).toHaveText(`${person.email} created.`);
  const shownOnce = form.getByTestId("shown-once");
  await expect(shownOnce).toContainText(`One-time password for ${person.email}`);
  const value = (await shownOnce.getByTestId("shown-once-value").textContent())?.trim() ?? "";
  expect(value).toMatch(/^[A-Za-z0-9]{5}(-[A-Za-z0-9]{5}){3}$/);
  return value;
}

/** Grants `person` a role (its label, e.g. "Developer") on an application, on its settings page. */
export async function grantRole(page: Page, applicationId: string, person: Person, role: string): Promise<void> {
  await page.goto(`/apps/${applicationId}/settings`);
  const people = page.getByRole("region", { name: "People", exact: true });
  await people.getByLabel("Person").selectOption({ label: `${person.name} (${person.email})` });
  await people.getByLabel("Role", { exact: true }).selectOption({ label: role });
  await people.getByRole("button", { name: "Grant role" }).click();
  await expect(people.getByRole("status")).toHaveText("Role granted.");
  await expect(people.getByTestId("members").getByRole("listitem").filter({ hasText: person.name })).toContainText(role);
}

/**
 * A new person with `role` on the tenant's application, signed in (password chosen) in a browser of their own.
 * Returns their page; the admin's page is used to create them.
 */
export async function signedInMember(
  admin: Page,
  applicationId: string,
  openPage: () => Promise<Page>,
  who: { first: string; last: string; role: string },
): Promise<{ page: Page; person: Person }> {
  const person = newPerson(who.first, who.last);
  const oneTime = await createUser(admin, person);
  await grantRole(admin, applicationId, person, who.role);
  const page = await openPage();
  await signInFirstTime(page, person.email, oneTime);
  return { page, person };
}

/**
 * Production's gates on the settings page, as an administrator: `on` needs the previous stage, a customer's
 * acceptance and one approval (the default lifecycle); off leaves only "ops alone deploy there".
 */
export async function setProductionGates(admin: Page, applicationId: string, on: boolean): Promise<void> {
  await admin.goto(`/apps/${applicationId}/settings`);
  const card = admin.getByRole("region", { name: "3. Production", exact: true });
  await card.getByLabel("Must succeed in the previous environment first").setChecked(on);
  await card.getByLabel("Needs a customer's acceptance").setChecked(on);
  await card.getByLabel("Approvals required").fill(on ? "1" : "0");
  await card.getByRole("button", { name: "Save", exact: true }).click();
  await expect(card.getByRole("status")).toHaveText("Production saved.");
}

// ---- servers, releases and simulated agents ---------------------------------------------------------------------

/** Adds a server to an environment on the application page (as ops or an admin); returns its one-time token. */
export async function addServer(page: Page, applicationId: string, environment: string, name: string): Promise<string> {
  await page.goto(`/apps/${applicationId}`);
  const servers = page.getByTestId(`servers-${environment}`);
  await servers.getByText(`Add a server to ${environment}`).click();
  await servers.getByLabel("Server name").fill(name);
  await servers.getByRole("button", { name: "Add server" }).click();
  await expect(servers.getByRole("status")).toHaveText(`${name} added.`);
  const token = (await servers.getByTestId("shown-once-value").textContent())?.trim() ?? "";
  expect(token).toMatch(/^rge_/);
  return token;
}

/** On an environment's page: adds an HAProxy balancer through the Load balancers card. */
export async function addBalancer(page: Page, name: string, address: string): Promise<void> {
  const card = page.getByRole("region", { name: "Load balancers" });
  const form = card.locator("details").filter({ has: page.locator("summary", { hasText: "Add a load balancer…" }) });
  // It stays open after an earlier balancer was added.
  if ((await form.getAttribute("open")) === null) await form.locator("summary").click();
  await form.getByLabel("Name").fill(name);
  await form.getByLabel("Kind").selectOption("HAPROXY");
  await form.getByLabel("Runtime API address").fill(address);
  await form.getByRole("button", { name: "Add balancer" }).click();
  await expect(form.getByRole("status")).toHaveText(`Balancer ${name} added. Put its servers behind it.`);
}

/** On an environment's page: puts `server` behind `balancer` as backend/name; resolves with the form's message. */
export async function putBehindBalancer(page: Page, balancer: string, server: string, backend: string, name: string): Promise<Locator> {
  const section = page.getByRole("region", { name: `Balancer ${balancer}` });
  const form = section.locator("details").filter({ has: page.locator("summary", { hasText: `Put a server behind ${balancer}…` }) });
  if ((await form.getAttribute("open")) === null) await form.locator("summary").click();
  await form.getByLabel("Server", { exact: true }).selectOption({ label: server });
  await form.getByLabel("Backend").fill(backend);
  await form.getByLabel("Server name in HAProxy").fill(name);
  await form.getByRole("button", { name: `Put behind ${balancer}` }).click();
  return form;
}

/**
 * A release candidate uploaded through the domain (lib/releases/create-release.ts) by `uploaderEmail`, who must be a
 * developer of the application, in the database and artifact store of the server under test. For specs that need
 * releases but are not about uploading them.
 */
export async function createRelease(
  applicationId: string,
  uploaderEmail: string,
  version: string,
  migration: { needsMigration: boolean; migrationInstructions: string } = { needsMigration: false, migrationInstructions: "" },
): Promise<{ id: string; version: string; sha256: string }> {
  const databaseUrl = process.env.E2E_DATABASE_URL;
  if (!databaseUrl) throw new Error("E2E_DATABASE_URL is not set: run the e2e tests through `npm test` or `npm run test:e2e`.");
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ["--conditions=react-server", "--import", "tsx", "e2e/support/seed-release.ts", JSON.stringify({ email: uploaderEmail, applicationId, version, ...migration })],
    { env: { ...process.env, DATABASE_URL: databaseUrl, DATA_DIR: dataDir, LOG_LEVEL: "silent" }, maxBuffer: 1 << 20 },
  );
  return JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}") as { id: string; version: string; sha256: string };
}

/** The part of a job (lib/contracts/agent-api.ts) a simulated agent looks at. */
export interface SimulatedJob {
  stepId: string;
  leaseId: string;
  action: "STAGE" | "ACTIVATE" | "ROLLBACK";
  release: { id: string; version: string };
  target: { name: string };
  loadBalancer: { kind: string };
  /** The first activation of a migration release runs the hooks below before it starts the new build. */
  runMigration: boolean;
  hooks: { maintenanceOn: string | null; backup: string | null; migrate: string | null; maintenanceOff: string | null };
  /** Set when the job switches `current` back to a build installed outside Releasegate. */
  restore?: { path: string } | null;
}

/** What a newer agent reports `current` to be (lib/contracts/agent-api.ts ZCurrentReportSchema). */
export type SimulatedCurrent =
  | { kind: "none" }
  | { kind: "foreign"; path: string; revision: string | null }
  | { kind: "release"; path: string; releaseId: string; version: string; sha256: string };

/**
 * An agent played by the test over the real agent API (enroll, heartbeat, claim, report, logs) with the secret it
 * enrolled for, remembering what its node would hold so its heartbeats tell the truth.
 */
export class SimulatedAgent {
  private live: string | null = null;
  private readonly staged = new Set<string>();
  /** Set to report `current` in heartbeats, as agents that know it do; left undefined, the agent is an older one. */
  current: SimulatedCurrent | undefined;

  private constructor(
    private readonly request: APIRequestContext,
    readonly name: string,
    private readonly secret: string,
  ) {}

  static async enroll(request: APIRequestContext, token: string, name: string): Promise<SimulatedAgent> {
    const res = await request.post("/api/agent/v1/enroll", { data: { token, hostname: name, agentVersion: "0.1.0-e2e" } });
    expect(res.status(), await res.text()).toBe(201);
    const agent = new SimulatedAgent(request, name, ((await res.json()) as { agentSecret: string }).agentSecret);
    await agent.heartbeat();
    return agent;
  }

  private post(url: string, data: unknown) {
    return this.request.post(url, { headers: { authorization: `Bearer ${this.secret}` }, data });
  }

  async heartbeat(): Promise<void> {
    const res = await this.post("/api/agent/v1/heartbeat", {
      agentVersion: "0.1.0-e2e",
      hostname: this.name,
      liveReleaseId: this.live,
      stagedReleaseIds: [...this.staged],
      ...(this.current ? { current: this.current } : {}),
    });
    expect(res.status(), await res.text()).toBe(200);
  }

  /** The next job for this server, or null (no waiting). */
  async claim(): Promise<SimulatedJob | null> {
    const res = await this.post("/api/agent/v1/jobs/claim", { waitSeconds: 0 });
    expect(res.status(), await res.text()).toBe(200);
    return ((await res.json()) as { job: SimulatedJob | null }).job;
  }

  /** Claims, expecting a job of `action`. */
  async expectJob(action: SimulatedJob["action"]): Promise<SimulatedJob> {
    const job = await this.claim();
    expect(job?.action, `${this.name} should get a ${action} job`).toBe(action);
    return job!;
  }

  async report(job: SimulatedJob, body: { status: "RUNNING" | "SUCCEEDED" | "FAILED"; phase?: string; message?: string; progress?: number }): Promise<void> {
    const res = await this.post(`/api/agent/v1/steps/${job.stepId}/report`, { leaseId: job.leaseId, ...body });
    expect(res.status(), await res.text()).toBe(200);
    if (body.status === "SUCCEEDED" && job.restore) {
      this.live = null;
      if (this.current) this.current = { kind: "foreign", path: job.restore.path, revision: null };
    } else if (body.status === "SUCCEEDED") {
      this.staged.add(job.release.id);
      if (job.action !== "STAGE") {
        this.live = job.release.id;
        if (this.current) this.current = { kind: "release", path: `releases/${job.release.version}`, releaseId: job.release.id, version: job.release.version, sha256: "0".repeat(64) };
      }
    }
  }

  async log(job: SimulatedJob, seq: number, text: string): Promise<void> {
    const res = await this.post(`/api/agent/v1/steps/${job.stepId}/logs`, { leaseId: job.leaseId, chunks: [{ seq, text }] });
    expect(res.status(), await res.text()).toBe(200);
  }

  /** A log request as a newer agent sends it: numbered chunks, and the ranges it had to drop. */
  async logChunks(job: SimulatedJob, body: { chunks: { seq: number; line: number; text: string }[]; lost?: { fromSeq: number; toSeq: number; fromLine: number }[] }): Promise<void> {
    const res = await this.post(`/api/agent/v1/steps/${job.stepId}/logs`, { leaseId: job.leaseId, ...body });
    expect(res.status(), await res.text()).toBe(200);
  }

  /** Runs a whole job successfully. */
  async succeed(job: SimulatedJob): Promise<void> {
    await this.report(job, { status: "RUNNING", phase: "working" });
    await this.report(job, { status: "SUCCEEDED", message: `${job.action.toLowerCase()} ${job.release.version} done` });
  }
}

/** Heartbeats for every agent every 5 s (a server is offline after 35 s of silence); call the result to stop. */
export function keepOnline(agents: SimulatedAgent[]): () => void {
  const timer = setInterval(() => void Promise.all(agents.map((a) => a.heartbeat())).catch(() => undefined), 5_000);
  return () => clearInterval(timer);
}

/** Plays the agents, every job succeeding, until none of them gets work for a moment (the rollout ended). */
export async function completeRollout(agents: SimulatedAgent[]): Promise<void> {
  let idle = 0;
  while (idle < 3) {
    let worked = false;
    for (const agent of agents) {
      const job = await agent.claim();
      if (job) {
        await agent.succeed(job);
        worked = true;
      }
    }
    idle = worked ? 0 : idle + 1;
    if (!worked) await new Promise((r) => setTimeout(r, 200));
  }
}

// ---- fixtures ---------------------------------------------------------------------------------------------------

/**
 * Records every Content-Security-Policy violation in a browser context: Chromium's own console message ("Refused to
 * ... because it violates the following Content Security Policy directive") and the page's securitypolicyviolation
 * event. Every spec's browsers are watched, so each page the suite visits (uploads, live deployment pages and all)
 * proves that the policy (proxy.ts) lets it work; a violation fails the test that caused it.
 */
export function watchContentSecurityPolicy(context: BrowserContext): () => string[] {
  const violations: string[] = [];
  void context.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => {
      console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || "inline"} on ${e.documentURI}`);
    });
  });
  context.on("console", (message) => {
    const text = message.text();
    if (message.type() === "error" && /Content Security Policy|^CSP violation/.test(text)) violations.push(text);
  });
  return () => violations;
}

export interface Tenant {
  customer: string;
  application: string;
  applicationId: string;
}

interface Fixtures {
  /** The administrator's credentials, as first-run.spec.ts left them. */
  admin: Credentials;
  /** The test's own page, signed in as the administrator over the UI. */
  adminPage: Page;
  /**
   * Opens a page in a new browser context: another person, or another browser of the same person; `options` for
   * such a browser's own settings (e.g. its time zone).
   */
  newBrowserPage: (options?: BrowserContextOptions) => Promise<Page>;
  /** A customer with one application (QA, Acceptance, Production), created through the admin UI for this test. */
  tenant: Tenant;
}

export const test = base.extend<Fixtures>({
  context: async ({ context }, use) => {
    const violations = watchContentSecurityPolicy(context);
    await use(context);
    expect(violations(), "Content-Security-Policy violations in the test's pages").toEqual([]);
  },
  admin: async ({}, use) => {
    await use(await loadAdminCredentials());
  },
  adminPage: async ({ page, admin }, use) => {
    await signIn(page, admin);
    await use(page);
  },
  newBrowserPage: async ({ browser, baseURL }, use) => {
    const contexts: { context: BrowserContext; violations: () => string[] }[] = [];
    await use(async (options = {}) => {
      const context = await browser.newContext({ baseURL, ...options });
      contexts.push({ context, violations: watchContentSecurityPolicy(context) });
      return context.newPage();
    });
    for (const { context } of contexts) await context.close();
    expect(contexts.flatMap((c) => c.violations()), "Content-Security-Policy violations in the test's pages").toEqual([]);
  },
  tenant: async ({ adminPage }, use) => {
    const customer = uniq("Customer");
    const application = uniq("App");
    await createCustomer(adminPage, customer);
    const applicationId = await createApplication(adminPage, customer, application);
    await use({ customer, application, applicationId });
  },
});
