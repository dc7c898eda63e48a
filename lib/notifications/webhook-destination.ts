import "server-only";
import { lookup } from "node:dns/promises";
import net from "node:net";
import { env } from "../env";
import { type AllowedNetworks, forbiddenAddressKind, parseAllowedNetworks } from "./webhook-address-policy";

// Where a webhook's request may go, decided on the address it resolves to (webhook-address-policy.ts says which).
// Checked when a webhook is added (a clear form error) and again on every delivery, because a name can be pointed
// elsewhere after it was checked (DNS rebinding): the delivery resolves the name once, checks every address, and
// connects to exactly the address it checked (deliver-webhooks.ts hands it to the socket as its lookup).

const article = (word: string) => (/^[aeiou]/i.test(word) ? "an" : "a");

/** A destination webhooks may not reach; `message` says so in words for the person who set it up. */
export class ForbiddenDestination extends Error {
  constructor(
    readonly host: string,
    readonly address: string,
    readonly kind: string,
  ) {
    // The log's version names the address a name resolved to; `explanation` is what people see.
    super(`${host === address ? host : `${host} resolves to ${address}, which`} is ${article(kind)} ${kind} address`);
    this.name = "ForbiddenDestination";
  }

  /** What the person who manages the webhook is told (the resolved address of a name is left out). */
  get explanation(): string {
    const what = this.host === this.address ? `${this.host} is` : `${this.host} resolves to`;
    return `${what} ${article(this.kind)} ${this.kind} address. Webhooks go only to public addresses unless an administrator allows the network (WEBHOOK_ALLOWED_NETWORKS).`;
  }
}

let allowList: { text: string | undefined; parsed: AllowedNetworks } | undefined;

function allowedNetworks(): AllowedNetworks {
  const text = env().WEBHOOK_ALLOWED_NETWORKS;
  if (!allowList || allowList.text !== text) allowList = { text, parsed: parseAllowedNetworks(text) };
  return allowList.parsed;
}

export interface CheckedAddress {
  address: string;
  family: 4 | 6;
}

/**
 * Resolves the URL's host and checks every address it has; returns the one to connect to. Throws
 * ForbiddenDestination when any address is not allowed (a name with one private address among public ones is
 * refused whole: which one a connection would get is not ours to choose), and the resolver's error (ENOTFOUND…)
 * when the name does not resolve.
 */
export async function resolveWebhookDestination(url: URL): Promise<CheckedAddress> {
  // WHATWG URLs give IPv6 literals in brackets and IPv4 in its one canonical form (2130706433 -> 127.0.0.1).
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  const allowed = allowedNetworks();
  const literal = net.isIP(host);
  const addresses: CheckedAddress[] = literal ? [{ address: host, family: literal as 4 | 6 }] : (await lookup(host, { all: true, verbatim: true })).map((a) => ({ address: a.address, family: a.family as 4 | 6 }));
  for (const a of addresses) {
    const kind = forbiddenAddressKind(a.address, allowed);
    if (kind !== null) throw new ForbiddenDestination(host, a.address, kind);
  }
  const first = addresses[0];
  if (!first) throw Object.assign(new Error(`${host} has no address`), { code: "ENOTFOUND" });
  return first;
}
