// Notification emails through a real SMTP server (smtp-server, on loopback) when SMTP_URL is configured: a customer's
// rejection reaches the developer who uploaded the release by email, with the reason and a link to the release.
import { afterAll, describe, expect, it, vi } from "vitest";
import { releaseFlow, releaseInAcceptance } from "../../test/release-flow";
import { recordVerdict } from "../approvals/record-verdict";
import { settleBackgroundWork } from "./background";

interface Mail {
  from: string;
  to: string[];
  data: string;
}

// lib/env.ts reads the environment once per process, when the first module that needs it loads (lib/log.ts does at
// import), so the mail server must be running and SMTP_URL set before any import: vi.hoisted runs first. Each test
// file runs in a process of its own, so no other file sees this mail server.
const { smtp, mails, saved } = await vi.hoisted(async () => {
  const { SMTPServer } = await import("smtp-server");
  const received: Mail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          to: session.envelope.rcptTo.map((r) => r.address),
          data: Buffer.concat(chunks).toString("utf8"),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.server.address() as import("node:net").AddressInfo;
  const saved = { SMTP_URL: process.env.SMTP_URL, MAIL_FROM: process.env.MAIL_FROM, NEXTAUTH_URL: process.env.NEXTAUTH_URL };
  process.env.SMTP_URL = `smtp://127.0.0.1:${port}`;
  process.env.MAIL_FROM = "Releasegate <releasegate@shop.example.test>";
  process.env.NEXTAUTH_URL = "https://releasegate.example.test";
  return { smtp: server, mails: received, saved };
});

afterAll(async () => {
  await settleBackgroundWork();
  await new Promise<void>((resolve) => smtp.close(() => resolve()));
  // Should the worker process run another file next, it starts from the environment it had.
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

describe("email notifications", () => {
  it("a rejection is emailed to the developer who uploaded the release, with the reason and a link", async () => {
    const flow = await releaseFlow();
    const { release } = await releaseInAcceptance(flow);
    await recordVerdict(flow.customer, { releaseId: release.id, verdict: "REJECTED", reason: "The invoice PDF is empty", artifactSha256: release.artifactSha256 });
    await settleBackgroundWork();

    const toDev = mails.filter((m) => m.to.includes(flow.dev.email));
    const rejection = toDev.find((m) => m.data.includes("was rejected"));
    expect(rejection, `mails to the developer: ${toDev.length}`).toBeDefined();
    expect(rejection!.from).toBe("releasegate@shop.example.test");
    // Unfold the quoted-printable soft line breaks before reading the text.
    const text = rejection!.data.replace(/=\r?\n/g, "").replace(/=E2=80=9C/g, "“").replace(/=E2=80=9D/g, "”");
    expect(text).toMatch(new RegExp(`^Subject: ${flow.tenant.application.name} ${release.version.replace(/\./g, "\\.")} was rejected`, "m"));
    expect(text).toContain(`${flow.customer.name} rejected it in Acceptance: “The invoice PDF is empty”.`);
    expect(text).toContain(`https://releasegate.example.test/apps/${flow.tenant.application.id}/releases/${release.id}/decide`);
    // Nobody else was told about the rejection by email (the customer acted; approvers and ops are not concerned).
    expect(mails.filter((m) => m.data.includes("was rejected")).flatMap((m) => m.to)).toEqual([flow.dev.email]);
  });
});
