/**
 * The namespace the TableView cases were recorded in (kernel 6.18.44, see the comment at the top of
 * src/daemon/table_view.ts): veth0 (2) with 192.168.50.1/24 and 2001:db8:50::1/64, copies in
 * 539098368, and for the multipath cases a second link veth2 (3) with 192.168.60.1/24 and
 * 2001:db8:60::1/64. Also: replaying `ip monitor` events into a view and comparing a table with
 * the `ip -d route show` dump taken afterwards.
 *
 * @module
 */
import assert from "node:assert/strict";
import { TableView } from "../../src/daemon/table_view.ts";
import { viewKey } from "../../src/planner/route_identity.ts";
import type { Address } from "../../src/netlink/address.ts";
import { IFF, RT_SCOPE, RT_TABLE, RTN, RTNH_F, RTPROT } from "../../src/netlink/constants.ts";
import type { Link } from "../../src/netlink/link.ts";
import type { Route } from "../../src/netlink/route.ts";
import { address, address6, FIREZONE, hop, link as ether, route } from "../_fixtures/routes.ts";

export { hop };

/** The copies' table. */
export const T = FIREZONE;
/** `main`. */
export const MAIN = RT_TABLE.MAIN;
/** `local`: its routes come with the events, and the view ignores them. */
export const LOCAL = RT_TABLE.LOCAL;
/** veth0's index. */
export const VETH0 = 2;
/** veth2's index. */
export const VETH2 = 3;
/** A hop whose link went down. */
export const DEAD_LINKDOWN = RTNH_F.DEAD | RTNH_F.LINKDOWN;

/** `<BROADCAST,MULTICAST,UP,LOWER_UP>` and running. */
export const FLAGS_UP = IFF.BROADCAST | IFF.MULTICAST | IFF.UP | IFF.LOWER_UP | IFF.RUNNING;
/** After `ip link set down`. */
export const FLAGS_DOWN = IFF.BROADCAST | IFF.MULTICAST;
/** Up without carrier. */
export const FLAGS_NO_CARRIER = IFF.BROADCAST | IFF.MULTICAST | IFF.UP;
/** Seen right after `ip link set up`: `<NO-CARRIER,...,UP,LOWER_UP>` (operstate not yet up). */
export const FLAGS_COMING_UP = IFF.BROADCAST | IFF.MULTICAST | IFF.UP | IFF.LOWER_UP;

/** Link `index` of the namespace (lo, veth0 or veth2) with `flags`. */
export function link(index: number, flags: number, mtu = 1500): Link {
  const name = index === VETH0 ? "veth0" : index === VETH2 ? "veth2" : "lo";
  return ether(index, name, flags, { mtu });
}

/** An IPv4 route in `table` as linkmirror makes it (proto 77, scope link). */
export function v4(table: number, cidr: string, extra: Partial<Route> = {}): Route {
  return route(table, cidr, { protocol: 77, ...extra });
}

/** An IPv6 route in `table` as linkmirror makes it (proto 77, metric 1024, pref medium). */
export function v6(table: number, cidr: string, extra: Partial<Route> = {}): Route {
  return route(table, cidr, { protocol: 77, priority: 1024, pref: 0, ...extra });
}

/** An IPv4 address on veth0 (labelled veth0), overridden by `extra`. */
export function addr4(local: string, prefixLen: number, extra: Partial<Address> = {}): Address {
  return address(`${local}/${prefixLen}`, VETH0, { label: "veth0", ...extra });
}

/** An IPv6 address on veth0, overridden by `extra`. */
export function addr6(address: string, prefixLen: number, extra: Partial<Address> = {}): Address {
  return address6(VETH0, address, prefixLen, extra);
}

const KERNEL = RTPROT.KERNEL;
/** 192.168.50.0/24, the connected route of veth0. */
export const MAIN_CONNECTED = v4(MAIN, "192.168.50.0/24", {
  protocol: KERNEL,
  oif: VETH0,
  prefsrc: "192.168.50.1",
});
/** 10.9.0.0/16 via 192.168.50.2. */
export const MAIN_VIA = v4(MAIN, "10.9.0.0/16", {
  protocol: RTPROT.BOOT,
  scope: RT_SCOPE.UNIVERSE,
  oif: VETH0,
  gateway: "192.168.50.2",
});
/** 2001:db8:50::/64, the prefix route of veth0. */
export const MAIN_PREFIX6 = v6(MAIN, "2001:db8:50::/64", {
  protocol: KERNEL,
  priority: 256,
  oif: VETH0,
});
/** fe80::/64 on veth0. */
export const MAIN_FE80 = v6(MAIN, "fe80::/64", { protocol: KERNEL, priority: 256, oif: VETH0 });
/** The copy of the IPv4 connected route. */
export const COPY4 = v4(T, "192.168.50.0/24", { oif: VETH0, prefsrc: "192.168.50.1" });
/** The copy of the IPv6 prefix route. */
export const COPY6 = v6(T, "2001:db8:50::/64", { priority: 256, oif: VETH0 });
/** veth0's IPv4 address. */
export const ADDR4 = addr4("192.168.50.1", 24);
/** veth0's global IPv6 address. */
export const ADDR6 = addr6("2001:db8:50::1", 64);
/** veth0's link-local address. */
export const ADDR_FE80 = addr6("fe80::fcb0:a5ff:fedc:cfa", 64, {
  scope: RT_SCOPE.LINK,
  flags: 0x80,
});

/** The local route of ADDR6. */
export const LOCAL6 = v6(LOCAL, "2001:db8:50::1/128", {
  protocol: KERNEL,
  type: RTN.LOCAL,
  priority: 0,
  oif: VETH0,
});
/** The local route of ADDR4. */
export const LOCAL4 = v4(LOCAL, "192.168.50.1/32", {
  protocol: KERNEL,
  type: RTN.LOCAL,
  scope: RT_SCOPE.HOST,
  oif: VETH0,
  prefsrc: "192.168.50.1",
});
/** The broadcast route of ADDR4. */
export const BROADCAST4 = v4(LOCAL, "192.168.50.255/32", {
  protocol: KERNEL,
  type: RTN.BROADCAST,
  oif: VETH0,
  prefsrc: "192.168.50.1",
});

/** What a view starts from (each part defaulting to the one-link namespace). */
export interface Setup {
  /** The links dump. */
  links?: Link[];
  /** The addresses dump. */
  addresses?: Address[];
  /** The routes dump. */
  routes?: Route[];
}

/** The view of `main` and 539098368 after the dumps of `setup`. */
export function makeView(setup: Setup = {}): TableView {
  const view = new TableView({ tables: [MAIN, T] });
  view.reset("links", setup.links ?? [link(1, IFF.UP | IFF.LOOPBACK), link(VETH0, FLAGS_UP)]);
  view.reset("addresses", setup.addresses ?? [ADDR4, ADDR6, ADDR_FE80]);
  view.reset(
    "routes",
    setup.routes ?? [MAIN_VIA, MAIN_CONNECTED, MAIN_PREFIX6, MAIN_FE80, COPY4, COPY6],
  );
  return view;
}

/** One event as `ip monitor` showed it (routes with their header flags). */
export type Event =
  | ["route", "new" | "del", Route, number?]
  | ["link", "new" | "del", Link]
  | ["addr", "new" | "del", Address];

/** Applies `events` in order; returns whether each changed the view. */
export function replay(view: TableView, events: readonly Event[]): boolean[] {
  return events.map((event) => {
    if (event[0] === "route") return view.applyRoute(event[1], event[2], event[3] ?? 0);
    if (event[0] === "link") return view.applyLink(event[1], event[2]);
    return view.applyAddress(event[1], event[2]);
  });
}

function sorted(routes: readonly Route[]): Route[] {
  return [...routes].sort((a, b) => viewKey(a).localeCompare(viewKey(b)));
}

/** The view's table equals the dump (routes compared whole, in any order). */
export function assertTable(view: TableView, table: number, dump: readonly Route[]): void {
  assert.deepEqual(sorted(view.routes(table)), sorted(dump), `table ${table}`);
}

/** Events of `ip link set veth0 down` (case a), as ip monitor showed them. */
export const LINK_DOWN_EVENTS: readonly Event[] = [
  ["link", "new", link(VETH0, FLAGS_DOWN)],
  ["route", "del", COPY6],
  ["route", "del", MAIN_PREFIX6],
  ["route", "del", MAIN_FE80],
  ["route", "del", LOCAL6],
  ["addr", "del", ADDR6],
  ["addr", "del", ADDR_FE80],
];
