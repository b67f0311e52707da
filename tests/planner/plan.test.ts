import { deepEqual, equal } from "node:assert/strict";
import { AF, RT_SCOPE, RTM_F, RTN, RTNH_F, RTPROT } from "../../src/netlink/constants.ts";
import { parseCidr } from "../../src/netlink/ip.ts";
import type { Link } from "../../src/netlink/link.ts";
import type { Route } from "../../src/netlink/route.ts";
import { isEmptyPlan, type Plan, type PlanInput, planSync } from "../../src/planner/plan.ts";
import {
  copyOf,
  FIREZONE,
  hop,
  IF,
  LINKS,
  planInputOf,
  static4,
  v4,
  v6,
  vpnDefault,
  vpnTable,
  WG_QUICK,
} from "./fixtures.ts";
import { checkPlan } from "./invariants.ts";

const input = planInputOf;

/** Plans, checks every invariant (incl. idempotence), returns the plan. */
function plan(planInput: PlanInput): Plan {
  const result = planSync(planInput);
  checkPlan(planInput, result);
  return result;
}

const nothing: Plan = {
  adds: [],
  replaces: [],
  deletes: [],
  conflicts: [],
  excluded: [],
  unchanged: [],
};
const firezone = (...routes: Route[]) => vpnTable(FIREZONE, IF.tun0, ...routes);
const ours = (route: Route, table = FIREZONE, extra: Partial<Route> = {}): Route => ({
  ...copyOf(route, table),
  ...extra,
});

// A laptop on wifi with docker, running Firezone (tun0): `ip route` / `ip -6 route` of main.
const lan4 = v4("192.168.1.0/24", IF.wlan0, {
  protocol: RTPROT.KERNEL,
  prefsrc: "192.168.1.50",
  priority: 600,
});
const docker4 = v4("172.17.0.0/16", IF.docker0, {
  prefsrc: "172.17.0.1",
  flags: RTNH_F.LINKDOWN,
});
const default4 = v4("0.0.0.0/0", IF.wlan0, {
  protocol: RTPROT.DHCP,
  gateway: "192.168.1.1",
  scope: RT_SCOPE.UNIVERSE,
  prefsrc: "192.168.1.50",
  priority: 600,
});
const viaGateway4 = static4("10.10.0.0/16", IF.wlan0, { gateway: "192.168.1.254" });
const ra6 = v6("2001:db8:1::/64", IF.wlan0, {
  protocol: RTPROT.RA,
  priority: 600,
  expires: 1790,
  pref: 0,
});
const linkLocalWlan = v6("fe80::/64", IF.wlan0, { priority: 1024 });
const hop0 = { oif: IF.wlan0, flags: 0, hops: 0 };
const hop1 = { oif: IF.eth0, flags: 0, hops: 1 };
const linkLocalDocker = v6("fe80::/64", IF.docker0, { priority: 256 });
const linkLocalTun = v6("fe80::/64", IF.tun0, { priority: 256 });
const tunAddress6 = v6("fd00:2021:1111::1/128", IF.tun0);
const default6 = v6("::/0", IF.wlan0, {
  protocol: RTPROT.RA,
  gateway: "fe80::1",
  priority: 600,
});
const laptop = [
  default4,
  viaGateway4,
  docker4,
  lan4,
  default6,
  ra6,
  tunAddress6,
  linkLocalWlan,
  linkLocalDocker,
  linkLocalTun,
];

Deno.test("planSync: empty input gives an empty plan", () => {
  deepEqual(plan(input([], [])), nothing);
  deepEqual(plan(input([], [[FIREZONE, []]])), nothing);
});

Deno.test("planSync: a Firezone laptop gets its on-link routes of both families copied", () => {
  deepEqual(plan(input(laptop, [firezone()])), {
    adds: [
      ours(docker4),
      ours(lan4),
      ours(ra6),
      ours(linkLocalDocker),
      ours(linkLocalWlan),
    ],
    deletes: [],
    conflicts: [],
    excluded: [
      { route: default4, reason: "default" },
      { route: viaGateway4, reason: "gateway" },
      { route: default6, reason: "default" },
      { route: tunAddress6, reason: "vpn-interface", table: FIREZONE },
      { route: linkLocalTun, reason: "vpn-interface", table: FIREZONE },
    ],
    unchanged: [],
    replaces: [],
  });
});

Deno.test("planSync: a table that already holds the right copies is unchanged", () => {
  const copies = [ours(lan4), ours(docker4), ours(ra6), ours(linkLocalWlan), ours(linkLocalDocker)];
  // As read back: the kernel adds flags (linkdown), pref and cache info.
  const readBack = copies.map((c) => ({ ...c, flags: c.oif === IF.docker0 ? RTNH_F.LINKDOWN : 0 }));
  const result = plan(input(laptop, [firezone(...readBack)]));
  deepEqual([result.adds, result.deletes, result.conflicts], [[], [], []]);
  equal(result.unchanged.length, 5);
  equal(isEmptyPlan(result), true);
});

Deno.test("planSync: copies whose source is gone are deleted (both families)", () => {
  const gone4 = ours(v4("10.99.0.0/16", IF.eth0));
  const gone6 = ours(v6("2001:db8:99::/64", IF.eth0));
  deepEqual(plan(input([lan4, ra6], [firezone(ours(lan4), gone4, gone6, ours(ra6))])), {
    ...nothing,
    deletes: [gone4, gone6],
    unchanged: [ours(lan4), ours(ra6)],
  });
});

Deno.test("planSync: copies of sources that became ineligible are deleted", () => {
  const lan4Excluded = input([lan4, ra6], [firezone(ours(lan4), ours(ra6))], {
    exclude: [parseCidr("192.168.0.0/16")],
    excludeDevices: [],
    families: [AF.INET],
  });
  deepEqual(plan(lan4Excluded), {
    ...nothing,
    deletes: [ours(lan4), ours(ra6)],
    excluded: [
      { route: lan4, reason: "excluded-prefix" },
      { route: ra6, reason: "family" },
    ],
  });
  // The link vanished from the link list: the copy on it goes.
  const noWlan = LINKS.filter((link) => link.index !== IF.wlan0);
  deepEqual(plan(input([lan4], [firezone(ours(lan4))], {}, noWlan)), {
    ...nothing,
    deletes: [ours(lan4)],
    excluded: [{ route: lan4, reason: "unknown-interface" }],
  });
});

Deno.test("planSync: a copy changed in its slot is replaced; in another slot deleted and added", () => {
  const replaced: Array<[string, Route, Route]> = [
    ["v4 prefsrc", lan4, { ...lan4, prefsrc: "192.168.1.51" }],
    ["v4 device", lan4, { ...lan4, oif: IF.eth0 }],
    ["v4 mtu", lan4, { ...lan4, metrics: { mtu: 1400 } }],
    ["v4 mtu lock", { ...lan4, metrics: { mtu: 1400 } }, {
      ...lan4,
      metrics: { mtu: 1400, lock: 4 },
    }],
    ["v4 advmss gone", { ...lan4, metrics: { advmss: 1360 } }, lan4],
    ["v4 congestion control", lan4, { ...lan4, metrics: { congctl: "bbr" } }],
    ["v4 realms", lan4, { ...lan4, flow: 7 }],
    ["v4 multipath weights", { ...lan4, oif: undefined, multipath: [hop0, hop1] }, {
      ...lan4,
      oif: undefined,
      multipath: [hop0, { ...hop1, hops: 4 }],
    }],
    ["v6 prefsrc", ra6, { ...ra6, prefsrc: "2001:db8:1::50" }],
    ["v6 pref", ra6, { ...ra6, pref: 1 }],
    ["v6 hoplimit", ra6, { ...ra6, metrics: { hoplimit: 9 } }],
    ["v6 expiry renewed", ra6, { ...ra6, expires: 3600 }],
  ];
  for (const [name, before, after] of replaced) {
    const result = plan(input([after], [firezone(ours(before))]));
    deepEqual(result, { ...nothing, replaces: [{ from: ours(before), to: ours(after) }] }, name);
  }
  const moved: Array<[string, Route, Route]> = [
    ["v4 metric", lan4, { ...lan4, priority: 100 }],
    ["v4 tos", docker4, { ...docker4, tos: 0x10 }],
    ["v6 metric", ra6, { ...ra6, priority: 100 }],
    // A device the host holds no address of the global /64 on: a link-local one.
    ["v6 device", linkLocalWlan, { ...linkLocalWlan, oif: IF.eth0 }],
  ];
  for (const [name, before, after] of moved) {
    const result = plan(input([after], [firezone(ours(before))]));
    deepEqual(result, { ...nothing, deletes: [ours(before)], adds: [ours(after)] }, name);
  }
});

Deno.test("planSync: an IPv6 copy that shares its prefix and metric is deleted and added", () => {
  // The kernel's IPv6 replace takes the first route of the prefix and metric, whatever its
  // device: with two copies of fe80::/64 at one metric it could hit the other one.
  const wlan = v6("fe80::/64", IF.wlan0, { priority: 256 });
  const eth = v6("fe80::/64", IF.eth0, { priority: 256 });
  const changed = { ...wlan, metrics: { mtu: 1400 } };
  const result = plan(input([changed, eth], [firezone(ours(wlan), ours(eth))]));
  deepEqual(result, {
    ...nothing,
    deletes: [ours(wlan)],
    adds: [ours(changed)],
    unchanged: [ours(eth)],
  });
});

Deno.test("planSync: duplicate copies of ours are reduced to one", () => {
  // IPv4: two aliases of one key (the kernel allows it with NLM_F_APPEND); keep the right one.
  const wrongDevice = ours(lan4, FIREZONE, { oif: IF.eth0 });
  deepEqual(plan(input([lan4], [firezone(wrongDevice, ours(lan4))])), {
    ...nothing,
    deletes: [wrongDevice],
    unchanged: [ours(lan4)],
  });
  // Neither is right: the first (the one an IPv4 replace takes) is replaced, the other goes.
  const wrongSource = ours(lan4, FIREZONE, { prefsrc: "192.168.1.99" });
  deepEqual(plan(input([lan4], [firezone(wrongDevice, wrongSource)])), {
    ...nothing,
    deletes: [wrongSource],
    replaces: [{ from: wrongDevice, to: ours(lan4) }],
  });
  // IPv6: the same copy listed twice; the second is an extra.
  const first = ours(ra6);
  const second = ours(ra6);
  const result = plan(input([ra6], [firezone(first, second)]));
  equal(result.unchanged.length, 1);
  equal(result.unchanged[0], first);
  equal(result.deletes.length, 1);
  equal(result.deletes[0], second);
});

function samePrefixHolders() {
  const vpnLan4 = v4("192.168.1.0/24", IF.tun0, { table: FIREZONE, priority: 50 });
  const vpnLan6 = v6("2001:db8:1::/64", IF.eth0, {
    table: FIREZONE,
    protocol: RTPROT.STATIC,
    gateway: "fe80::1",
    priority: 9,
  });
  const blocked = v4("172.17.0.0/16", undefined, {
    table: FIREZONE,
    protocol: RTPROT.STATIC,
    type: RTN.UNREACHABLE,
    scope: RT_SCOPE.UNIVERSE,
  });
  return { vpnLan4, vpnLan6, blocked };
}

Deno.test("planSync: a VPN route with the same prefix wins: no copy, the old one goes (precedence vpn)", () => {
  const { vpnLan4, vpnLan6, blocked } = samePrefixHolders();
  const source = [lan4, ra6, docker4];
  const targets = firezone(vpnLan4, vpnLan6, blocked, ours(lan4), ours(ra6));
  deepEqual(plan(input(source, [targets])), {
    ...nothing,
    deletes: [ours(lan4), ours(ra6)],
    excluded: [
      { route: docker4, reason: "vpn-route-wins", table: FIREZONE, vpnRoute: blocked },
      { route: lan4, reason: "vpn-route-wins", table: FIREZONE, vpnRoute: vpnLan4 },
      { route: ra6, reason: "vpn-route-wins", table: FIREZONE, vpnRoute: vpnLan6 },
    ],
  });
});

Deno.test("planSync: --precedence lan: a foreign route with the same prefix is a conflict (any metric, any device)", () => {
  const { vpnLan4, vpnLan6, blocked } = samePrefixHolders();
  const source = [lan4, ra6, docker4];
  const targets = firezone(vpnLan4, vpnLan6, blocked, ours(lan4), ours(ra6));
  deepEqual(plan(input(source, [targets], { precedence: "lan" })), {
    ...nothing,
    deletes: [ours(lan4), ours(ra6)],
    conflicts: [
      { table: FIREZONE, wanted: ours(docker4), existing: [blocked] },
      { table: FIREZONE, wanted: ours(lan4), existing: [vpnLan4] },
      { table: FIREZONE, wanted: ours(ra6), existing: [vpnLan6] },
    ],
  });
});

Deno.test("planSync: a hand-made copy marks its device as the table's own (never deleted)", () => {
  // Identical to our copy but for the protocol: foreign, so docker0 counts as a VPN interface.
  const byHand = { ...ours(docker4), protocol: RTPROT.STATIC };
  const docker6 = linkLocalDocker;
  deepEqual(plan(input([docker4, docker6, lan4], [firezone(byHand, ours(docker6))])), {
    ...nothing,
    adds: [ours(lan4)],
    deletes: [ours(docker6)],
    excluded: [
      { route: docker4, reason: "vpn-interface", table: FIREZONE },
      { route: docker6, reason: "vpn-interface", table: FIREZONE },
    ],
  });
});

Deno.test("planSync: --precedence lan: a conflict lists every foreign route of the prefix, sorted", () => {
  const a = v4("192.168.1.0/24", IF.tun0, { table: FIREZONE, priority: 20 });
  const b = v4("192.168.1.0/24", undefined, {
    table: FIREZONE,
    type: RTN.UNREACHABLE,
    scope: RT_SCOPE.UNIVERSE,
    priority: 10,
  });
  const result = plan(input([lan4], [firezone(a, b)], { precedence: "lan" }));
  deepEqual(result.conflicts, [{ table: FIREZONE, wanted: ours(lan4), existing: [b, a] }]);
  deepEqual(result.adds, []);
});

Deno.test("planSync: routes on a table's own interfaces are not mirrored into it (per table)", () => {
  const tunNet4 = v4("100.64.0.0/11", IF.tun0);
  const wgNet4 = v4("10.8.0.0/24", IF.wg0, { prefsrc: "10.8.0.2" });
  const wgNet6 = v6("fd00:8::/64", IF.wg0);
  const wg = (...routes: Route[]): [number, Route[]] => [
    WG_QUICK,
    [vpnDefault(AF.INET, WG_QUICK, IF.wg0), vpnDefault(AF.INET6, WG_QUICK, IF.wg0), ...routes],
  ];
  const stale = ours(tunNet4); // a copy on the VPN interface from an earlier run
  // Firezone's tunnel network is CGNAT space: allowed here, to see the per-table rule at work.
  const allowCgnat = { allowPrefixes: [parseCidr("100.64.0.0/10")] };
  deepEqual(plan(input([tunNet4, wgNet4, wgNet6, lan4], [firezone(stale), wg()], allowCgnat)), {
    ...nothing,
    adds: [
      ours(tunNet4, WG_QUICK),
      ours(lan4, WG_QUICK),
      ours(wgNet4),
      ours(lan4),
      ours(wgNet6),
    ],
    deletes: [stale],
    excluded: [
      { route: wgNet4, reason: "vpn-interface", table: WG_QUICK },
      { route: tunNet4, reason: "vpn-interface", table: FIREZONE },
      { route: wgNet6, reason: "vpn-interface", table: WG_QUICK },
    ],
  });
});

Deno.test("planSync: multipath hops of a foreign route mark VPN interfaces", () => {
  const ecmp = v4("0.0.0.0/0", undefined, {
    table: WG_QUICK,
    protocol: RTPROT.STATIC,
    scope: RT_SCOPE.UNIVERSE,
    multipath: [hop(IF.eth0, "10.0.0.1"), hop(IF.eth1, "10.0.1.1")],
  });
  const onEth0 = v4("10.0.0.0/24", IF.eth0);
  const onEth1 = v6("fd00:5::/64", IF.eth1);
  const result = plan(input([onEth0, onEth1, lan4], [[WG_QUICK, [ecmp]]]));
  deepEqual(result.adds, [ours(lan4, WG_QUICK)]);
  deepEqual(result.excluded, [
    { route: onEth0, reason: "vpn-interface", table: WG_QUICK },
    { route: onEth1, reason: "vpn-interface", table: WG_QUICK },
  ]);
});

Deno.test("planSync: two sources with one IPv4 identity: the first wins, the other is reported", () => {
  const onEth0 = v4("10.0.0.0/24", IF.eth0, { prefsrc: "10.0.0.2" });
  const onEth1 = v4("10.0.0.0/24", IF.eth1, { prefsrc: "10.0.0.3" });
  deepEqual(plan(input([onEth0, onEth1], [firezone()])), {
    ...nothing,
    adds: [ours(onEth0)],
    excluded: [{ route: onEth1, reason: "duplicate", table: FIREZONE }],
  });
  deepEqual(plan(input([onEth1, onEth0], [firezone()])), {
    ...nothing,
    adds: [ours(onEth1)],
    excluded: [{ route: onEth0, reason: "duplicate", table: FIREZONE }],
  });
  // The first copy exists: it stays, whatever the order of the target's routes.
  const result = plan(input([onEth0, onEth1], [firezone(ours(onEth0))]));
  deepEqual([result.adds, result.deletes, result.unchanged], [[], [], [ours(onEth0)]]);
  // Another metric or tos is another identity: both are copied.
  const metric = { ...onEth1, priority: 5 };
  const tos = { ...onEth1, tos: 0x10 };
  deepEqual(plan(input([onEth0, metric, tos], [firezone()])).adds, [
    ours(onEth0),
    ours(metric),
    ours(tos),
  ]);
});

Deno.test("planSync: IPv6 routes of one prefix and metric on several devices are all copied", () => {
  const eth0 = v6("fe80::/64", IF.eth0);
  const eth1 = v6("fe80::/64", IF.eth1);
  const wlan0 = v6("fe80::/64", IF.wlan0);
  deepEqual(plan(input([wlan0, eth0, eth1], [firezone()])), {
    ...nothing,
    adds: [ours(eth0), ours(eth1), ours(wlan0)],
  });
  // Same device and metric twice (cannot happen in one kernel table): the first wins.
  const again = { ...eth0, prefsrc: "fe80::5" };
  deepEqual(plan(input([eth0, again], [firezone()])), {
    ...nothing,
    adds: [ours(eth0)],
    excluded: [{ route: again, reason: "duplicate", table: FIREZONE }],
  });
});

Deno.test("planSync: exclusions by prefix, device and family, both families", () => {
  const options = {
    exclude: [parseCidr("172.16.0.0/12"), parseCidr("2001:db8:1::/48")],
    excludeDevices: ["wlan0"],
  };
  const eth4 = v4("10.1.0.0/16", IF.eth0);
  const eth6 = v6("2001:db8:1:2::/64", IF.eth0);
  const result = plan(input([...laptop, eth4, eth6], [firezone()], options));
  deepEqual(result.adds, [ours(eth4), ours(linkLocalDocker)]);
  deepEqual(
    result.excluded.filter((e) => e.reason.startsWith("excluded")),
    [
      { route: docker4, reason: "excluded-prefix" },
      { route: lan4, reason: "excluded-device" },
      { route: ra6, reason: "excluded-device" },
      { route: eth6, reason: "excluded-prefix" },
      { route: linkLocalWlan, reason: "excluded-device" },
    ],
  );
  const v6only = plan(input(laptop, [firezone()], { families: [AF.INET6] }));
  deepEqual(v6only.adds, [ours(ra6), ours(linkLocalDocker), ours(linkLocalWlan)]);
  equal(v6only.excluded.filter((e) => e.reason === "family").length, 4);
});

Deno.test("planSync: a target that is also the source table gets no adds and no deletes", () => {
  const source = [lan4, ra6, linkLocalWlan];
  const result = plan(input(source, [[254, source]]));
  deepEqual(result, {
    ...nothing,
    excluded: source.map((route) => ({ route, reason: "vpn-interface", table: 254 })),
  });
});

Deno.test("planSync: cloned entries in target tables are neither ours nor foreign", () => {
  const clonedOurs = { ...ours(lan4), dst: "192.168.1.7", dstLen: 32, flags: RTM_F.CLONED };
  const clonedForeign = v4("192.168.1.0/24", IF.wlan0, { table: FIREZONE, flags: RTM_F.CLONED });
  deepEqual(plan(input([lan4], [firezone(clonedOurs, clonedForeign)])), {
    ...nothing,
    adds: [ours(lan4)],
  });
});

Deno.test("planSync: oddities carrying our protocol in a target table are replaced", () => {
  const withGateway = { ...ours(lan4), gateway: "192.168.1.1", scope: RT_SCOPE.UNIVERSE };
  const multipath = {
    ...ours(ra6),
    multipath: [hop(IF.eth0, "fe80::1")],
  };
  const expiring = { ...ours(linkLocalWlan), expires: 100 };
  deepEqual(plan(input([lan4, ra6, linkLocalWlan], [firezone(withGateway, multipath, expiring)])), {
    ...nothing,
    replaces: [
      { from: withGateway, to: ours(lan4) },
      { from: multipath, to: ours(ra6) },
      { from: expiring, to: ours(linkLocalWlan) },
    ],
  });
});

Deno.test("planSync: another protocol number makes routes of 77 foreign", () => {
  const copy77 = ours(lan4);
  const result = plan(input([lan4, ra6, docker4], [firezone(copy77)], { protocol: 200 }));
  deepEqual(result, {
    ...nothing,
    adds: [{ ...ours(docker4), protocol: 200 }],
    excluded: [
      { route: lan4, reason: "vpn-interface", table: FIREZONE },
      { route: ra6, reason: "vpn-interface", table: FIREZONE },
    ],
  });
  const noEscape = { ...copy77, oif: undefined, type: RTN.BLACKHOLE };
  delete noEscape.oif;
  deepEqual(plan(input([lan4], [firezone(noEscape)], { protocol: 200 })).excluded, [
    { route: lan4, reason: "vpn-route-wins", table: FIREZONE, vpnRoute: noEscape },
  ]);
  const lanFirst = { protocol: 200, precedence: "lan" } as const;
  deepEqual(plan(input([lan4], [firezone(noEscape)], lanFirst)).conflicts, [
    { table: FIREZONE, wanted: { ...copy77, protocol: 200 }, existing: [noEscape] },
  ]);
});

Deno.test("planSync: links as a map or a list give the same plan", () => {
  const map: ReadonlyMap<number, Link> = new Map(LINKS.map((link) => [link.index, link]));
  deepEqual(plan(input(laptop, [firezone()], {}, map)), plan(input(laptop, [firezone()])));
});

Deno.test("planSync: the plan does not depend on the order of the target tables' routes", () => {
  const source = laptop;
  const [table, routes] = firezone(
    ours(lan4),
    ours(v4("10.99.0.0/16", IF.eth0)),
    v4("192.168.1.0/24", IF.tun0, { table: FIREZONE, priority: 1 }),
    ours(ra6, FIREZONE, { prefsrc: "2001:db8:1::9" }),
  );
  const expected = plan(input(source, [[table, routes], [WG_QUICK, []]]));
  const reversed = plan(input(source, [[WG_QUICK, []], [table, [...routes].reverse()]]));
  deepEqual(reversed, expected);
});

Deno.test("planSync: a VPN resource covering the LAN wins; --precedence lan copies it anyway", () => {
  const resource = v4("192.168.0.0/16", IF.tun0, { table: FIREZONE, protocol: RTPROT.BOOT });
  const source = [lan4, docker4];
  deepEqual(plan(input(source, [firezone(resource, ours(lan4))])), {
    ...nothing,
    adds: [ours(docker4)],
    deletes: [ours(lan4)],
    excluded: [{ route: lan4, reason: "vpn-route-wins", table: FIREZONE, vpnRoute: resource }],
  });
  deepEqual(plan(input(source, [firezone(resource)], { precedence: "lan" })), {
    ...nothing,
    adds: [ours(docker4), ours(lan4)],
  });
});

Deno.test("planSync: cloned entries and linkmirror's own copies never count as the VPN's routes", () => {
  const cloned = v4("192.168.0.0/16", IF.tun0, { table: FIREZONE, flags: RTM_F.CLONED });
  const ourBroad = ours(v4("192.168.0.0/16", IF.eth0));
  const result = plan(input([lan4], [firezone(cloned, ourBroad)]));
  deepEqual(result.adds, [ours(lan4)]);
  deepEqual(result.excluded, []);
});

Deno.test("planSync: hostile on-link routes are outside the local address space", () => {
  const dhcp = { protocol: RTPROT.DHCP };
  const hostile = [
    v4("0.0.0.0/1", IF.wlan0, dhcp),
    v4("128.0.0.0/1", IF.wlan0, dhcp),
    v4("198.51.100.0/24", IF.wlan0),
    v4("100.64.0.0/10", IF.wlan0),
    v6("2000::/3", IF.wlan0, { protocol: RTPROT.RA, priority: 1024 }),
    v6("2606:4700::/64", IF.wlan0, { protocol: RTPROT.RA }),
  ];
  const result = plan(input([...hostile, lan4, ra6], [firezone()]));
  deepEqual(result.adds, [ours(lan4), ours(ra6)]);
  deepEqual(
    result.excluded.map((e) => [`${e.route.dst}/${e.route.dstLen}`, e.reason, e.table]),
    [
      ["0.0.0.0/1", "outside-local-space", undefined],
      ["100.64.0.0/10", "outside-local-space", undefined],
      ["128.0.0.0/1", "outside-local-space", undefined],
      ["198.51.100.0/24", "outside-local-space", undefined],
      ["2000::/3", "outside-local-space", undefined],
      ["2606:4700::/64", "outside-local-space", undefined],
    ],
  );
  // Copies an earlier version made of them are withdrawn.
  const earlier = hostile.map((r) => ({ ...ours(r), priority: r.priority }));
  deepEqual(plan(input(hostile, [firezone(...earlier)])).deletes.length, hostile.length);
  // --allow-prefix admits one explicitly.
  const allowed = plan(
    input(hostile, [firezone()], { allowPrefixes: [parseCidr("198.51.100.0/24")] }),
  );
  deepEqual(allowed.adds, [ours(hostile[2])]);
});

Deno.test("planSync: copies of an earlier version, at the source metric, move to the offset", () => {
  const earlier = [lan4, ra6].map((r) => ({ ...ours(r), priority: r.priority }));
  const result = plan(input([lan4, ra6], [firezone(...earlier)]));
  deepEqual(result.adds, [ours(lan4), ours(ra6)]);
  deepEqual(result.deletes, earlier);
});

Deno.test('order "any": the same changes, in the order of their candidates', () => {
  // Source routes out of order: an add list left as it came, or sorted.
  const lans = ["192.168.9.0/24", "10.1.0.0/16", "192.168.2.0/24", "10.0.0.0/16"]
    .map((cidr) => v4(cidr, IF.eth0));
  const stale = ours(v4("192.168.7.0/24", IF.eth0));
  const given = input(lans, [firezone(stale)]);
  const sorted = planSync(given);
  const any = planSync({ ...given, order: "any" });
  deepEqual(any.adds.map((r) => r.dst), ["192.168.9.0", "10.1.0.0", "192.168.2.0", "10.0.0.0"]);
  deepEqual(sorted.adds.map((r) => r.dst), ["10.0.0.0", "10.1.0.0", "192.168.2.0", "192.168.9.0"]);
  deepEqual(new Set(any.adds), new Set(sorted.adds));
  deepEqual(any.deletes, sorted.deletes);
  deepEqual(any.excluded, sorted.excluded);
});
