// Which network addresses a webhook may be delivered to. Pure (node:net's BlockList only), so it is unit-tested
// address by address (webhook-address-policy.test.ts).
//
// A webhook URL is chosen by ops, but the request is made by the control plane, from inside the network it runs in.
// Left open, a webhook is a way to make the control plane call what only it can reach: the cloud metadata service
// (169.254.169.254), a database port on localhost, an admin interface on the private network (server-side request
// forgery). So only public unicast addresses are allowed, unless an administrator allow-lists a network
// (WEBHOOK_ALLOWED_NETWORKS) for a receiver inside it. IPv4-mapped and NAT64 IPv6 addresses are judged by the IPv4
// address they carry.
import net from "node:net";

interface Range {
  network: string;
  prefix: number;
  kind: string;
}

// IANA's special-purpose registries (RFC 6890 and successors), by what a person would call them.
const IPV4: Range[] = [
  { network: "0.0.0.0", prefix: 8, kind: "unspecified (\"this network\")" },
  { network: "10.0.0.0", prefix: 8, kind: "private" },
  { network: "100.64.0.0", prefix: 10, kind: "shared (carrier-grade NAT)" },
  { network: "127.0.0.0", prefix: 8, kind: "loopback" },
  { network: "169.254.0.0", prefix: 16, kind: "link-local" },
  { network: "172.16.0.0", prefix: 12, kind: "private" },
  { network: "192.0.0.0", prefix: 24, kind: "reserved" },
  { network: "192.0.2.0", prefix: 24, kind: "documentation" },
  { network: "192.88.99.0", prefix: 24, kind: "reserved" },
  { network: "192.168.0.0", prefix: 16, kind: "private" },
  { network: "198.18.0.0", prefix: 15, kind: "benchmarking" },
  { network: "198.51.100.0", prefix: 24, kind: "documentation" },
  { network: "203.0.113.0", prefix: 24, kind: "documentation" },
  { network: "224.0.0.0", prefix: 4, kind: "multicast" },
  { network: "255.255.255.255", prefix: 32, kind: "broadcast" },
  { network: "240.0.0.0", prefix: 4, kind: "reserved" },
];

// Only global unicast (2000::/3) is routable on the internet; inside it, these are not.
const IPV6_INSIDE_GLOBAL: Range[] = [
  { network: "2001::", prefix: 23, kind: "reserved" }, // IETF protocol assignments: Teredo, ORCHID, benchmarking…
  { network: "2001:db8::", prefix: 32, kind: "documentation" },
  { network: "2002::", prefix: 16, kind: "reserved" }, // 6to4: reaches whatever IPv4 address it embeds
  { network: "3fff::", prefix: 20, kind: "documentation" },
];
const IPV6_OUTSIDE_GLOBAL: Range[] = [
  { network: "::", prefix: 128, kind: "unspecified" },
  { network: "::1", prefix: 128, kind: "loopback" },
  { network: "fc00::", prefix: 7, kind: "unique-local (private)" },
  { network: "fe80::", prefix: 10, kind: "link-local" },
  { network: "fec0::", prefix: 10, kind: "site-local (private)" },
  { network: "ff00::", prefix: 8, kind: "multicast" },
];

function blockList(ranges: Range[], type: "ipv4" | "ipv6"): (address: string) => string | null {
  const lists = ranges.map((r) => {
    const list = new net.BlockList();
    list.addSubnet(r.network, r.prefix, type);
    return { list, kind: r.kind };
  });
  return (address) => lists.find((l) => l.list.check(address, type))?.kind ?? null;
}

const ipv4Kind = blockList(IPV4, "ipv4");
const ipv6InsideKind = blockList(IPV6_INSIDE_GLOBAL, "ipv6");
const ipv6OutsideKind = blockList(IPV6_OUTSIDE_GLOBAL, "ipv6");
const GLOBAL_UNICAST = new net.BlockList();
GLOBAL_UNICAST.addSubnet("2000::", 3, "ipv6");

/** The 16 bytes of an IPv6 address (as net.isIP accepts it: compressed, with an optional trailing dotted quad). */
function ipv6Bytes(address: string): number[] {
  let text = address.replace(/%.*$/, "");
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (quad) {
    const [a, b, c, d] = quad.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, quad.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes("::") ? text.split("::") : [text, null];
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const groups = tail === null ? left : [...left, ...Array<string>(8 - left.length - right.length).fill("0"), ...right];
  return groups.flatMap((g) => {
    const n = parseInt(g || "0", 16);
    return [n >> 8, n & 0xff];
  });
}

/** The IPv4 address an IPv6 one stands for: IPv4-mapped (::ffff:a.b.c.d) or the NAT64 well-known prefix (64:ff9b::/96). */
function embeddedIpv4(address: string): string | null {
  const b = ipv6Bytes(address);
  const zeros = (from: number, to: number) => b.slice(from, to).every((x) => x === 0);
  const mapped = zeros(0, 10) && b[10] === 0xff && b[11] === 0xff;
  const nat64 = b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && zeros(4, 12);
  return mapped || nat64 ? b.slice(12).join(".") : null;
}

export interface AllowedNetworks {
  /** Whether the allow-list holds `address`. */
  has(address: string): boolean;
}

/**
 * The allow-list from WEBHOOK_ALLOWED_NETWORKS: addresses and CIDR networks, separated by commas or spaces
 * (e.g. "10.20.0.0/16, 127.0.0.1, fd00:1::/64"). Throws a readable message on the first entry that is neither.
 */
export function parseAllowedNetworks(text: string | undefined): AllowedNetworks {
  const list = new net.BlockList();
  for (const entry of (text ?? "").split(/[\s,]+/).filter(Boolean)) {
    const [address = "", prefixText] = entry.split("/");
    const family = net.isIP(address);
    const max = family === 4 ? 32 : 128;
    const prefix = prefixText === undefined ? max : Number(prefixText);
    if (family === 0 || !Number.isInteger(prefix) || prefix < 0 || prefix > max || (prefixText !== undefined && !/^\d+$/.test(prefixText))) {
      throw new Error(`"${entry}" is not an IP address or a network like 10.0.0.0/8 or fd00::/8`);
    }
    list.addSubnet(address, prefix, family === 4 ? "ipv4" : "ipv6");
  }
  return {
    has(address) {
      const family = net.isIP(address);
      if (family === 0) return false;
      if (list.check(address, family === 4 ? "ipv4" : "ipv6")) return true;
      const v4 = family === 6 ? embeddedIpv4(address) : null;
      return v4 !== null && list.check(v4, "ipv4");
    },
  };
}

/**
 * Why `address` may not receive webhooks (e.g. "loopback"), or null when it may: a public unicast address, or one
 * the allow-list holds.
 */
export function forbiddenAddressKind(address: string, allowed: AllowedNetworks): string | null {
  const family = net.isIP(address);
  if (family === 0) return "invalid";
  if (allowed.has(address)) return null;
  if (family === 4) return ipv4Kind(address);
  const v4 = embeddedIpv4(address);
  if (v4 !== null) return ipv4Kind(v4);
  if (!GLOBAL_UNICAST.check(address, "ipv6")) return ipv6OutsideKind(address) ?? "reserved";
  return ipv6InsideKind(address);
}
