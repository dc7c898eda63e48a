// The configuration file over the pipeline API, as a CI job uses it with an ops token: GET, PUT ?dryRun=true, PUT.
import { describe, expect, it } from "vitest";
import { GET, PUT } from "../../app/api/v1/applications/[applicationId]/configuration/route";
import { createMember, createTenant } from "../../test/factories";
import { createApiToken } from "../api-tokens/create-api-token";
import type { TConfigurationDocument } from "./configuration-document";

const url = (applicationId: string, query = "") => `http://localhost/api/v1/applications/${applicationId}/configuration${query}`;
const params = (applicationId: string) => ({ params: Promise.resolve({ applicationId }) });

describe("GET/PUT /api/v1/applications/{id}/configuration", () => {
  it("an ops token reads the file, previews a change and applies it; a developer's token may not read it", async () => {
    const tenant = await createTenant();
    const ops = await createMember(tenant, "OPS");
    const { plaintext: token } = await createApiToken(ops, { applicationId: tenant.application.id, name: "infra-repo", roles: ["OPS"], expiresInDays: undefined });
    const auth = { authorization: `Bearer ${token}` };
    const got = await GET(new Request(url(tenant.application.id), { headers: auth }), params(tenant.application.id));
    expect(got.status).toBe(200);
    const file = (await got.json()) as TConfigurationDocument;
    expect(file.format).toBe("releasegate.application/v1");
    expect(file.environments.map((e) => e.name)).toEqual(["QA", "Acceptance", "Production"]);

    file.environments[2]!.servers = [{ name: "web-1", behind: [] }];
    const put = (query: string, body: unknown) =>
      PUT(new Request(url(tenant.application.id, query), { method: "PUT", headers: { ...auth, "content-type": "application/json" }, body: JSON.stringify(body) }), params(tenant.application.id));
    const dry = await put("?dryRun=true", file);
    expect(dry.status).toBe(200);
    expect(await dry.json()).toEqual({ dryRun: true, changes: ["Production: add server web-1 (an enrollment token is issued for it)"], notes: [], enrollmentTokens: [] });
    const applied = await put("", file);
    const body = (await applied.json()) as { enrollmentTokens: { server: string; token: string }[] };
    expect(body.enrollmentTokens.map((t) => [t.server, t.token.slice(0, 4)])).toEqual([["web-1", "rge_"]]);

    const bad = await put("?dryRun=maybe", file);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: "INVALID_INPUT", message: "dryRun: dryRun is true or false." } });

    const dev = await createMember(tenant, "DEVELOPER");
    const { plaintext: devToken } = await createApiToken(dev, { applicationId: tenant.application.id, name: "ci", roles: ["DEVELOPER"], expiresInDays: undefined });
    const refused = await GET(new Request(url(tenant.application.id), { headers: { authorization: `Bearer ${devToken}` } }), params(tenant.application.id));
    expect(refused.status).toBe(403);
  });
});
