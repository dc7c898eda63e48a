import "server-only";
import nodemailer, { type Transporter } from "nodemailer";
import { env } from "../env";
import { log } from "../log";

export interface EmailMessage {
  to: string;
  subject: string;
  text: string;
  /** For the log line: whose email it is, without logging the address. */
  userId?: string;
  kind?: string;
}

let transport: Transporter | null | undefined;

/** The SMTP transport of SMTP_URL, created once; null when no mail server is configured. */
function transporter(): Transporter | null {
  if (transport === undefined) {
    const url = env().SMTP_URL;
    transport = url ? nodemailer.createTransport(url) : null;
  }
  return transport;
}

/**
 * Sends one notification email through SMTP_URL, or, when no mail server is configured, writes a structured log
 * line saying what would have been sent (never the SMTP credentials). Returns what happened.
 */
export async function sendEmail(message: EmailMessage): Promise<"sent" | "logged"> {
  const t = transporter();
  if (!t) {
    log.info({ userId: message.userId, kind: message.kind, subject: message.subject }, "email not sent: SMTP_URL is not configured");
    return "logged";
  }
  const info = (await t.sendMail({ from: env().MAIL_FROM, to: message.to, subject: message.subject, text: message.text })) as { messageId?: string };
  log.info({ userId: message.userId, kind: message.kind, messageId: info.messageId }, "email sent");
  return "sent";
}
