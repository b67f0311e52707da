/** The local address space guard: a table of prefixes, allowed ranges and host addresses. */

import { deepEqual, equal } from "node:assert/strict";
import type { Address } from "../../src/netlink/address.ts";
import { AF, IFA_F, RT_SCOPE } from "../../src/netlink/constants.ts";
import { ipv4Number, parseCidr } from "../../src/netlink/ip.ts";
import {
  LOCAL_SPACE,
  LocalSpace,
  prefixBytes,
  prefixContains,
} from "../../src/planner/local_space.ts";
import { addr, IF } from "./fixtures.ts";

interface Case {
  name: string;
  prefix: string;
  oif?: number;
  allow?: string[];
  addresses?: Address[];
  local: boolean;
}

/** The laptop holds a SLAAC address in 2001:db8:1::/64 on wlan0. */
const slaac = [addr("2001:db8:1::50/64", IF.wlan0)];

const CASES: Case[] = [
  // RFC 1918 and IPv4 link-local, and prefixes inside them.
  { name: "10/8 itself", prefix: "10.0.0.0/8", local: true },
  { name: "a /24 in 10/8", prefix: "10.1.2.0/24", local: true },
  { name: "a host in 10/8", prefix: "10.1.2.3/32", local: true },
  { name: "172.16/12", prefix: "172.16.0.0/12", local: true },
  { name: "docker's 172.17/16", prefix: "172.17.0.0/16", local: true },
  { name: "172.32/16 is past 172.16/12", prefix: "172.32.0.0/16", local: false },
  { name: "the usual LAN", prefix: "192.168.188.0/24", local: true },
  { name: "192.168/16 itself", prefix: "192.168.0.0/16", local: true },
  { name: "169.254/16", prefix: "169.254.0.0/16", local: true },
  // Never broader than the range that contains it.
  { name: "192.168/15 is broader than 192.168/16", prefix: "192.168.0.0/15", local: false },
  { name: "10/7", prefix: "10.0.0.0/7", local: false },
  { name: "172.16/11", prefix: "172.0.0.0/11", local: false },
  // TunnelVision: the split default, a /1 lease, a public /24, CGNAT, multicast.
  { name: "0.0.0.0/1", prefix: "0.0.0.0/1", local: false },
  { name: "128.0.0.0/1", prefix: "128.0.0.0/1", local: false },
  { name: "a public /24", prefix: "198.51.100.0/24", local: false },
  { name: "a public host", prefix: "8.8.8.8/32", local: false },
  { name: "CGNAT 100.64/10 (Firezone, Tailscale)", prefix: "100.64.0.0/10", local: false },
  { name: "a CGNAT /24", prefix: "100.100.1.0/24", local: false },
  { name: "multicast 224/4", prefix: "224.0.0.0/4", local: false },
  { name: "loopback 127/8", prefix: "127.0.0.0/8", local: false },
  // IPv6 ULA and link-local.
  { name: "fc00::/7", prefix: "fc00::/7", local: true },
  { name: "a ULA /64", prefix: "fd12:3456:789a:1::/64", local: true },
  { name: "a ULA /48", prefix: "fd00:1::/48", local: true },
  { name: "fe80::/64", prefix: "fe80::/64", local: true },
  { name: "fe80::/10", prefix: "fe80::/10", local: true },
  { name: "fc00::/6 is broader", prefix: "fc00::/6", local: false },
  { name: "fe80::/9 is broader", prefix: "fe80::/9", local: false },
  // IPv6 global space: only a /64 or longer holding the host's global address on that link.
  {
    name: "2000::/3 (hostile RA)",
    prefix: "2000::/3",
    oif: IF.wlan0,
    addresses: slaac,
    local: false,
  },
  { name: "::/1", prefix: "::/1", oif: IF.wlan0, addresses: slaac, local: false },
  {
    name: "the SLAAC /64 on its link",
    prefix: "2001:db8:1::/64",
    oif: IF.wlan0,
    addresses: slaac,
    local: true,
  },
  {
    name: "the SLAAC /64 on another link",
    prefix: "2001:db8:1::/64",
    oif: IF.eth0,
    addresses: slaac,
    local: false,
  },
  {
    name: "a /48 around the SLAAC address",
    prefix: "2001:db8::/48",
    oif: IF.wlan0,
    addresses: slaac,
    local: false,
  },
  {
    name: "a /64 without an address of the host",
    prefix: "2606:4700::/64",
    oif: IF.wlan0,
    addresses: slaac,
    local: false,
  },
  {
    name: "a /128 host route of the host's address",
    prefix: "2001:db8:1::50/128",
    oif: IF.wlan0,
    addresses: slaac,
    local: true,
  },
  {
    name: "a link-scope address does not count",
    prefix: "2001:db8:2::/64",
    oif: IF.wlan0,
    addresses: [addr("2001:db8:2::1/64", IF.wlan0, RT_SCOPE.LINK)],
    local: false,
  },
  {
    name: "an address whose DAD failed does not count",
    prefix: "2001:db8:2::/64",
    oif: IF.wlan0,
    addresses: [{ ...addr("2001:db8:2::1/64", IF.wlan0), flags: IFA_F.DADFAILED }],
    local: false,
  },
  {
    name: "IPv4: holding an address in a public /1 does not make it local",
    prefix: "0.0.0.0/1",
    oif: IF.wlan0,
    addresses: [addr("8.8.8.9/1", IF.wlan0)],
    local: false,
  },
  // --allow-prefix admits more, never broader than itself.
  { name: "allowed public /16", prefix: "198.51.0.0/16", allow: ["198.51.0.0/16"], local: true },
  {
    name: "a /24 in an allowed /16",
    prefix: "198.51.100.0/24",
    allow: ["198.51.0.0/16"],
    local: true,
  },
  { name: "broader than allowed", prefix: "198.50.0.0/15", allow: ["198.51.0.0/16"], local: false },
  { name: "allowed CGNAT", prefix: "100.64.0.0/10", allow: ["100.64.0.0/10"], local: true },
  { name: "allowed IPv6 /48", prefix: "2001:db8::/48", allow: ["2001:db8::/32"], local: true },
  {
    name: "allow of the other family",
    prefix: "2001:db8::/48",
    allow: ["0.0.0.0/0"],
    local: false,
  },
];

for (const c of CASES) {
  Deno.test(`LocalSpace: ${c.name} (${c.prefix}) → ${c.local ? "local" : "outside"}`, () => {
    const cidr = parseCidr(c.prefix);
    const space = new LocalSpace({
      allow: (c.allow ?? []).map(parseCidr),
      addresses: c.addresses ?? [],
    });
    const route = {
      family: cidr.family,
      dst: cidr.address,
      dstLen: cidr.prefixLen,
      oif: c.oif ?? IF.eth0,
    };
    equal(space.admits(route), c.local);
  });
}

Deno.test("LocalSpace: other families are never local", () => {
  const space = new LocalSpace({ allow: [], addresses: [] });
  equal(space.admits({ family: AF.UNSPEC, dst: "10.0.0.0", dstLen: 8, oif: 2 }), false);
});

Deno.test("prefixContains: bit boundaries inside a byte", () => {
  const p = (text: string) => prefixBytes(parseCidr(text));
  equal(prefixContains(p("172.16.0.0/12"), p("172.31.255.0/24")), true);
  equal(prefixContains(p("172.16.0.0/12"), p("172.32.0.0/24")), false);
  equal(prefixContains(p("fe80::/10"), p("febf::/16")), true);
  equal(prefixContains(p("fe80::/10"), p("fec0::/16")), false);
  equal(prefixContains(p("0.0.0.0/0"), p("1.2.3.4/32")), true);
  equal(prefixContains(p("0.0.0.0/0"), p("::/0")), false);
});

Deno.test("admitsIpv4 agrees with admits on every IPv4 prefix length around the ranges", () => {
  const space = new LocalSpace({
    allow: ["198.51.100.0/24", "0.0.0.0/1"].map(parseCidr),
    addresses: [],
  });
  const plain = new LocalSpace({ allow: [], addresses: [] });
  const addresses = [
    "10.1.2.3",
    "11.0.0.0",
    "172.15.255.255",
    "172.16.0.0",
    "172.31.255.255",
    "172.32.0.0",
    "192.168.255.255",
    "192.169.0.0",
    "169.254.1.1",
    "198.51.100.7",
    "198.51.101.0",
    "127.0.0.1",
    "200.0.0.0",
    "0.0.0.0",
    "255.255.255.255",
  ];
  let admitted = 0;
  for (const address of addresses) {
    for (let len = 0; len <= 32; len++) {
      for (const s of [space, plain]) {
        const route = { family: AF.INET, dst: address, dstLen: len, oif: IF.eth0 };
        const expected = s.admits(route);
        equal(s.admitsIpv4(ipv4Number(address), len), expected, `${address}/${len}`);
        if (expected) admitted++;
      }
    }
  }
  equal(admitted > 100, true);
});

Deno.test("the default local space is written as parseCidr reads its ranges", () => {
  // Family and canonical address as parsed; which ranges they are, the cases above hold.
  deepEqual(LOCAL_SPACE, LOCAL_SPACE.map((c) => parseCidr(`${c.address}/${c.prefixLen}`)));
  equal(LOCAL_SPACE.length, 6);
});

Deno.test("each allow list admits its own ranges, however many spaces were built before", () => {
  const admits = (allow: string[], dst: string) =>
    new LocalSpace({ allow: allow.map(parseCidr), addresses: [] }).admitsIpv4(ipv4Number(dst), 32);
  for (let round = 0; round < 2; round++) {
    equal(admits(["198.51.100.0/24"], "198.51.100.5"), true, `round ${round}`);
    equal(admits([], "198.51.100.5"), false, `round ${round}`);
    equal(admits(["203.0.113.0/24"], "198.51.100.5"), false, `round ${round}`);
    equal(admits(["203.0.113.0/24"], "203.0.113.9"), true, `round ${round}`);
    equal(admits([], "10.1.2.3"), true, `round ${round}`);
  }
  // One list object planned with again and again (the daemon's): the same answers.
  const allow = [parseCidr("198.51.100.0/24")];
  for (let i = 0; i < 3; i++) {
    equal(
      new LocalSpace({ allow, addresses: [] }).admitsIpv4(ipv4Number("198.51.100.1"), 32),
      true,
    );
  }
});
