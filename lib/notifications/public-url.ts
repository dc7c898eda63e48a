import "server-only";
import { env } from "../env";

/** An absolute URL of a page of the control plane, for emails and webhook payloads (links leave the browser). */
export function publicUrl(pathname: string): string {
  const base = env().NEXTAUTH_URL ?? `http://localhost:${env().PORT}`;
  return new URL(pathname, base.endsWith("/") ? base : `${base}/`).toString();
}
