import { describe, expect, it } from "vitest";
import { forbiddenAddressKind, parseAllowedNetworks } from "./webhook-address-policy";

const none = parseAllowedNetworks("");

describe("which addresses a webhook may go to", () => {
  it.each([
    ["127.0.0.1", "loopback"],
    ["127.255.0.9", "loopback"],
    ["10.0.0.1", "private"],
    ["172.31.255.255", "private"],
    ["192.168.1.1", "private"],
    ["169.254.169.254", "link-local"],
    ["100.64.0.1", "shared (carrier-grade NAT)"],
    ["100.127.255.254", "shared (carrier-grade NAT)"],
    ["0.0.0.0", 'unspecified ("this network")'],
    ["224.0.0.251", "multicast"],
    ["239.255.255.250", "multicast"],
    ["255.255.255.255", "broadcast"],
    ["240.0.0.1", "reserved"],
    ["192.0.0.170", "reserved"],
    ["192.0.2.1", "documentation"],
    ["198.18.0.1", "benchmarking"],
    ["::1", "loopback"],
    ["::", "unspecified"],
    ["::ffff:127.0.0.1", "loopback"],
    ["::ffff:7f00:1", "loopback"],
    ["::ffff:a9fe:a9fe", "link-local"],
    ["64:ff9b::a00:1", "private"], // NAT64 of 10.0.0.1
    ["fc00::1", "unique-local (private)"],
    ["fd12:3456:789a::1", "unique-local (private)"],
    ["fe80::1", "link-local"],
    ["fec0::1", "site-local (private)"],
    ["ff02::1", "multicast"],
    ["2001:db8::1", "documentation"],
    ["2001:0:4136:e378::1", "reserved"], // Teredo
    ["2002:7f00:1::1", "reserved"], // 6to4 of 127.0.0.1
    ["::127.0.0.1", "reserved"], // IPv4-compatible, deprecated
    ["100::1", "reserved"], // discard prefix, outside global unicast
  ])("%s is %s", (address, kind) => {
    expect(forbiddenAddressKind(address, none)).toBe(kind);
  });

  it.each(["93.184.216.34", "8.8.8.8", "100.128.0.1", "172.32.0.1", "2606:4700:4700::1111", "2a00:1450:4001::1", "::ffff:8.8.8.8", "64:ff9b::808:808"])(
    "%s is public",
    (address) => {
      expect(forbiddenAddressKind(address, none)).toBeNull();
    },
  );

  it("an allow-listed network is allowed, in either spelling of its IPv4 addresses, and nothing next to it", () => {
    const allowed = parseAllowedNetworks("127.0.0.1, 10.20.0.0/16 fd00:1::/64");
    expect(forbiddenAddressKind("127.0.0.1", allowed)).toBeNull();
    expect(forbiddenAddressKind("::ffff:127.0.0.1", allowed)).toBeNull();
    expect(forbiddenAddressKind("127.0.0.2", allowed)).toBe("loopback");
    expect(forbiddenAddressKind("10.20.255.1", allowed)).toBeNull();
    expect(forbiddenAddressKind("10.21.0.1", allowed)).toBe("private");
    expect(forbiddenAddressKind("fd00:1::5", allowed)).toBeNull();
    expect(forbiddenAddressKind("fd00:2::5", allowed)).toBe("unique-local (private)");
  });

  it("refuses an allow-list entry that is not an address or a network", () => {
    expect(() => parseAllowedNetworks("10.0.0.0/33")).toThrow('"10.0.0.0/33" is not an IP address or a network');
    expect(() => parseAllowedNetworks("hooks.internal")).toThrow(/hooks\.internal/);
    expect(() => parseAllowedNetworks("10.0.0.0/8x")).toThrow(/8x/);
  });
});
