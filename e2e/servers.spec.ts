// Ops add a server, hand its one-time token to the agent, watch it come online, and revoke it; the agent API
// takes only the agent's own secret.
import { clickAndConfirm, expect, signedInMember, test, uniq } from "./fixtures";

test("ops add a server, the agent enrolls and heartbeats, ops revoke it and the agent is refused", async ({ adminPage: admin, tenant, newBrowserPage, request }) => {
  const { page } = await signedInMember(admin, tenant.applicationId, newBrowserPage, { first: "Otto", last: "Ops", role: "Ops" });
  await page.goto(`/apps/${tenant.applicationId}`);

  const production = page.getByTestId("servers-Production");
  await production.getByText("Add a server to Production").click();
  const name = uniq("web").replace(" ", "-");
  await production.getByLabel("Server name").fill(name);
  await production.getByRole("button", { name: "Add server" }).click();
  await expect(production.getByRole("status")).toHaveText(`${name} added.`);
  const token = (await production.getByTestId("shown-once-value").textContent())?.trim() ?? "";
  expect(token).toMatch(/^rge_/);
  await expect(production.getByTestId(`server-${name}`)).toContainText("waiting for agent");

  // The agent's side, over the real HTTP API.
  const enrolled = await request.post("/api/agent/v1/enroll", { data: { token, hostname: "prod-web-1", agentVersion: "0.1.0" } });
  expect(enrolled.status()).toBe(201);
  const { agentSecret } = (await enrolled.json()) as { agentSecret: string };
  const again = await request.post("/api/agent/v1/enroll", { data: { token, hostname: "prod-web-1", agentVersion: "0.1.0" } });
  expect(again.status()).toBe(401);
  const beat = () =>
    request.post("/api/agent/v1/heartbeat", {
      headers: { authorization: `Bearer ${agentSecret}` },
      data: { agentVersion: "0.1.0", hostname: "prod-web-1", liveReleaseId: null, stagedReleaseIds: [] },
    });
  expect((await beat()).status()).toBe(200);

  await page.reload();
  const row = page.getByTestId(`server-${name}`);
  await expect(row).toContainText("online");
  await expect(row).toContainText("agent 0.1.0 on prod-web-1");

  await clickAndConfirm(row.getByRole("button", { name: "Revoke" }), `Revoke the agent of ${name}? It is refused from its next call.`);
  await expect(page.getByTestId(`server-${name}`)).toContainText("revoked");
  const refused = await beat();
  expect(refused.status()).toBe(401);
  expect(await refused.json()).toMatchObject({ error: { code: "UNAUTHENTICATED" } });
});

test("a developer sees the servers but cannot add or revoke them", async ({ adminPage: admin, tenant, newBrowserPage }) => {
  const { page } = await signedInMember(admin, tenant.applicationId, newBrowserPage, { first: "Dee", last: "Developer", role: "Developer" });
  await page.goto(`/apps/${tenant.applicationId}`);
  await expect(page.getByTestId("servers-Production")).toBeVisible();
  await expect(page.getByText("Add a server to Production")).toHaveCount(0);
});
