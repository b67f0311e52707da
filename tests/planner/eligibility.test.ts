import { deepEqual, equal } from "node:assert/strict";
import { AF, RT_SCOPE, RTA, RTM_F, RTN, RTNH_F, RTPROT } from "../../src/netlink/constants.ts";
import { parseCidr } from "../../src/netlink/ip.ts";
import type { Link } from "../../src/netlink/link.ts";
import type { NexthopObject } from "../../src/netlink/nexthop.ts";
import type { Route } from "../../src/netlink/route.ts";
import {
  EXCLUSION_REASONS,
  type ExclusionReason,
  sourceExclusion,
  vpnInterfaces,
} from "../../src/planner/eligibility.ts";
import { type PlanOptions, planOptions } from "../../src/planner/options.ts";
import { IF, LINKS, OURS, v4, v6, vpnDefault, WG_QUICK } from "./fixtures.ts";

const links: ReadonlyMap<number, Link> = new Map(LINKS.map((link) => [link.index, link]));
const defaults = planOptions({ protocol: OURS });

/** A case: its name, a route of main, the reason expected (`undefined`: eligible), the options. */
type Case = [
  name: string,
  route: Route,
  expected: ExclusionReason | undefined,
  options?: Partial<PlanOptions>,
];

const hop = { oif: IF.eth0, flags: 0, hops: 0 };
const attr = (type: number) => ({ type, data: new Uint8Array(4) });

/** Cases of --exclude: name, the prefix of a route on eth0, the excluded prefixes, the reason. */
function excluding(rows: [string, string, string[], ExclusionReason | undefined][]): Case[] {
  return rows.map(([name, cidr, exclude, expected]) => [
    name,
    (cidr.includes(":") ? v6 : v4)(cidr, IF.eth0),
    expected,
    { exclude: exclude.map(parseCidr) },
  ]);
}

const cases: Case[] = [
  // Eligible.
  ["v4 scope link on eth0", v4("192.168.1.0/24", IF.eth0), undefined],
  [
    "v4 with prefsrc, metric, tos, linkdown flag",
    v4("10.0.0.0/8", IF.eth1, {
      prefsrc: "10.0.0.5",
      priority: 600,
      tos: 0x10,
      flags: RTNH_F.LINKDOWN,
      protocol: RTPROT.DHCP,
    }),
    undefined,
  ],
  ["v4 host route /32", v4("10.9.9.9/32", IF.eth0), undefined],
  ["v6 global on-link", v6("2001:db8::/64", IF.eth0), undefined],
  ["v6 fe80::/64", v6("fe80::/64", IF.wlan0), undefined],
  [
    "v6 from RA with expiry",
    v6("2001:db8:1::/64", IF.eth0, { protocol: RTPROT.RA, expires: 1800, pref: 0 }),
    undefined,
  ],
  // Family.
  [
    "v4 when only v6 is mirrored",
    v4("192.168.1.0/24", IF.eth0),
    "family",
    { families: [AF.INET6] },
  ],
  ["v6 when only v4 is mirrored", v6("2001:db8::/64", IF.eth0), "family", { families: [AF.INET] }],
  [
    "unknown family even if listed",
    v4("192.168.1.0/24", IF.eth0, { family: 7 }),
    "family",
    { families: [7] },
  ],
  // Cloned.
  ["v4 cloned", v4("192.168.1.7/32", IF.eth0, { flags: RTM_F.CLONED }), "cloned"],
  ["v6 cloned", v6("2001:db8::7/128", IF.eth0, { flags: RTM_F.CLONED }), "cloned"],
  // Own protocol.
  ["v4 carrying our protocol", v4("192.168.1.0/24", IF.eth0, { protocol: OURS }), "own-protocol"],
  ["v6 carrying our protocol", v6("2001:db8::/64", IF.eth0, { protocol: OURS }), "own-protocol"],
  // Type.
  [
    "v4 local",
    v4("192.168.1.5/32", IF.eth0, { type: RTN.LOCAL, scope: RT_SCOPE.HOST }),
    "not-unicast",
  ],
  ["v4 broadcast", v4("192.168.1.255/32", IF.eth0, { type: RTN.BROADCAST }), "not-unicast"],
  [
    "v4 blackhole",
    v4("10.0.0.0/8", undefined, { type: RTN.BLACKHOLE, scope: RT_SCOPE.UNIVERSE }),
    "not-unicast",
  ],
  ["v6 unreachable", v6("2001:db8::/32", IF.lo, { type: RTN.UNREACHABLE }), "not-unicast"],
  ["v6 multicast", v6("ff00::/8", IF.eth0, { type: RTN.MULTICAST }), "not-unicast"],
  // Default.
  ["v4 default on-link", v4("0.0.0.0/0", IF.eth0), "default"],
  ["v6 default on-link", v6("::/0", IF.eth0), "default"],
  [
    "v4 default via gateway",
    v4("0.0.0.0/0", IF.eth0, { gateway: "192.168.1.1", scope: RT_SCOPE.UNIVERSE }),
    "default",
  ],
  // Source prefix.
  [
    "v6 source-specific",
    v6("2001:db8::/64", IF.eth0, { src: "2001:db8:5::", srcLen: 48 }),
    "source-prefix",
  ],
  // Multipath: judged hop by hop.
  [
    "v4 on-link multipath",
    v4("10.0.0.0/8", undefined, {
      scope: RT_SCOPE.UNIVERSE,
      multipath: [hop, { ...hop, oif: IF.eth1, hops: 4 }],
    }),
    undefined,
  ],
  [
    "v4 on-link multipath of scope host",
    v4("10.0.0.0/8", undefined, { scope: RT_SCOPE.HOST, multipath: [hop] }),
    "scope",
  ],
  [
    "v4 multipath with a hop on lo",
    v4("10.0.0.0/8", undefined, { multipath: [hop, { ...hop, oif: IF.lo }] }),
    "loopback",
  ],
  [
    "v4 multipath with a hop on an excluded device",
    v4("10.0.0.0/8", undefined, { multipath: [hop, { ...hop, oif: IF.docker0 }] }),
    "excluded-device",
    { excludeDevices: ["docker0"] },
  ],
  [
    "v4 multipath with a hop without device",
    v4("10.0.0.0/8", undefined, { multipath: [hop, { ...hop, oif: 0 }] }),
    "no-interface",
  ],
  [
    "v4 multipath with an encapsulating hop",
    v4("10.0.0.0/8", undefined, { multipath: [hop, { ...hop, other: [attr(RTA.ENCAP)] }] }),
    "encap",
  ],
  [
    "v6 multipath via gateways",
    v6("2001:db8::/64", undefined, {
      multipath: [{ ...hop, gateway: "fe80::1" }, { ...hop, oif: IF.eth1, gateway: "fe80::2" }],
    }),
    "gateway",
  ],
  [
    "v6 multipath via gateways, with --include-gateway-routes",
    v6("2001:db8::/64", undefined, {
      multipath: [{ ...hop, gateway: "fe80::1" }, { ...hop, oif: IF.eth1, gateway: "fe80::2" }],
    }),
    undefined,
    { includeGatewayRoutes: true },
  ],
  // Nexthop object: judged by the object, a group by its members.
  [
    "v4 nexthop object that is not known",
    v4("10.0.0.0/8", IF.eth0, { nhId: 98 }),
    "nexthop-object",
  ],
  [
    "v6 nexthop object that is not known",
    v6("2001:db8::/64", IF.eth0, { nhId: 98 }),
    "nexthop-object",
  ],
  [
    "v4 nexthop object on a device",
    v4("10.0.0.0/8", IF.eth0, { nhId: 10, scope: RT_SCOPE.UNIVERSE }),
    undefined,
  ],
  [
    "v4 nexthop group of device members",
    v4("10.0.0.0/8", undefined, { nhId: 12, scope: RT_SCOPE.UNIVERSE }),
    undefined,
  ],
  ["v6 nexthop object on a device", v6("2001:db8::/64", IF.eth0, { nhId: 20 }), undefined],
  [
    "v4 nexthop object with a gateway",
    v4("10.0.0.0/8", IF.eth0, { nhId: 13, scope: RT_SCOPE.UNIVERSE }),
    "gateway",
  ],
  [
    "v4 nexthop object that is a blackhole",
    v4("10.0.0.0/8", undefined, { nhId: 14, scope: RT_SCOPE.UNIVERSE }),
    "nexthop-object",
  ],
  [
    "v4 nexthop group with a member that is not known",
    v4("10.0.0.0/8", undefined, { nhId: 15, scope: RT_SCOPE.UNIVERSE }),
    "nexthop-object",
  ],
  [
    "v4 nexthop group with a member on lo",
    v4("10.0.0.0/8", undefined, { nhId: 16, scope: RT_SCOPE.UNIVERSE }),
    "loopback",
  ],
  // Gateway.
  [
    "v4 via gateway, scope universe",
    v4("10.0.0.0/8", IF.eth0, { gateway: "192.168.1.1", scope: RT_SCOPE.UNIVERSE }),
    "gateway",
  ],
  [
    "v4 via gateway even with scope link",
    v4("10.0.0.0/8", IF.eth0, { gateway: "192.168.1.1" }),
    "gateway",
  ],
  [
    "v4 via an IPv6 next hop (RTA_VIA)",
    v4("10.0.0.0/8", IF.eth0, { other: [attr(RTA.VIA)], scope: RT_SCOPE.UNIVERSE }),
    "gateway",
  ],
  [
    "v6 via gateway",
    v6("2001:db8::/32", IF.eth0, { gateway: "fe80::1", protocol: RTPROT.RA }),
    "gateway",
  ],
  // Encapsulation.
  [
    "v4 with lwtunnel encap",
    v4("10.0.0.0/8", IF.eth0, { other: [attr(RTA.ENCAP_TYPE), attr(RTA.ENCAP)] }),
    "encap",
  ],
  ["v6 with lwtunnel encap", v6("2001:db8::/64", IF.eth0, { other: [attr(RTA.ENCAP)] }), "encap"],
  // Scope (IPv4 only).
  [
    "v4 scope universe without gateway",
    v4("10.0.0.0/8", IF.eth0, { scope: RT_SCOPE.UNIVERSE }),
    "scope",
  ],
  ["v4 scope host", v4("10.0.0.0/8", IF.eth0, { scope: RT_SCOPE.HOST }), "scope"],
  ["v6 scope is not checked", v6("2001:db8::/64", IF.eth0, { scope: RT_SCOPE.LINK }), undefined],
  // Interface.
  ["v4 without oif", v4("10.0.0.0/8", undefined), "no-interface"],
  ["v4 with oif 0", v4("10.0.0.0/8", 0), "no-interface"],
  ["v6 without oif", v6("2001:db8::/64", undefined), "no-interface"],
  ["v4 on unknown link", v4("10.0.0.0/8", 99), "unknown-interface"],
  ["v6 on unknown link", v6("2001:db8::/64", 99), "unknown-interface"],
  ["v4 on lo", v4("127.0.0.0/8", IF.lo), "loopback"],
  ["v6 on lo", v6("2001:db8::/64", IF.lo), "loopback"],
  ["v4 on IFF_LOOPBACK link", v4("10.0.0.0/8", IF.loop1), "loopback"],
  ["v6 on IFF_LOOPBACK link", v6("fe80::/64", IF.loop1), "loopback"],
  [
    "v4 on excluded device",
    v4("172.17.0.0/16", IF.docker0),
    "excluded-device",
    { excludeDevices: ["docker0"] },
  ],
  [
    "v6 on excluded device",
    v6("fe80::/64", IF.docker0),
    "excluded-device",
    { excludeDevices: ["eth1", "docker0"] },
  ],
  [
    "v4 on another device than the excluded one",
    v4("172.17.0.0/16", IF.eth0),
    undefined,
    { excludeDevices: ["docker0"] },
  ],
  // Excluded prefix: either contains the other.
  ...excluding([
    ["v4 inside an excluded prefix", "10.1.2.0/24", ["10.0.0.0/8"], "excluded-prefix"],
    ["v4 containing an excluded prefix", "10.0.0.0/8", ["10.1.2.3/32"], "excluded-prefix"],
    ["v4 equal to an excluded prefix", "192.168.1.0/24", ["192.168.1.0/24"], "excluded-prefix"],
    [
      "v4 next to an excluded prefix",
      "192.168.1.0/24",
      ["192.168.0.0/24", "192.168.2.0/23"],
      undefined,
    ],
    ["v4 with a v6 exclusion", "10.0.0.0/8", ["::/0"], undefined],
    ["v6 inside an excluded prefix", "fe80::/64", ["fe80::/10"], "excluded-prefix"],
    ["v6 containing an excluded prefix", "2001:db8::/32", ["2001:db8:0:1::/64"], "excluded-prefix"],
    ["v6 next to an excluded prefix", "2001:db8:1::/48", ["2001:db8:2::/48"], undefined],
  ]),
  // Precedence: the first reason in EXCLUSION_REASONS order wins.
  [
    "cloned local default on lo reports cloned",
    v4("0.0.0.0/0", IF.lo, { flags: RTM_F.CLONED, type: RTN.LOCAL }),
    "cloned",
  ],
  ["gateway default reports default", v6("::/0", IF.eth0, { gateway: "fe80::1" }), "default"],
  ["gateway on lo reports gateway", v4("10.0.0.0/8", IF.lo, { gateway: "127.0.0.2" }), "gateway"],
  [
    "excluded prefix on excluded device reports excluded-device",
    v4("10.0.0.0/8", IF.docker0),
    "excluded-device",
    { excludeDevices: ["docker0"], exclude: [parseCidr("10.0.0.0/8")] },
  ],
];

/** The namespace's nexthop objects in these cases. */
const NEXTHOPS: ReadonlyMap<number, NexthopObject> = new Map(
  [
    { id: 10, family: AF.INET, oif: IF.eth0 },
    { id: 11, family: AF.INET, oif: IF.eth1 },
    { id: 12, family: AF.UNSPEC, group: [{ id: 10, weight: 1 }, { id: 11, weight: 3 }] },
    { id: 13, family: AF.INET, oif: IF.eth0, gateway: "192.168.1.1" },
    { id: 14, family: AF.INET, blackhole: true },
    { id: 15, family: AF.UNSPEC, group: [{ id: 10, weight: 1 }, { id: 99, weight: 1 }] },
    { id: 16, family: AF.UNSPEC, group: [{ id: 10, weight: 1 }, { id: 17, weight: 1 }] },
    { id: 17, family: AF.INET, oif: IF.lo },
    { id: 20, family: AF.INET6, oif: IF.eth0 },
  ].map((nh) => [nh.id, { scope: 0, protocol: 0, flags: 0, ...nh }]),
);

for (const [name, route, expected, options] of cases) {
  Deno.test(`sourceExclusion: ${name} → ${expected ?? "eligible"}`, () => {
    const opts = planOptions({ protocol: OURS, ...options });
    equal(sourceExclusion(route, links, opts, NEXTHOPS), expected);
  });
}

Deno.test("sourceExclusion without the objects judges a nexthop-object route statically", () => {
  const route = v4("10.0.0.0/8", IF.eth0, { nhId: 99, scope: RT_SCOPE.UNIVERSE });
  equal(sourceExclusion(route, links, defaults), undefined);
  equal(sourceExclusion(route, links, defaults, NEXTHOPS), "nexthop-object");
});

Deno.test("every exclusion reason is covered by a case or decided per table", () => {
  const covered = new Set<string>(cases.map(([, , expected]) => expected ?? ""));
  for (const reason of Object.keys(EXCLUSION_REASONS)) {
    // Decided per table: see plan.test.ts and gateway_routes.test.ts; the security steps after
    // the shape: see local_space.test.ts and precedence.test.ts.
    const planned = [
      "vpn-interface",
      "duplicate",
      "gateway-off-lan",
      "outside-local-space",
      "vpn-route-wins",
    ];
    if (planned.includes(reason)) continue;
    equal(covered.has(reason), true, `no case for ${reason}`);
  }
});

Deno.test("sourceExclusion honours a non-default protocol", () => {
  const route = v4("192.168.1.0/24", IF.eth0, { protocol: 200 });
  equal(sourceExclusion(route, links, planOptions({ protocol: 200 })), "own-protocol");
  equal(sourceExclusion(route, links, defaults), undefined);
});

Deno.test("vpnInterfaces: oifs and multipath hop oifs of foreign routes only", () => {
  const table = [
    vpnDefault(AF.INET, WG_QUICK, IF.wg0),
    vpnDefault(AF.INET6, WG_QUICK, IF.tun0),
    v4("10.0.0.0/8", undefined, {
      table: WG_QUICK,
      protocol: RTPROT.STATIC,
      multipath: [{ oif: IF.eth1, flags: 0, hops: 0 }, { oif: IF.wlan0, flags: 0, hops: 1 }],
    }),
    v4("192.168.1.0/24", IF.eth0, { table: WG_QUICK, protocol: OURS }),
    v4("192.168.9.9/32", IF.docker0, { table: WG_QUICK, flags: RTM_F.CLONED }),
    v6("2001:db8::/64", undefined, { table: WG_QUICK, type: RTN.UNREACHABLE }),
  ];
  deepEqual(
    [...vpnInterfaces(table, OURS)].sort((a, b) => a - b),
    [IF.eth1, IF.wlan0, IF.tun0, IF.wg0].sort((a, b) => a - b),
  );
  deepEqual(vpnInterfaces([], OURS), new Set());
});
