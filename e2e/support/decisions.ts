// Steps for the acceptance and approval specs: customer-side testers, a developer's pipeline token, and a release
// taken through QA into Acceptance by the pipeline API with simulated agents doing the rollouts over the agent API.
import { mkdir } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import type { APIRequestContext, Page, Request } from "@playwright/test";
import {
  addServer,
  completeRollout,
  createRelease,
  createUser,
  expect,
  grantRole,
  keepOnline,
  newPerson,
  type Person,
  signInFirstTime,
  SimulatedAgent,
  type Tenant,
} from "../fixtures";

/** A tester who works for the tenant's customer (a customer-side account), with the Customer tester role, signed in. */
export async function customerTester(admin: Page, tenant: Tenant, openPage: () => Promise<Page>, first = "Cleo"): Promise<{ page: Page; person: Person }> {
  const person = newPerson(first, "Customer");
  const oneTime = await createUser(admin, person, tenant.customer);
  await grantRole(admin, tenant.applicationId, person, "Customer tester");
  const page = await openPage();
  await signInFirstTime(page, person.email, oneTime);
  return { page, person };
}

/** Grants a person who already holds a role on the application another one (the fixture's grantRole expects one). */
export async function grantAnotherRole(admin: Page, applicationId: string, person: Person, role: string): Promise<void> {
  await admin.goto(`/apps/${applicationId}/settings`);
  const people = admin.getByRole("region", { name: "People", exact: true });
  await people.getByLabel("Person").selectOption({ label: `${person.name} (${person.email})` });
  await people.getByLabel("Role", { exact: true }).selectOption({ label: role });
  await people.getByRole("button", { name: "Grant role" }).click();
  await expect(people.getByRole("status")).toHaveText("Role granted.");
  await expect(people.getByTestId("members").getByRole("listitem").filter({ hasText: person.name }).filter({ hasText: role })).toHaveCount(1);
}

/** Sets the URL where people open an environment (the settings page, as an administrator). */
export async function setEnvironmentUrl(admin: Page, applicationId: string, environment: string, position: number, url: string): Promise<void> {
  await admin.goto(`/apps/${applicationId}/settings`);
  const card = admin.getByRole("region", { name: `${position}. ${environment}`, exact: true });
  await card.getByLabel("URL people open").fill(url);
  await card.getByRole("button", { name: "Save", exact: true }).click();
  await expect(card.getByRole("status")).toHaveText(`${environment} saved.`);
}

/** A pipeline token with the Developer role, created by the developer on the settings page. */
export async function pipelineToken(developer: Page, applicationId: string): Promise<string> {
  await developer.goto(`/apps/${applicationId}/settings`);
  const form = developer.getByRole("region", { name: "New API token", exact: true });
  await form.getByLabel("Token name").fill("ci");
  await form.getByRole("button", { name: "Create token" }).click();
  await expect(form.getByRole("status")).toHaveText("Token ci created.");
  return (await form.getByTestId("shown-once-value").textContent())?.trim() ?? "";
}

/** Deploys through the pipeline API, lets the agent roll it out, and waits until the deployment succeeded. */
export async function deployThroughPipeline(request: APIRequestContext, token: string, applicationId: string, environment: string, version: string, agent: SimulatedAgent) {
  const auth = { authorization: `Bearer ${token}` };
  const res = await request.post(`/api/v1/applications/${applicationId}/deployments`, { headers: auth, data: { environment, release: version } });
  expect(res.status(), await res.text()).toBe(201);
  const { deployment } = (await res.json()) as { deployment: { id: string } };
  await completeRollout([agent]);
  await expect
    .poll(async () => ((await (await request.get(`/api/v1/deployments/${deployment.id}`, { headers: auth })).json()) as { deployment: { status: string } }).deployment.status)
    .toBe("SUCCEEDED");
  return deployment.id;
}

export interface ReleaseLane {
  token: string;
  qa: SimulatedAgent;
  acceptance: SimulatedAgent;
  stop: () => void;
}

/** One server with a (simulated) agent in QA and in Acceptance, and the developer's pipeline token. */
export async function releaseLane(admin: Page, developer: Page, request: APIRequestContext, applicationId: string): Promise<ReleaseLane> {
  const qa = await SimulatedAgent.enroll(request, await addServer(admin, applicationId, "QA", "qa-1"), "qa-1");
  const acceptance = await SimulatedAgent.enroll(request, await addServer(admin, applicationId, "Acceptance", "acc-1"), "acc-1");
  const token = await pipelineToken(developer, applicationId);
  return { token, qa, acceptance, stop: keepOnline([qa, acceptance]) };
}

/** A release candidate uploaded as the developer, deployed to QA and then to Acceptance. */
export async function releaseInAcceptance(lane: ReleaseLane, request: APIRequestContext, applicationId: string, developerEmail: string, version: string) {
  const release = await createRelease(applicationId, developerEmail, version);
  await deployThroughPipeline(request, lane.token, applicationId, "qa", version, lane.qa);
  await deployThroughPipeline(request, lane.token, applicationId, "acceptance", version, lane.acceptance);
  return release;
}

export const reviewPath = (applicationId: string, releaseId: string) => `/apps/${applicationId}/releases/${releaseId}/decide`;

/** Replays a server action `captured` from someone else's browser with this page's session (a forged request). */
export async function replayAction(page: Page, captured: Request): Promise<string> {
  const headers = captured.headers();
  const res = await page.request.post(captured.url(), {
    headers: Object.fromEntries(["next-action", "next-router-state-tree", "content-type", "accept", "origin"].flatMap((h) => (headers[h] ? [[h, headers[h]]] : []))),
    data: captured.postDataBuffer() ?? Buffer.alloc(0),
  });
  return res.text();
}

/** Waits for the next server action the page posts while `act` runs, and returns it. */
export async function captureAction(page: Page, act: () => Promise<void>): Promise<Request> {
  const sent = page.waitForRequest((r) => r.method() === "POST" && r.headers()["next-action"] !== undefined);
  await act();
  return sent;
}

const shots = path.resolve(import.meta.dirname, process.env.UPDATE_SCREENSHOTS === "1" ? "../../docs/screenshots" : "../../test-results/screenshots");

/** A full-page picture to look at, next to the other specs' (test-results/screenshots). */
export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(shots, { recursive: true });
  await page.mouse.move(0, 0);
  await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true, animations: "disabled" });
}

/** A webhook receiver on loopback that records what the control plane sends it and answers 200. */
export class WebhookReceiver {
  readonly received: { headers: http.IncomingHttpHeaders; body: string }[] = [];
  private readonly server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      this.received.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
      res.writeHead(200).end();
    });
  });
  url = "";

  static async start(): Promise<WebhookReceiver> {
    const receiver = new WebhookReceiver();
    await new Promise<void>((resolve) => receiver.server.listen(0, "127.0.0.1", resolve));
    receiver.url = `http://127.0.0.1:${(receiver.server.address() as AddressInfo).port}`;
    return receiver;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
