/**
 * TableView against the kernel: each case replays the events `ip monitor route link address` showed
 * in a network namespace (kernel 6.18.44, see the comment at the top of table_view.ts) and checks
 * that the view equals the `ip -d route show` dump taken afterwards.
 */
import assert from "node:assert/strict";
import { TableView } from "../../src/daemon/table_view.ts";
import { viewKey } from "../../src/planner/route_identity.ts";
import type { Address } from "../../src/netlink/address.ts";
import {
  AF,
  IFF,
  NLM_F,
  RT_SCOPE,
  RT_TABLE,
  RTM_F,
  RTN,
  RTNH_F,
  RTPROT,
} from "../../src/netlink/constants.ts";
import type { Link } from "../../src/netlink/link.ts";
import type { Nexthop, Route } from "../../src/netlink/route.ts";

const T = 539098368;
const MAIN = RT_TABLE.MAIN;
const LOCAL = RT_TABLE.LOCAL;
const VETH0 = 2;
const VETH2 = 3;
const DEAD_LINKDOWN = RTNH_F.DEAD | RTNH_F.LINKDOWN;

// ---- fixtures ---------------------------------------------------------------------------------

const FLAGS_UP = IFF.BROADCAST | IFF.MULTICAST | IFF.UP | IFF.LOWER_UP | IFF.RUNNING;
const FLAGS_DOWN = IFF.BROADCAST | IFF.MULTICAST;
const FLAGS_NO_CARRIER = IFF.BROADCAST | IFF.MULTICAST | IFF.UP;
/** Seen right after `ip link set up`: `<NO-CARRIER,...,UP,LOWER_UP>` (operstate not yet up). */
const FLAGS_COMING_UP = IFF.BROADCAST | IFF.MULTICAST | IFF.UP | IFF.LOWER_UP;

function link(index: number, flags: number, mtu = 1500): Link {
  const name = index === VETH0 ? "veth0" : index === VETH2 ? "veth2" : "lo";
  return { index, name, flags, type: 1, mtu };
}

function v4(table: number, cidr: string, extra: Partial<Route> = {}): Route {
  const [dst, len] = cidr.split("/");
  return {
    family: AF.INET,
    table,
    dst,
    dstLen: Number(len),
    srcLen: 0,
    tos: 0,
    protocol: 77,
    scope: RT_SCOPE.LINK,
    type: RTN.UNICAST,
    flags: 0,
    ...extra,
  };
}

function v6(table: number, cidr: string, extra: Partial<Route> = {}): Route {
  const [dst, len] = cidr.split("/");
  return {
    family: AF.INET6,
    table,
    dst,
    dstLen: Number(len),
    srcLen: 0,
    tos: 0,
    protocol: 77,
    scope: RT_SCOPE.UNIVERSE,
    type: RTN.UNICAST,
    flags: 0,
    priority: 1024,
    pref: 0,
    ...extra,
  };
}

function hop(oif: number, gateway: string, flags = 0): Nexthop {
  return { oif, gateway, flags, hops: 0 };
}

function addr4(local: string, prefixLen: number, extra: Partial<Address> = {}): Address {
  return {
    family: AF.INET,
    index: VETH0,
    prefixLen,
    flags: 0x80,
    scope: 0,
    address: local,
    local,
    label: "veth0",
    ...extra,
  };
}

function addr6(address: string, prefixLen: number, extra: Partial<Address> = {}): Address {
  return { family: AF.INET6, index: VETH0, prefixLen, flags: 0x82, scope: 0, address, ...extra };
}

// The namespace of every case: veth0 (2) with 192.168.50.1/24 and 2001:db8:50::1/64.
const KERNEL = RTPROT.KERNEL;
const MAIN_CONNECTED = v4(MAIN, "192.168.50.0/24", {
  protocol: KERNEL,
  oif: VETH0,
  prefsrc: "192.168.50.1",
});
const MAIN_VIA = v4(MAIN, "10.9.0.0/16", {
  protocol: RTPROT.BOOT,
  scope: RT_SCOPE.UNIVERSE,
  oif: VETH0,
  gateway: "192.168.50.2",
});
const MAIN_PREFIX6 = v6(MAIN, "2001:db8:50::/64", { protocol: KERNEL, priority: 256, oif: VETH0 });
const MAIN_FE80 = v6(MAIN, "fe80::/64", { protocol: KERNEL, priority: 256, oif: VETH0 });
const COPY4 = v4(T, "192.168.50.0/24", { oif: VETH0, prefsrc: "192.168.50.1" });
const COPY6 = v6(T, "2001:db8:50::/64", { priority: 256, oif: VETH0 });
const ADDR4 = addr4("192.168.50.1", 24);
const ADDR6 = addr6("2001:db8:50::1", 64);
const ADDR_FE80 = addr6("fe80::fcb0:a5ff:fedc:cfa", 64, { scope: RT_SCOPE.LINK, flags: 0x80 });

// Local-table routes the events also carry; the view must ignore them.
const LOCAL6 = v6(LOCAL, "2001:db8:50::1/128", {
  protocol: KERNEL,
  type: RTN.LOCAL,
  priority: 0,
  oif: VETH0,
});
const LOCAL4 = v4(LOCAL, "192.168.50.1/32", {
  protocol: KERNEL,
  type: RTN.LOCAL,
  scope: RT_SCOPE.HOST,
  oif: VETH0,
  prefsrc: "192.168.50.1",
});
const BROADCAST4 = v4(LOCAL, "192.168.50.255/32", {
  protocol: KERNEL,
  type: RTN.BROADCAST,
  oif: VETH0,
  prefsrc: "192.168.50.1",
});

interface Setup {
  links?: Link[];
  addresses?: Address[];
  routes?: Route[];
}

function makeView(setup: Setup = {}): TableView {
  const view = new TableView({ tables: [MAIN, T] });
  view.reset("links", setup.links ?? [link(1, IFF.UP | IFF.LOOPBACK), link(VETH0, FLAGS_UP)]);
  view.reset("addresses", setup.addresses ?? [ADDR4, ADDR6, ADDR_FE80]);
  view.reset(
    "routes",
    setup.routes ?? [MAIN_VIA, MAIN_CONNECTED, MAIN_PREFIX6, MAIN_FE80, COPY4, COPY6],
  );
  return view;
}

type Event =
  | ["route", "new" | "del", Route, number?]
  | ["link", "new" | "del", Link]
  | ["addr", "new" | "del", Address];

function replay(view: TableView, events: readonly Event[]): void {
  for (const event of events) {
    if (event[0] === "route") view.applyRoute(event[1], event[2], event[3] ?? 0);
    else if (event[0] === "link") view.applyLink(event[1], event[2]);
    else view.applyAddress(event[1], event[2]);
  }
}

function sorted(routes: readonly Route[]): Route[] {
  return [...routes].sort((a, b) => viewKey(a).localeCompare(viewKey(b)));
}

/** The view's table equals the dump (routes compared whole, in any order). */
function assertTable(view: TableView, table: number, dump: readonly Route[]): void {
  assert.deepEqual(sorted(view.routes(table)), sorted(dump), `table ${table}`);
}

// Events of `ip link set veth0 down` (case a), as ip monitor showed them.
const LINK_DOWN_EVENTS: Event[] = [
  ["link", "new", link(VETH0, FLAGS_DOWN)],
  ["route", "del", COPY6],
  ["route", "del", MAIN_PREFIX6],
  ["route", "del", MAIN_FE80],
  ["route", "del", LOCAL6],
  ["addr", "del", ADDR6],
  ["addr", "del", ADDR_FE80],
];

// ---- identity -------------------------------------------------------------------------------

Deno.test("viewKey: flags and expires are not identity; next hop, prefsrc and metric are", () => {
  assert.equal(viewKey(COPY4), viewKey({ ...COPY4, flags: RTNH_F.LINKDOWN }));
  assert.equal(viewKey(COPY6), viewKey({ ...COPY6, expires: 3 }));
  assert.notEqual(viewKey(COPY4), viewKey({ ...COPY4, oif: VETH2 }));
  assert.notEqual(viewKey(COPY4), viewKey({ ...COPY4, prefsrc: undefined }));
  assert.notEqual(viewKey(COPY6), viewKey({ ...COPY6, priority: 1024 }));
  assert.notEqual(viewKey(COPY4), viewKey({ ...COPY4, table: MAIN }));
  // An IPv6 route without RTA_PRIORITY has the kernel's default metric 1024.
  assert.equal(
    viewKey(v6(T, "2001:db8::/64", { priority: undefined })),
    viewKey(v6(T, "2001:db8::/64")),
  );
  // Multipath hops in any order.
  const a = v6(T, "2001:db8:70::/64", {
    multipath: [hop(VETH0, "2001:db8:50::2"), hop(VETH2, "2001:db8:60::2")],
  });
  const b = { ...a, multipath: [a.multipath![1], a.multipath![0]] };
  assert.equal(viewKey(a), viewKey(b));
});

// ---- basics -----------------------------------------------------------------------------------

Deno.test("only tracked tables, IP families and uncloned routes are kept", () => {
  const view = makeView({ routes: [COPY4, LOCAL4, v4(100, "10.0.0.0/8", { oif: VETH0 })] });
  assertTable(view, T, [COPY4]);
  assert.deepEqual(view.routes(LOCAL), []);
  assert.equal(view.applyRoute("new", LOCAL6), false);
  assert.equal(view.applyRoute("new", { ...COPY4, family: 28 }), false);
  assert.equal(view.applyRoute("new", { ...COPY6, flags: RTM_F.CLONED }), false);
  assert.equal(view.applyRoute("new", COPY6, NLM_F.CREATE | NLM_F.EXCL), true);
  assertTable(view, T, [COPY4, COPY6]);
  assert.equal(view.applyRoute("del", COPY6), true);
  assert.equal(view.applyRoute("del", COPY6), false, "deleting a missing route changes nothing");
  assert.equal(
    view.applyRoute("new", COPY4),
    false,
    "re-announcing the same route changes nothing",
  );
  const cacheinfo = {
    clntref: 1,
    lastuse: 2,
    expires: 3,
    error: 0,
    used: 4,
    id: 0,
    ts: 0,
    tsage: 0,
  };
  assert.equal(view.applyRoute("new", { ...COPY4, cacheinfo }), false, "counters only");
  assert.equal(view.applyRoute("new", { ...COPY4, flags: RTNH_F.LINKDOWN }), true);
});

Deno.test("links and addresses are kept and replaced", () => {
  const view = makeView();
  assert.deepEqual([...view.links().keys()].sort(), [1, VETH0]);
  assert.equal(view.applyLink("new", link(VETH0, FLAGS_UP)), false);
  assert.equal(view.applyLink("new", link(VETH0, FLAGS_UP, 1400)), true);
  assert.equal(view.links().get(VETH0)?.mtu, 1400);
  assert.equal(view.applyAddress("new", ADDR4), false);
  assert.equal(view.applyAddress("new", addr4("192.168.50.7", 24)), true);
  assert.equal(view.addresses(VETH0).length, 4);
  assert.equal(view.addresses(VETH2).length, 0);
});

Deno.test("needsResync: first reason wins; a routes reset clears it", () => {
  const view = makeView();
  assert.equal(view.needsResync, undefined);
  view.requestResync("event socket overrun");
  view.requestResync("something else");
  assert.equal(view.needsResync, "event socket overrun");
  view.reset("links", []);
  assert.equal(view.needsResync, "event socket overrun");
  view.reset("routes", [COPY4]);
  assert.equal(view.needsResync, undefined);
});

// ---- (a) link down ------------------------------------------------------------------------------

Deno.test("(a) link down: IPv4 routes vanish silently from all tables, IPv6 with events", () => {
  const view = makeView();
  replay(view, LINK_DOWN_EVENTS);
  assertTable(view, MAIN, []);
  assertTable(view, T, []);
  assert.deepEqual(view.addresses(VETH0), [ADDR4], "IPv4 addresses survive a link down");
  assert.equal(view.needsResync, undefined);
});

Deno.test("(a) link down with skip_notify_on_dev_down=1: only the link event", () => {
  const view = makeView();
  replay(view, [
    ["link", "new", link(VETH0, FLAGS_DOWN)],
    ["addr", "del", ADDR6],
    ["addr", "del", ADDR_FE80],
  ]);
  assertTable(view, MAIN, []);
  assertTable(view, T, []);
});

// Case a3: a second link veth2 (3) with 192.168.60.1/24 and 2001:db8:60::1/64, multipath routes
// over both links and scope-host routes via veth0 in 539098368.
const MAIN_CONNECTED_2 = v4(MAIN, "192.168.60.0/24", {
  protocol: KERNEL,
  oif: VETH2,
  prefsrc: "192.168.60.1",
});
const MAIN_PREFIX6_2 = v6(MAIN, "2001:db8:60::/64", {
  protocol: KERNEL,
  priority: 256,
  oif: VETH2,
});
const MAIN_FE80_2 = v6(MAIN, "fe80::/64", { protocol: KERNEL, priority: 256, oif: VETH2 });
const MP4 = v4(T, "10.70.0.0/16", {
  scope: RT_SCOPE.UNIVERSE,
  multipath: [hop(VETH0, "192.168.50.2"), hop(VETH2, "192.168.60.2")],
});
const MP6 = v6(T, "2001:db8:70::/64", {
  multipath: [hop(VETH0, "2001:db8:50::2"), hop(VETH2, "2001:db8:60::2")],
});
const HOST4 = v4(T, "10.80.0.0/16", { scope: RT_SCOPE.HOST, oif: VETH0 });
const HOST4_SRC = v4(T, "10.81.0.0/16", {
  scope: RT_SCOPE.HOST,
  oif: VETH0,
  prefsrc: "192.168.50.1",
});

function twoLinkView(): TableView {
  return makeView({
    links: [link(1, IFF.UP | IFF.LOOPBACK), link(VETH0, FLAGS_UP), link(VETH2, FLAGS_UP)],
    addresses: [
      ADDR4,
      ADDR6,
      ADDR_FE80,
      addr4("192.168.60.1", 24, { index: VETH2, label: "veth2" }),
      addr6("2001:db8:60::1", 64, { index: VETH2 }),
    ],
    routes: [
      MAIN_VIA,
      MAIN_CONNECTED,
      MAIN_CONNECTED_2,
      MAIN_PREFIX6,
      MAIN_PREFIX6_2,
      MAIN_FE80,
      MAIN_FE80_2,
      MP4,
      HOST4,
      HOST4_SRC,
      COPY4,
      COPY6,
      MP6,
    ],
  });
}

Deno.test("(a) link down: multipath hops turn dead, scope-host routes stay; up revives", () => {
  const view = twoLinkView();
  replay(view, LINK_DOWN_EVENTS);
  assertTable(view, MAIN, [MAIN_CONNECTED_2, MAIN_PREFIX6_2, MAIN_FE80_2]);
  assertTable(view, T, [
    { ...MP4, multipath: [hop(VETH0, "192.168.50.2", DEAD_LINKDOWN), hop(VETH2, "192.168.60.2")] },
    HOST4,
    HOST4_SRC,
    {
      ...MP6,
      multipath: [hop(VETH0, "2001:db8:50::2", DEAD_LINKDOWN), hop(VETH2, "2001:db8:60::2")],
    },
  ]);
  // (d) up again: the kernel recreates the connected route and fe80::/64 with events.
  replay(view, [
    ["link", "new", link(VETH0, FLAGS_COMING_UP)],
    ["route", "new", MAIN_CONNECTED, NLM_F.CREATE | NLM_F.EXCL],
    ["route", "new", MAIN_FE80, NLM_F.CREATE | NLM_F.EXCL],
    ["link", "new", link(VETH0, FLAGS_UP)],
  ]);
  assertTable(view, MAIN, [
    MAIN_CONNECTED,
    MAIN_CONNECTED_2,
    MAIN_PREFIX6_2,
    MAIN_FE80,
    MAIN_FE80_2,
  ]);
  assertTable(view, T, [MP4, HOST4, HOST4_SRC, MP6]);
});

// ---- (b) address deleted ----------------------------------------------------------------------

const T_SRC = v4(T, "10.20.0.0/16", { oif: VETH0, prefsrc: "192.168.50.1" });
const T_NOSRC = v4(T, "10.40.0.0/16", { oif: VETH0 });
const MAIN_VIA_SRC = v4(MAIN, "10.30.0.0/16", {
  protocol: RTPROT.BOOT,
  scope: RT_SCOPE.UNIVERSE,
  oif: VETH0,
  gateway: "192.168.50.2",
  prefsrc: "192.168.50.1",
});

Deno.test("(b) last IPv4 address deleted: every IPv4 route via the link goes", () => {
  const view = makeView({
    routes: [
      MAIN_VIA,
      MAIN_VIA_SRC,
      MAIN_CONNECTED,
      MAIN_PREFIX6,
      MAIN_FE80,
      T_SRC,
      T_NOSRC,
      COPY4,
      COPY6,
    ],
  });
  replay(view, [
    ["addr", "del", ADDR4],
    ["route", "del", MAIN_CONNECTED],
    ["route", "del", BROADCAST4],
    ["route", "del", LOCAL4],
    ["route", "del", MAIN_VIA_SRC],
  ]);
  assertTable(view, MAIN, [MAIN_PREFIX6, MAIN_FE80]);
  assertTable(view, T, [COPY6]);
});

Deno.test("(b) IPv4 address deleted, another remains: other tables keep the stale src", () => {
  const other = addr4("172.16.1.1", 24);
  const otherConnected = v4(MAIN, "172.16.1.0/24", {
    protocol: KERNEL,
    oif: VETH0,
    prefsrc: "172.16.1.1",
  });
  const mainDevSrc = v4(MAIN, "10.31.0.0/16", {
    protocol: RTPROT.BOOT,
    oif: VETH0,
    prefsrc: "192.168.50.1",
  });
  const tVia = v4(T, "10.41.0.0/16", {
    protocol: RTPROT.BOOT,
    scope: RT_SCOPE.UNIVERSE,
    oif: VETH0,
    gateway: "172.16.1.2",
  });
  const tOtherSrc = v4(T, "10.50.0.0/16", { oif: VETH0, prefsrc: "172.16.1.1" });
  const routes = [
    MAIN_VIA,
    MAIN_VIA_SRC,
    mainDevSrc,
    MAIN_CONNECTED,
    otherConnected,
    MAIN_PREFIX6,
    MAIN_FE80,
    T_SRC,
    T_NOSRC,
    tVia,
    tOtherSrc,
    COPY4,
    COPY6,
  ];
  const expectedMain = [MAIN_VIA, otherConnected, MAIN_PREFIX6, MAIN_FE80];
  const expectedT = [T_SRC, T_NOSRC, tVia, tOtherSrc, COPY4, COPY6];

  // As 6.18 notifies it.
  const view = makeView({ addresses: [ADDR4, other, ADDR6, ADDR_FE80], routes });
  replay(view, [
    ["addr", "del", ADDR4],
    ["route", "del", MAIN_CONNECTED],
    ["route", "del", BROADCAST4],
    ["route", "del", LOCAL4],
    ["route", "del", mainDevSrc],
    ["route", "del", MAIN_VIA_SRC],
  ]);
  assertTable(view, MAIN, expectedMain);
  assertTable(view, T, expectedT);

  // Kernels that flush prefsrc routes silently: the address event alone gives the same view.
  const silent = makeView({ addresses: [ADDR4, other, ADDR6, ADDR_FE80], routes });
  silent.applyAddress("del", ADDR4);
  assertTable(silent, MAIN, expectedMain);
  assertTable(silent, T, expectedT);
});

Deno.test("(b) last IPv4 address deleted kills multipath hops; a new address revives them", () => {
  const view = twoLinkView();
  view.applyAddress("del", ADDR4);
  const dead = {
    ...MP4,
    multipath: [hop(VETH0, "192.168.50.2", DEAD_LINKDOWN), hop(VETH2, "192.168.60.2")],
  };
  assertTable(view, T, [dead, COPY6, MP6]);
  view.applyAddress("new", ADDR4);
  assertTable(view, T, [MP4, COPY6, MP6]);
});

const SECONDARY = addr4("192.168.50.7", 24, { flags: 0x80 | 0x01 });
const T_SRC7 = v4(T, "10.21.0.0/16", { oif: VETH0, prefsrc: "192.168.50.7" });
const MAIN_SRC1 = v4(MAIN, "10.30.0.0/16", {
  protocol: RTPROT.BOOT,
  oif: VETH0,
  prefsrc: "192.168.50.1",
});
const MAIN_SRC7 = v4(MAIN, "10.31.0.0/16", {
  protocol: RTPROT.BOOT,
  oif: VETH0,
  prefsrc: "192.168.50.7",
});

function secondaryView(): TableView {
  return makeView({
    addresses: [ADDR4, SECONDARY, ADDR6, ADDR_FE80],
    routes: [
      MAIN_VIA,
      MAIN_SRC1,
      MAIN_SRC7,
      MAIN_CONNECTED,
      MAIN_PREFIX6,
      MAIN_FE80,
      T_SRC,
      T_SRC7,
      COPY4,
      COPY6,
    ],
  });
}

Deno.test("(b) primary deleted, promote_secondaries=0: secondaries go too, then everything", () => {
  const view = secondaryView();
  replay(view, [
    ["addr", "del", SECONDARY],
    ["route", "del", { ...LOCAL4, dst: "192.168.50.7" }],
    ["route", "del", MAIN_SRC7],
    ["addr", "del", ADDR4],
    ["route", "del", MAIN_CONNECTED],
    ["route", "del", BROADCAST4],
    ["route", "del", LOCAL4],
    ["route", "del", MAIN_SRC1],
  ]);
  assertTable(view, MAIN, [MAIN_PREFIX6, MAIN_FE80]);
  assertTable(view, T, [COPY6]);
});

Deno.test("(b) primary deleted, promote_secondaries=1: the secondary takes over", () => {
  const view = secondaryView();
  const promoted = { ...SECONDARY, flags: 0x80 };
  const connected7 = { ...MAIN_CONNECTED, prefsrc: "192.168.50.7" };
  replay(view, [
    ["route", "del", { ...LOCAL4, dst: "192.168.50.7" }],
    ["addr", "del", ADDR4],
    ["route", "del", MAIN_CONNECTED],
    ["route", "del", BROADCAST4],
    ["route", "del", LOCAL4],
    ["route", "del", MAIN_SRC1],
    ["addr", "new", promoted],
    ["route", "new", connected7, NLM_F.CREATE | NLM_F.EXCL],
  ]);
  assertTable(view, MAIN, [MAIN_VIA, MAIN_SRC7, connected7, MAIN_PREFIX6, MAIN_FE80]);
  assertTable(view, T, [T_SRC, T_SRC7, COPY4, COPY6]);
  assert.deepEqual(view.addresses(VETH0).filter((a) => a.family === AF.INET), [promoted]);
});

// ---- (c) link deleted ---------------------------------------------------------------------------

const LINK_DELETE_EVENTS: Event[] = [
  ...LINK_DOWN_EVENTS,
  ["addr", "del", ADDR4],
  ["route", "del", LOCAL4],
];

Deno.test("(c) link deleted: everything via it goes, and the link and its addresses", () => {
  const view = makeView();
  replay(view, [...LINK_DELETE_EVENTS, ["link", "del", link(VETH0, FLAGS_DOWN)]]);
  assertTable(view, MAIN, []);
  assertTable(view, T, []);
  assert.equal(view.links().has(VETH0), false);
  assert.deepEqual(view.addresses(VETH0), []);
});

Deno.test("(c) link deleted: IPv4 multipath and scope host go, IPv6 multipath collapses", () => {
  const expectedT = [v6(T, "2001:db8:70::/64", { oif: VETH2, gateway: "2001:db8:60::2" })];
  const expectedMain = [MAIN_CONNECTED_2, MAIN_PREFIX6_2, MAIN_FE80_2];
  const view = twoLinkView();
  replay(view, [
    ...LINK_DELETE_EVENTS,
    // The dead IPv6 hop is notified alone.
    [
      "route",
      "del",
      v6(T, "2001:db8:70::/64", {
        oif: VETH0,
        gateway: "2001:db8:50::2",
        flags: DEAD_LINKDOWN,
      }),
    ],
    ["link", "del", link(VETH0, FLAGS_DOWN)],
  ]);
  assertTable(view, T, expectedT);
  assertTable(view, MAIN, expectedMain);

  // With skip_notify_on_dev_down=1 the hop deletion is silent: the link event does it.
  const silent = twoLinkView();
  replay(silent, [
    ["link", "new", link(VETH0, FLAGS_DOWN)],
    ["addr", "del", ADDR6],
    ["addr", "del", ADDR_FE80],
    ["addr", "del", ADDR4],
    ["link", "del", link(VETH0, FLAGS_DOWN)],
  ]);
  assertTable(silent, T, expectedT);
  assertTable(silent, MAIN, expectedMain);
});

// ---- (d) down, then up ----------------------------------------------------------------------------

Deno.test("(d) link down then up: only what the kernel recreates comes back", () => {
  const view = makeView();
  replay(view, [
    ...LINK_DOWN_EVENTS,
    ["link", "new", link(VETH0, FLAGS_COMING_UP)],
    ["route", "new", MAIN_CONNECTED, NLM_F.CREATE | NLM_F.EXCL],
    ["route", "new", { ...BROADCAST4 }, NLM_F.CREATE | NLM_F.EXCL],
    ["route", "new", MAIN_FE80, NLM_F.CREATE | NLM_F.EXCL],
    ["link", "new", link(VETH0, FLAGS_UP)],
    ["addr", "new", ADDR_FE80],
  ]);
  assertTable(view, MAIN, [MAIN_CONNECTED, MAIN_FE80]);
  assertTable(view, T, []);
  assert.deepEqual(view.addresses(VETH0), [ADDR4, ADDR_FE80]);
});

// ---- (e) IPv6 address removed; expiring routes --------------------------------------------------

Deno.test("(e) IPv6 address removed: prefix route goes with an event, prefsrc silently", () => {
  const addr51 = addr6("2001:db8:51::1", 64);
  const prefix51 = v6(MAIN, "2001:db8:51::/64", { protocol: KERNEL, priority: 256, oif: VETH0 });
  const mainSrc = v6(MAIN, "2001:db8:60::/64", {
    protocol: RTPROT.BOOT,
    oif: VETH0,
    prefsrc: "2001:db8:50::1",
  });
  const tSrc = v6(T, "2001:db8:60::/64", { oif: VETH0, prefsrc: "2001:db8:50::1" });
  const tOtherSrc = v6(T, "2001:db8:61::/64", { oif: VETH0, prefsrc: "2001:db8:51::1" });
  const view = makeView({
    addresses: [ADDR4, ADDR6, addr51, ADDR_FE80],
    routes: [
      MAIN_VIA,
      MAIN_CONNECTED,
      MAIN_PREFIX6,
      prefix51,
      mainSrc,
      MAIN_FE80,
      COPY4,
      COPY6,
      tSrc,
      tOtherSrc,
    ],
  });
  replay(view, [
    ["addr", "del", ADDR6],
    ["route", "del", LOCAL6],
    ["route", "del", MAIN_PREFIX6],
  ]);
  const { prefsrc: _a, ...mainNoSrc } = mainSrc;
  const { prefsrc: _b, ...tNoSrc } = tSrc;
  assertTable(view, MAIN, [MAIN_VIA, MAIN_CONNECTED, prefix51, mainNoSrc, MAIN_FE80]);
  assertTable(view, T, [COPY4, COPY6, tNoSrc, tOtherSrc]);
  // The stripped route is still found by the kernel's later delete (which carries no src).
  assert.equal(view.applyRoute("del", tNoSrc), true);
});

Deno.test("(e) expiring IPv6 routes are deleted by the kernel's own event", () => {
  const view = makeView();
  const expiring = [
    v6(MAIN, "2001:db8:70::/64", { protocol: RTPROT.BOOT, oif: VETH0, expires: 3 }),
    v6(T, "2001:db8:70::/64", { oif: VETH0, expires: 3 }),
  ];
  for (const r of expiring) view.applyRoute("new", r, NLM_F.CREATE | NLM_F.EXCL);
  assert.equal(view.routes(T).length, 3);
  // The GC's RTM_DELROUTE carries no RTA_EXPIRES.
  for (const { expires: _, ...r } of [...expiring].reverse()) view.applyRoute("del", r);
  assertTable(view, MAIN, [MAIN_VIA, MAIN_CONNECTED, MAIN_PREFIX6, MAIN_FE80]);
  assertTable(view, T, [COPY4, COPY6]);
});

// ---- (f) adding via a link without carrier; (g) carrier loss -------------------------------------

Deno.test("(f) routes added via a link without carrier carry linkdown until it returns", () => {
  const view = makeView({ routes: [] });
  replay(view, [
    ["link", "new", link(VETH0, FLAGS_NO_CARRIER)],
    ["route", "new", { ...COPY4, flags: RTNH_F.LINKDOWN }, NLM_F.CREATE | NLM_F.EXCL],
    [
      "route",
      "new",
      v6(T, "2001:db8:50::/64", { oif: VETH0, flags: RTNH_F.LINKDOWN }),
      NLM_F.CREATE | NLM_F.EXCL,
    ],
  ]);
  assertTable(view, T, [
    { ...COPY4, flags: RTNH_F.LINKDOWN },
    v6(T, "2001:db8:50::/64", { oif: VETH0, flags: RTNH_F.LINKDOWN }),
  ]);
  view.applyLink("new", link(VETH0, FLAGS_UP));
  assertTable(view, T, [COPY4, v6(T, "2001:db8:50::/64", { oif: VETH0 })]);
});

Deno.test("(g) carrier loss flags every route via the link linkdown, silently; return clears", () => {
  const host = v4(T, "10.80.0.0/16", { scope: RT_SCOPE.HOST, oif: VETH0 });
  const local = v4(T, "10.81.0.1/32", { type: RTN.LOCAL, scope: RT_SCOPE.HOST, oif: VETH0 });
  const bcast = v4(T, "10.82.0.255/32", { type: RTN.BROADCAST, oif: VETH0 });
  const local6 = v6(T, "2001:db8:83::1/128", { type: RTN.LOCAL, oif: VETH0 });
  const anycast6 = v6(T, "2001:db8:84::/128", { type: RTN.ANYCAST, oif: VETH0 });
  const routes = [
    MAIN_VIA,
    MAIN_CONNECTED,
    MAIN_PREFIX6,
    MAIN_FE80,
    COPY4,
    COPY6,
    host,
    local,
    bcast,
    local6,
    anycast6,
  ];
  const view = makeView({ routes });
  const changed = view.applyLink("new", link(VETH0, FLAGS_NO_CARRIER));
  assert.equal(changed, true);
  const down = (r: Route): Route => ({ ...r, flags: RTNH_F.LINKDOWN });
  assertTable(view, MAIN, [MAIN_VIA, MAIN_CONNECTED, MAIN_PREFIX6, MAIN_FE80].map(down));
  assertTable(view, T, [
    down(COPY4),
    down(COPY6),
    host,
    local,
    down(bcast),
    local6,
    down(anycast6),
  ]);
  view.applyLink("new", link(VETH0, FLAGS_UP));
  assertTable(view, MAIN, [MAIN_VIA, MAIN_CONNECTED, MAIN_PREFIX6, MAIN_FE80]);
  assertTable(view, T, [COPY4, COPY6, host, local, bcast, local6, anycast6]);
});

Deno.test("(g) carrier loss on one hop of a multipath route flags that hop", () => {
  const view = twoLinkView();
  view.applyLink("new", link(VETH2, FLAGS_NO_CARRIER));
  const routes = view.routes(T);
  assert.deepEqual(
    routes.find((r) => r.dst === "10.70.0.0")?.multipath,
    [hop(VETH0, "192.168.50.2"), hop(VETH2, "192.168.60.2", RTNH_F.LINKDOWN)],
  );
  assert.deepEqual(
    routes.find((r) => r.dst === "2001:db8:70::")?.multipath,
    [hop(VETH0, "2001:db8:50::2"), hop(VETH2, "2001:db8:60::2", RTNH_F.LINKDOWN)],
  );
  assert.equal(routes.find((r) => r.dst === "10.70.0.0")?.flags, 0);
});

// ---- (h) MTU; nexthop objects -------------------------------------------------------------------

Deno.test("(h) an MTU change with IPv6 metrics via the link asks for a resync", () => {
  const metrics = { mtu: 1400 };
  const v4m = { ...COPY4, metrics };
  const plain = makeView({ routes: [v4m, COPY6] });
  plain.applyLink("new", link(VETH0, FLAGS_UP, 1300));
  assert.equal(plain.needsResync, undefined, "IPv4 metrics and metric-less IPv6 routes stay");
  const view = makeView({ routes: [v4m, { ...COPY6, metrics }] });
  view.applyLink("new", link(VETH0, FLAGS_UP, 1300));
  assert.match(view.needsResync ?? "", /MTU/);
});

Deno.test("routes on nexthop objects are not guessed: resync", () => {
  const view = makeView({ routes: [v4(T, "10.0.0.0/8", { nhId: 7, oif: VETH0 })] });
  view.applyLink("new", link(VETH0, FLAGS_DOWN));
  assert.match(view.needsResync ?? "", /nexthop object/);
  assert.equal(view.routes(T).length, 1);
});

Deno.test("nexthop objects: kept from dumps and events; a deleted one takes its routes along", () => {
  const nh = (id: number, extra = {}) => ({
    family: 2,
    scope: 253,
    protocol: 0,
    flags: 0,
    id,
    ...extra,
  });
  const viaObject = v4(T, "10.0.0.0/8", { nhId: 7, oif: VETH0, scope: RT_SCOPE.UNIVERSE });
  const mainViaObject = v4(MAIN, "10.0.0.0/8", { nhId: 7, oif: VETH0, scope: RT_SCOPE.UNIVERSE });
  const other = v4(T, "10.1.0.0/16", { nhId: 8, oif: VETH0, scope: RT_SCOPE.UNIVERSE });
  const view = makeView({ routes: [viaObject, mainViaObject, other] });
  view.reset("nexthops", [nh(7, { oif: VETH0 }), nh(8, { oif: VETH0 })]);
  assert.deepEqual([...view.nexthops().keys()], [7, 8]);
  assert.equal(view.applyNexthop("new", nh(7, { oif: VETH0 })), false, "the same object again");
  assert.equal(view.applyNexthop("new", nh(7, { oif: VETH0, gateway: "192.168.50.9" })), true);
  assert.equal(view.nexthops().get(7)?.gateway, "192.168.50.9");
  // The kernel removes IPv4 routes of a deleted object without a notification.
  assert.equal(view.applyNexthop("del", nh(7)), true);
  assert.deepEqual(view.routes(T), [other]);
  assert.deepEqual(view.routes(MAIN), []);
  assert.equal(view.nexthops().has(7), false);
  assert.equal(view.applyNexthop("del", nh(7)), false, "deleting it again changes nothing");
  // Unmodelled attributes (an encapsulation) are kept, as copies.
  const data = new Uint8Array([1, 2, 3, 4]);
  view.applyNexthop("new", nh(9, { oif: VETH0, other: [{ type: 8, data }] }));
  assert.notEqual(view.nexthops().get(9)?.other?.[0].data, data);
  assert.deepEqual(view.nexthops().get(9)?.other?.[0].data, data);
});

// ---- replace / append / ECMP (header flags as the kernel sent them) ------------------------------

Deno.test("IPv4: replace takes the first of (tos, metric), append goes last, create first", () => {
  const view = makeView({ routes: [] });
  const r = (oif: number, extra: Partial<Route> = {}) => v4(T, "10.1.0.0/16", { oif, ...extra });
  const via9 = r(VETH0, { scope: RT_SCOPE.UNIVERSE, gateway: "192.168.50.9" });
  replay(view, [
    ["route", "new", r(VETH0), NLM_F.CREATE | NLM_F.EXCL],
    ["route", "new", r(VETH2), NLM_F.REPLACE],
    ["route", "new", v4(T, "10.2.0.0/16", { oif: VETH2 }), NLM_F.CREATE | NLM_F.EXCL],
    ["route", "new", r(VETH0), NLM_F.CREATE | NLM_F.APPEND],
    ["route", "new", via9, NLM_F.CREATE],
  ]);
  assert.deepEqual(
    view.routes(T).filter((x) => x.dst === "10.1.0.0"),
    [via9, r(VETH2), r(VETH0)],
    "kernel order as `ip route show` listed it",
  );
  replay(view, [
    ["route", "new", r(VETH0, { priority: 5 }), NLM_F.CREATE | NLM_F.EXCL],
    ["route", "del", via9],
    ["route", "new", r(VETH0, { type: RTN.UNREACHABLE, oif: undefined }), NLM_F.REPLACE],
  ]);
  assertTable(view, T, [
    r(VETH0, { type: RTN.UNREACHABLE, oif: undefined }),
    r(VETH0),
    r(VETH0, { priority: 5 }),
    v4(T, "10.2.0.0/16", { oif: VETH2 }),
  ]);
  assert.equal(view.needsResync, undefined);
});

Deno.test("IPv6: replace with several candidates is ambiguous and asks for a resync", () => {
  const view = makeView({ routes: [] });
  const r = (oif: number) => v6(T, "2001:db8:1::/64", { oif });
  replay(view, [
    ["route", "new", r(VETH0), NLM_F.CREATE | NLM_F.EXCL],
    ["route", "new", r(VETH2), NLM_F.CREATE | NLM_F.APPEND],
  ]);
  assert.equal(view.needsResync, undefined);
  view.applyRoute("new", r(VETH2), NLM_F.REPLACE);
  assert.match(view.needsResync ?? "", /ambiguous/);
  // The kernel replaced the first one: two identical routes (what `ip -6 route show` listed).
  assert.deepEqual(view.routes(T), [r(VETH2), r(VETH2)]);
});

Deno.test("IPv6: a replace with one candidate swaps it, whatever its device", () => {
  const view = makeView({ routes: [COPY6] });
  const moved = { ...COPY6, oif: VETH2 };
  assert.equal(view.applyRoute("new", moved, NLM_F.REPLACE), true);
  assertTable(view, T, [moved]);
  assert.equal(view.needsResync, undefined);
});

Deno.test("IPv6 ECMP: append merges, a hop delete collapses, replace swaps the group", () => {
  const view = makeView({ routes: [] });
  const gw = (oif: number, gateway: string) => v6(T, "2001:db8:2::/64", { oif, gateway });
  const g50 = gw(VETH0, "2001:db8:50::2");
  const mp = (hops: Nexthop[]) => v6(T, "2001:db8:2::/64", { multipath: hops });
  const dev2 = v6(T, "2001:db8:2::/64", { oif: VETH2 });
  replay(view, [
    ["route", "new", g50, NLM_F.CREATE | NLM_F.EXCL],
    // The notification of the appended sibling lists the whole group, new hop first.
    [
      "route",
      "new",
      mp([hop(VETH2, "2001:db8:60::2"), hop(VETH0, "2001:db8:50::2")]),
      NLM_F.CREATE | NLM_F.APPEND,
    ],
    ["route", "new", dev2, NLM_F.CREATE | NLM_F.APPEND],
  ]);
  assertTable(view, T, [
    mp([hop(VETH2, "2001:db8:60::2"), hop(VETH0, "2001:db8:50::2")]),
    dev2,
  ]);
  view.applyRoute("del", g50);
  assertTable(view, T, [gw(VETH2, "2001:db8:60::2"), dev2]);
  view.applyRoute(
    "new",
    mp([hop(VETH0, "2001:db8:50::2"), hop(VETH2, "2001:db8:60::2")]),
    NLM_F.REPLACE,
  );
  view.applyRoute("new", gw(VETH0, "2001:db8:50::3"), NLM_F.REPLACE);
  // What `ip -6 route show table 539098368` listed at the end.
  assertTable(view, T, [gw(VETH0, "2001:db8:50::3"), dev2]);
  assert.equal(view.needsResync, undefined);
});

Deno.test("IPv6 ECMP: a merge the view cannot reconstruct asks for a resync", () => {
  const view = makeView({ routes: [] });
  view.applyRoute("new", v6(T, "2001:db8:2::/64", { oif: VETH0, gateway: "2001:db8:50::2" }));
  view.applyRoute(
    "new",
    v6(T, "2001:db8:2::/64", { oif: VETH2, gateway: "2001:db8:60::2" }),
    NLM_F.CREATE | NLM_F.APPEND,
  );
  assert.match(view.needsResync ?? "", /ECMP/);
});

Deno.test("RA routes with the same metric via different routers stay separate", () => {
  const view = makeView({ routes: [] });
  const ra = (gateway: string) =>
    v6(MAIN, "::/0", { protocol: RTPROT.RA, oif: VETH0, gateway, expires: 1800 });
  view.applyRoute("new", ra("fe80::1"), NLM_F.CREATE);
  view.applyRoute("new", ra("fe80::2"), NLM_F.CREATE);
  assert.equal(view.routes(MAIN).length, 2);
  assert.equal(view.needsResync, undefined);
});

Deno.test("routesWithPrefix always agrees with a scan of the table (random events)", () => {
  let seed = 7;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const view = new TableView({ tables: [254, 100] });
  const base = {
    family: 2,
    srcLen: 0,
    tos: 0,
    protocol: 2,
    scope: 253,
    type: 1,
    flags: 0,
  };
  const prefixes = ["10.0.0.0/8", "10.1.0.0/16", "10.1.0.0/24", "192.168.1.0/24"];
  const make = () => {
    const [dst, len] = prefixes[rand(prefixes.length)].split("/");
    return {
      ...base,
      table: rand(2) ? 254 : 100,
      dst,
      dstLen: Number(len),
      oif: 2 + rand(3),
      priority: rand(3) * 100,
    };
  };
  for (let step = 0; step < 2000; step++) {
    const r = make();
    const op = rand(100);
    if (op < 48) view.applyRoute("new", r, rand(2) ? NLM_F.REPLACE : NLM_F.CREATE);
    else if (op < 96) view.applyRoute("del", r, 0);
    else if (op < 98) {
      // The link goes down: the kernel drops its IPv4 routes silently, and so does the view.
      view.applyLink("new", { index: r.oif, name: `e${r.oif}`, flags: 0x1002, type: 1 });
    } else view.reset("routes", [make(), make()]);
    for (const table of [254, 100]) {
      for (const p of prefixes) {
        const [dst, len] = p.split("/");
        const scan = view.routes(table).filter((x) => x.dst === dst && x.dstLen === Number(len));
        const indexed = view.routesWithPrefix({ family: 2, table, dst, dstLen: Number(len) });
        assert.deepEqual(
          indexed.map((x) => viewKey(x)).sort(),
          scan.map((x) => viewKey(x)).sort(),
          `step ${step}, table ${table}, ${p}`,
        );
      }
    }
  }
});
