/**
 * The planner tests' laptop (its links), the copy the spec expects, a VPN's default route; the
 * route builders themselves are in tests/_fixtures/routes.ts.
 *
 * @module
 */

import { AF, IFF, RT_SCOPE, RTPROT } from "../../src/netlink/constants.ts";
import { address, FIREZONE, OURS, v4, v6 } from "../_fixtures/routes.ts";
import { type PlanOptions, planOptions } from "../../src/planner/options.ts";
import type { PlanInput } from "../../src/planner/plan.ts";
import type { Address } from "../../src/netlink/address.ts";
import type { Link } from "../../src/netlink/link.ts";
import type { Nexthop, Route } from "../../src/netlink/route.ts";

export { FIREZONE, hop, OURS, v4, v6, WG_QUICK } from "../_fixtures/routes.ts";

/** Interface indexes of {@linkcode LINKS}. */
export const IF = Object.freeze({
  lo: 1,
  eth0: 2,
  eth1: 3,
  wlan0: 4,
  tun0: 5,
  docker0: 6,
  loop1: 7,
  wg0: 8,
});

/** A laptop's links: loopback, two ethernets, wifi, a tun, docker, a second loopback, wireguard. */
export const LINKS: readonly Link[] = Object.freeze([
  { index: IF.lo, name: "lo", flags: IFF.UP | IFF.LOOPBACK, type: 772 },
  { index: IF.eth0, name: "eth0", flags: IFF.UP, type: 1 },
  { index: IF.eth1, name: "eth1", flags: IFF.UP, type: 1 },
  { index: IF.wlan0, name: "wlan0", flags: IFF.UP, type: 1 },
  { index: IF.tun0, name: "tun0", flags: IFF.UP | IFF.POINTOPOINT | IFF.NOARP, type: 65534 },
  { index: IF.docker0, name: "docker0", flags: IFF.UP, type: 1 },
  { index: IF.loop1, name: "loop1", flags: IFF.UP | IFF.LOOPBACK, type: 772 },
  { index: IF.wg0, name: "wg0", flags: IFF.UP | IFF.POINTOPOINT | IFF.NOARP, type: 65534 },
]);

/**
 * The copy linkmirror makes of `route` in `table`: what the planner's adds must equal. Written
 * from the spec (docs/copies.md), not from the planner: every forwarding attribute, the next
 * hops by nexthop id when there is one, only the `onlink` flag.
 */
export function copyOf(route: Route, table: number, protocol = OURS): Route {
  const ONLINK = 4;
  const copy: Route = {
    family: route.family,
    table,
    dst: route.dst,
    dstLen: route.dstLen,
    srcLen: 0,
    tos: route.tos,
    protocol,
    scope: route.scope,
    type: route.type,
    flags: route.flags & ONLINK,
  };
  if (route.nhId !== undefined) copy.nhId = route.nhId;
  else if (route.multipath !== undefined) {
    copy.multipath = route.multipath.map((hop) => {
      const h: Nexthop = { oif: hop.oif, flags: hop.flags & ONLINK, hops: hop.hops };
      if (hop.gateway !== undefined) h.gateway = hop.gateway;
      if (hop.flow !== undefined) h.flow = hop.flow;
      return h;
    });
  } else {
    if (route.oif !== undefined) copy.oif = route.oif;
    if (route.gateway !== undefined) copy.gateway = route.gateway;
  }
  if (route.prefsrc !== undefined) copy.prefsrc = route.prefsrc;
  copy.priority = copyMetricOf(route);
  if (route.metrics !== undefined) copy.metrics = { ...route.metrics };
  if (route.family === AF.INET && route.flow !== undefined) copy.flow = route.flow;
  if (route.family === AF.INET6 && route.pref !== undefined) copy.pref = route.pref;
  if (route.family === AF.INET6 && route.expires !== undefined) copy.expires = route.expires;
  return copy;
}

/**
 * The metric of a copy, restated: the source's (IPv6 without one: 1024) plus 2^31, at most
 * 2^32 - 1.
 */
export function copyMetricOf(route: Pick<Route, "family" | "priority">): number {
  const source = route.priority ?? (route.family === AF.INET6 ? 1024 : 0);
  return Math.min(source + 2 ** 31, 2 ** 32 - 1);
}

/** An interface address: `cidr` is `address/prefixLen`; IPv6 scope global unless given. */
export function addr(cidr: string, index: number, scope: number = RT_SCOPE.UNIVERSE): Address {
  return address(cidr, index, { scope });
}

/**
 * The laptop's addresses: IPv4 on wifi and docker, a SLAAC address in `2001:db8:1::/64` on wifi,
 * link-local addresses.
 */
export const ADDRESSES: readonly Address[] = Object.freeze([
  addr("192.168.1.50/24", IF.wlan0),
  addr("172.17.0.1/16", IF.docker0),
  addr("2001:db8:1::50/64", IF.wlan0),
  addr("fe80::50/64", IF.wlan0, RT_SCOPE.LINK),
  addr("fe80::1/64", IF.docker0, RT_SCOPE.LINK),
]);

/**
 * An IPv4 route of main that an administrator added (`proto static`, scope universe) via `oif`,
 * overridden by `extra` (its `gateway`, `multipath` or `nhId`).
 */
export function static4(cidr: string, oif: number | undefined, extra: Partial<Route> = {}): Route {
  return v4(cidr, oif, { protocol: RTPROT.STATIC, scope: RT_SCOPE.UNIVERSE, ...extra });
}

/** A VPN's default route in `table` through `oif` (`proto boot`, like `ip route add`). */
export function vpnDefault(family: number, table: number, oif: number): Route {
  const build = family === AF.INET ? v4 : v6;
  const extra: Partial<Route> = { table, protocol: RTPROT.BOOT, scope: RT_SCOPE.UNIVERSE };
  if (family === AF.INET6) extra.priority = 1024;
  return build(family === AF.INET ? "0.0.0.0/0" : "::/0", oif, extra);
}

/** A target table: the VPN's default routes (both families) through `oif`, then `routes`. */
export function vpnTable(
  table: number = FIREZONE,
  oif: number = IF.tun0,
  ...routes: Route[]
): [number, Route[]] {
  return [table, [vpnDefault(AF.INET, table, oif), vpnDefault(AF.INET6, table, oif), ...routes]];
}

/** The planner's input: `source` and the `targets` on the laptop ({@linkcode LINKS}, its addresses). */
export function planInputOf(
  source: Route[],
  targets: Array<[number, Route[]]>,
  options: Partial<PlanOptions> = {},
  links: PlanInput["links"] = LINKS,
  addresses: PlanInput["addresses"] = ADDRESSES,
): PlanInput {
  return { source, targets: new Map(targets), links, addresses, options: planOptions(options) };
}
