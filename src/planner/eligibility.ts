/**
 * Which source routes are mirrored, and why the others are not.
 *
 * @module
 */

import { AF, IFF, RT_SCOPE, RTA, RTM_F, RTN } from "../netlink/constants.ts";
import { cidrOverlaps, maxPrefixLen } from "../netlink/ip.ts";
import type { Attribute } from "../netlink/attributes.ts";
import type { Link } from "../netlink/link.ts";
import type { NexthopObject } from "../netlink/nexthop.ts";
import type { Route } from "../netlink/route.ts";
import type { PlanOptions } from "./options.ts";

/**
 * Why a source route is not mirrored, with what each reason means. Source-level reasons are
 * checked in this order and the first that applies is reported (`outside-local-space` after the
 * shape, see local_space.ts); `vpn-interface`, `duplicate`, `gateway-off-lan` and `vpn-route-wins`
 * are decided per target table.
 */
export const EXCLUSION_REASONS = Object.freeze(
  {
    family: "its address family is not mirrored",
    cloned: "it is a cloned (cache) entry, not a table route",
    "own-protocol": "it carries linkmirror's own protocol, so it is a copy, not a source",
    "not-unicast": "its type is not unicast",
    default: "it is a default route (prefix length 0)",
    "source-prefix": "it matches on a source prefix, which a copy would drop",
    "nexthop-object":
      "its nexthop object is unknown, a blackhole, for the bridge FDB, or has a member that is",
    gateway: "it has a gateway (see --include-gateway-routes), or one of its next hops has",
    encap: "it has a lightweight-tunnel encapsulation, or one of its next hops has",
    scope:
      "an IPv4 route whose scope is not link (global for a gateway, multipath or nexthop-object route)",
    "no-interface": "it has no output interface, or one of its next hops has none",
    "unknown-interface": "its output interface (or a next hop's) is not among the known links",
    loopback: "its output interface (or a next hop's) is the loopback",
    "excluded-device": "its output interface is excluded (--exclude-dev), or a next hop's is",
    "excluded-prefix": "its destination overlaps an excluded prefix (--exclude)",
    "outside-local-space":
      "its destination is outside the local address space (private, link-local, ULA, a /64 of the " +
      "host's own on that link; see --allow-prefix)",
    "vpn-interface": "its output interface is one the target table itself routes through",
    duplicate: "an earlier source route already gives the same copy in that table",
    "gateway-off-lan":
      "a gateway is not inside an on-link prefix mirrored into that table on the same interface",
    "vpn-route-wins":
      "a route of the VPN's own that is not a catch-all covers it in that table (see --precedence)",
  } as const,
);

/** Why a source route is not mirrored; see {@linkcode EXCLUSION_REASONS}. */
export type ExclusionReason = keyof typeof EXCLUSION_REASONS;

/** One next hop of a route, wherever it is written: the route itself, a multipath hop, an object. */
export interface HopView {
  /** Output interface index (0 or undefined: none). */
  oif?: number;
  /** Gateway, as text. */
  gateway?: string;
  /** Unmodelled attributes of the hop (`RTA_VIA`, encapsulation...). */
  other?: readonly Attribute[];
}

/**
 * The next hops of `route`: those of its nexthop object (a group's members; `undefined` when
 * the object or a member is not in `nexthops`, or is a blackhole or FDB object), else its
 * multipath hops, else the route itself.
 *
 * @example
 * ```ts
 * import { nextHops } from "./eligibility.ts";
 * const nh = { family: 2, scope: 253, protocol: 0, flags: 0, id: 10, oif: 3 };
 * nextHops({ family: 2, table: 254, dst: "10.0.0.0", dstLen: 8, srcLen: 0, tos: 0, protocol: 4,
 *   scope: 0, type: 1, flags: 0, nhId: 10 }, new Map([[10, nh]])); // [{ oif: 3 }]
 * ```
 */
export function nextHops(
  route: Route,
  nexthops: ReadonlyMap<number, NexthopObject>,
): HopView[] | undefined {
  if (route.nhId !== undefined) {
    const object = nexthops.get(route.nhId);
    if (object === undefined) return undefined;
    const members = object.group === undefined
      ? [object]
      : object.group.map((m) => nexthops.get(m.id));
    const hops: HopView[] = [];
    for (const member of members) {
      if (member === undefined || member.blackhole || member.fdb || member.group !== undefined) {
        return undefined;
      }
      const hop: HopView = { oif: member.oif };
      if (member.gateway !== undefined) hop.gateway = member.gateway;
      if (member.other !== undefined) hop.other = member.other;
      hops.push(hop);
    }
    return hops;
  }
  if (route.multipath !== undefined) return route.multipath;
  return [{ oif: route.oif, gateway: route.gateway, other: route.other }];
}

const NO_NEXTHOPS: ReadonlyMap<number, NexthopObject> = new Map();

/**
 * The first source-level reason not to mirror `route`, or `undefined` if it is eligible (still
 * subject to the per-table `vpn-interface`, `duplicate` and `gateway-off-lan` rules). Eligible
 * are unicast routes, not default, not cloned, without source prefix, of a mirrored family, not
 * overlapping an excluded prefix, whose every next hop ({@linkcode nextHops}: the route itself,
 * each multipath hop, or each member of its nexthop object) has a known output interface that is
 * not the loopback nor excluded, and no gateway, `RTA_VIA` or encapsulation. IPv4 single-path
 * routes must be of scope link; multipath and nexthop-object ones of scope link or global.
 *
 * With `options.includeGatewayRoutes`, next hops with an `RTA_GATEWAY` are allowed too (an IPv4
 * single-path gateway route must then be of scope global); whether each gateway is on a mirrored
 * LAN is decided per table ({@linkcode gatewayOnMirroredLan}).
 *
 * `nexthops` are the namespace's nexthop objects; without them (`undefined`), a route using one
 * is judged by its static fields only (as the daemon does to pick candidates before it knows
 * the objects).
 *
 * @example
 * ```ts
 * import { sourceExclusion } from "./eligibility.ts";
 * import { planOptions } from "./options.ts";
 * const links = new Map([[2, { index: 2, name: "eth0", flags: 0, type: 1 }]]);
 * const lan = { family: 2, table: 254, dst: "192.168.1.0", dstLen: 24, srcLen: 0, tos: 0,
 *   protocol: 2, scope: 253, type: 1, flags: 0, oif: 2 };
 * sourceExclusion(lan, links, planOptions()); // undefined
 * sourceExclusion({ ...lan, gateway: "192.168.1.1" }, links, planOptions()); // "gateway"
 * ```
 */
export function sourceExclusion(
  route: Route,
  links: ReadonlyMap<number, Link>,
  options: PlanOptions,
  nexthops?: ReadonlyMap<number, NexthopObject>,
): ExclusionReason | undefined {
  if (!options.families.includes(route.family)) return "family";
  if (route.family !== AF.INET && route.family !== AF.INET6) return "family";
  if ((route.flags & RTM_F.CLONED) !== 0) return "cloned";
  if (route.protocol === options.protocol) return "own-protocol";
  if (route.type !== RTN.UNICAST) return "not-unicast";
  if (route.dstLen === 0) return "default";
  if (route.srcLen !== 0) return "source-prefix";
  const reason = route.nhId === undefined && route.multipath === undefined
    ? singlePathExclusion(route, links, options)
    : hopsExclusion(route, links, options, nexthops);
  if (reason !== undefined) return reason;
  if (options.exclude.length === 0) return undefined;
  const dst = { family: route.family, address: route.dst, prefixLen: route.dstLen };
  if (options.exclude.some((prefix) => cidrOverlaps(dst, prefix))) return "excluded-prefix";
  return undefined;
}

/**
 * The next-hop reasons of {@linkcode sourceExclusion} for a route that is its own single next
 * hop (no nexthop object, no multipath): the checks of `hopsExclusion`, in its order, without
 * building the hop list.
 */
function singlePathExclusion(
  route: Route,
  links: ReadonlyMap<number, Link>,
  options: PlanOptions,
): ExclusionReason | undefined {
  const viaGateway = route.gateway !== undefined;
  const { other } = route;
  const via = other !== undefined && hasAttribute(other, RTA.VIA);
  if (via || (viaGateway && !options.includeGatewayRoutes)) return "gateway";
  if (
    other !== undefined && (hasAttribute(other, RTA.ENCAP) || hasAttribute(other, RTA.ENCAP_TYPE))
  ) return "encap";
  if (
    route.family === AF.INET && route.scope !== (viaGateway ? RT_SCOPE.UNIVERSE : RT_SCOPE.LINK)
  ) return "scope";
  if (route.oif === undefined || route.oif === 0) return "no-interface";
  return linkExclusion(route.oif, links, options);
}

/**
 * The next-hop reasons of {@linkcode sourceExclusion} for a route with a nexthop object or a
 * multipath list, by its hop list (a single-path route goes to `singlePathExclusion`).
 */
function hopsExclusion(
  route: Route,
  links: ReadonlyMap<number, Link>,
  options: PlanOptions,
  nexthops?: ReadonlyMap<number, NexthopObject>,
): ExclusionReason | undefined {
  let hops: readonly HopView[] = [];
  if (route.nhId === undefined) hops = nextHops(route, NO_NEXTHOPS)!;
  else if (nexthops !== undefined) {
    const resolved = nextHops(route, nexthops);
    if (resolved === undefined) return "nexthop-object";
    hops = resolved;
  }
  // The route's own attributes count as well as each hop's.
  const all: readonly HopView[] = [...hops, { other: route.other }];
  const viaGateway = hops.some((hop) => hop.gateway !== undefined);
  const via = all.some((hop) => hasAttribute(hop.other, RTA.VIA));
  if (via || (viaGateway && !options.includeGatewayRoutes)) return "gateway";
  const encap = (hop: HopView) =>
    hasAttribute(hop.other, RTA.ENCAP) || hasAttribute(hop.other, RTA.ENCAP_TYPE);
  if (all.some(encap)) return "encap";
  // Several hops (or an object's) may mix on-link and gateway hops: either scope is the kernel's.
  if (
    route.family === AF.INET && route.scope !== RT_SCOPE.UNIVERSE && route.scope !== RT_SCOPE.LINK
  ) return "scope";
  if (hops.some((hop) => hop.oif === undefined || hop.oif === 0)) return "no-interface";
  for (const hop of hops) {
    const reason = linkExclusion(hop.oif!, links, options);
    if (reason !== undefined) return reason;
  }
  return undefined;
}

/** Why a next hop's output interface `oif` disqualifies a route, or `undefined` if it does not. */
function linkExclusion(
  oif: number,
  links: ReadonlyMap<number, Link>,
  options: PlanOptions,
): ExclusionReason | undefined {
  const link = links.get(oif);
  if (link === undefined) return "unknown-interface";
  if (link.name === "lo" || (link.flags & IFF.LOOPBACK) !== 0) return "loopback";
  if (options.excludeDevices.length > 0 && options.excludeDevices.includes(link.name)) {
    return "excluded-device";
  }
  return undefined;
}

/**
 * Whether `route` goes via a gateway: its `RTA_GATEWAY`, a multipath hop's, or (given the
 * objects) one of its nexthop object's members'. Such routes are mirrored only with
 * `--include-gateway-routes`, and after the on-link ones.
 *
 * @example
 * ```ts
 * import { isGatewayRoute } from "./eligibility.ts";
 * isGatewayRoute({ gateway: "192.168.1.254" }); // true
 * ```
 */
export function isGatewayRoute(
  route: Pick<Route, "gateway" | "multipath" | "nhId">,
  nexthops: ReadonlyMap<number, NexthopObject> = NO_NEXTHOPS,
): boolean {
  if (route.nhId !== undefined) {
    return nextHops(route as Route, nexthops)?.some((hop) => hop.gateway !== undefined) ?? false;
  }
  if (route.gateway !== undefined) return true;
  return route.multipath?.some((hop) => hop.gateway !== undefined) ?? false;
}

/**
 * Whether every gateway of `route` (see {@linkcode nextHops}) lies inside one of `lanCopies` —
 * the on-link copies (no gateway) wanted in the same target table — on the same output
 * interface. Only then is a gateway route mirrored: its copy then reaches each gateway through a
 * LAN linkmirror already mirrors. A route without any gateway is not "on a mirrored LAN".
 *
 * @example
 * ```ts
 * import { gatewayOnMirroredLan } from "./eligibility.ts";
 * const base = { family: 2, table: 51820, srcLen: 0, tos: 0, protocol: 77, type: 1, flags: 0,
 *   oif: 2 };
 * const lan = { ...base, dst: "192.168.1.0", dstLen: 24, scope: 253 };
 * const lab = { ...base, dst: "10.20.0.0", dstLen: 16, scope: 0, gateway: "192.168.1.254" };
 * gatewayOnMirroredLan(lab, [lan]); // true
 * gatewayOnMirroredLan({ ...lab, oif: 3 }, [lan]); // false
 * ```
 */
export function gatewayOnMirroredLan(
  route: Route,
  lanCopies: Iterable<Route>,
  nexthops: ReadonlyMap<number, NexthopObject> = NO_NEXTHOPS,
): boolean {
  const hops = nextHops(route, nexthops)?.filter((hop) => hop.gateway !== undefined) ?? [];
  if (hops.length === 0) return false;
  const lans = [...lanCopies];
  return hops.every((hop) => hopOnLan(route.family, hop, lans));
}

function hopOnLan(family: number, hop: HopView, lanCopies: readonly Route[]): boolean {
  const gateway = { family, address: hop.gateway!, prefixLen: maxPrefixLen(family) };
  for (const lan of lanCopies) {
    if (lan.gateway !== undefined || lan.oif !== hop.oif || lan.family !== family) continue;
    if (cidrOverlaps(gateway, { family: lan.family, address: lan.dst, prefixLen: lan.dstLen })) {
      return true;
    }
  }
  return false;
}

function hasAttribute(other: readonly Attribute[] | undefined, type: number): boolean {
  return other?.some((attr) => attr.type === type) ?? false;
}

/**
 * The interfaces a target table itself routes through: the output interfaces, including those of
 * multipath hops, of every route in it that is not linkmirror's (protocol differs) and is not a
 * cloned entry. Source routes on these interfaces are not mirrored into that table.
 *
 * @example
 * ```ts
 * import { vpnInterfaces } from "./eligibility.ts";
 * const vpnDefault = { family: 2, table: 51820, dst: "0.0.0.0", dstLen: 0, srcLen: 0, tos: 0,
 *   protocol: 3, scope: 253, type: 1, flags: 0, oif: 9 };
 * vpnInterfaces([vpnDefault], 77); // Set { 9 }
 * ```
 */
export function vpnInterfaces(tableRoutes: readonly Route[], protocol: number): Set<number> {
  const oifs = new Set<number>();
  for (const route of tableRoutes) {
    if (route.protocol === protocol || (route.flags & RTM_F.CLONED) !== 0) continue;
    if (route.oif !== undefined && route.oif !== 0) oifs.add(route.oif);
    for (const hop of route.multipath ?? []) if (hop.oif !== 0) oifs.add(hop.oif);
  }
  return oifs;
}
