/**
 * Which source routes are mirrored, and why the others are not.
 *
 * @module
 */

import { AF, IFF, RT_SCOPE, RTA, RTM_F, RTN } from "../netlink/constants.ts";
import { cidrOverlaps, maxPrefixLen } from "../netlink/ip.ts";
import type { Link } from "../netlink/link.ts";
import type { Route } from "../netlink/route.ts";
import type { PlanOptions } from "./options.ts";

/**
 * Why a source route is not mirrored, with what each reason means. Source-level reasons are
 * checked in this order and the first that applies is reported; `vpn-interface`, `duplicate` and
 * `gateway-off-lan` are decided per target table.
 */
export const EXCLUSION_REASONS = Object.freeze(
  {
    family: "its address family is not mirrored",
    cloned: "it is a cloned (cache) entry, not a table route",
    "own-protocol": "it carries linkmirror's own protocol, so it is a copy, not a source",
    "not-unicast": "its type is not unicast",
    default: "it is a default route (prefix length 0)",
    "source-prefix": "it matches on a source prefix, which a copy would drop",
    multipath: "it has several next hops",
    "nexthop-object": "it uses a nexthop object",
    gateway: "it has a gateway (see --include-gateway-routes)",
    encap: "it has a lightweight-tunnel encapsulation",
    scope: "an IPv4 route whose scope is not link (global for a gateway route)",
    "no-interface": "it has no output interface",
    "unknown-interface": "its output interface is not among the known links",
    loopback: "its output interface is the loopback",
    "excluded-device": "its output interface is excluded (--exclude-dev)",
    "excluded-prefix": "its destination overlaps an excluded prefix (--exclude)",
    "vpn-interface": "its output interface is one the target table itself routes through",
    duplicate: "an earlier source route already gives the same copy in that table",
    "gateway-off-lan":
      "its gateway is not inside an on-link prefix mirrored into that table on the same interface",
  } as const,
);

/** Why a source route is not mirrored; see {@linkcode EXCLUSION_REASONS}. */
export type ExclusionReason = keyof typeof EXCLUSION_REASONS;

/**
 * The first source-level reason not to mirror `route`, or `undefined` if it is eligible (still
 * subject to the per-table `vpn-interface` and `duplicate` rules). Eligible are IPv4 unicast
 * routes of scope link and IPv6 unicast routes, each with an output interface and without gateway,
 * multipath, nexthop object, encapsulation or source prefix, not default, not cloned, not on the
 * loopback, not on an excluded device, not overlapping an excluded prefix, of a mirrored family.
 *
 * With `options.includeGatewayRoutes`, a route with an `RTA_GATEWAY` (IPv4: of scope global) is
 * eligible too if it passes the other checks; whether its gateway is on a mirrored LAN is decided
 * per table ({@linkcode gatewayOnMirroredLan}).
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
): ExclusionReason | undefined {
  if (!options.families.includes(route.family)) return "family";
  if (route.family !== AF.INET && route.family !== AF.INET6) return "family";
  if ((route.flags & RTM_F.CLONED) !== 0) return "cloned";
  if (route.protocol === options.protocol) return "own-protocol";
  if (route.type !== RTN.UNICAST) return "not-unicast";
  if (route.dstLen === 0) return "default";
  if (route.srcLen !== 0) return "source-prefix";
  if (route.multipath !== undefined) return "multipath";
  if (route.nhId !== undefined) return "nexthop-object";
  const viaGateway = isGatewayRoute(route);
  if (hasAttribute(route, RTA.VIA) || (viaGateway && !options.includeGatewayRoutes)) {
    return "gateway";
  }
  if (hasAttribute(route, RTA.ENCAP) || hasAttribute(route, RTA.ENCAP_TYPE)) return "encap";
  const wantScope = viaGateway ? RT_SCOPE.UNIVERSE : RT_SCOPE.LINK;
  if (route.family === AF.INET && route.scope !== wantScope) return "scope";
  if (route.oif === undefined || route.oif === 0) return "no-interface";
  const link = links.get(route.oif);
  if (link === undefined) return "unknown-interface";
  if (link.name === "lo" || (link.flags & IFF.LOOPBACK) !== 0) return "loopback";
  if (options.excludeDevices.includes(link.name)) return "excluded-device";
  const dst = { family: route.family, address: route.dst, prefixLen: route.dstLen };
  if (options.exclude.some((prefix) => cidrOverlaps(dst, prefix))) return "excluded-prefix";
  return undefined;
}

/**
 * Whether `route` goes via a gateway (`RTA_GATEWAY`); such routes are mirrored only with
 * `--include-gateway-routes`.
 *
 * @example
 * ```ts
 * import { isGatewayRoute } from "./eligibility.ts";
 * isGatewayRoute({ gateway: "192.168.1.254" }); // true
 * ```
 */
export function isGatewayRoute(route: Pick<Route, "gateway">): boolean {
  return route.gateway !== undefined;
}

/**
 * Whether the gateway of `route` lies inside one of `lanCopies` — the on-link copies (no gateway)
 * wanted in the same target table — on the same output interface. Only then is a gateway route
 * mirrored: its copy then reaches the gateway through a LAN linkmirror already mirrors.
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
export function gatewayOnMirroredLan(route: Route, lanCopies: Iterable<Route>): boolean {
  if (route.gateway === undefined) return false;
  const gateway = {
    family: route.family,
    address: route.gateway,
    prefixLen: maxPrefixLen(route.family),
  };
  for (const lan of lanCopies) {
    if (lan.gateway !== undefined || lan.oif !== route.oif || lan.family !== route.family) continue;
    if (cidrOverlaps(gateway, { family: lan.family, address: lan.dst, prefixLen: lan.dstLen })) {
      return true;
    }
  }
  return false;
}

function hasAttribute(route: Route, type: number): boolean {
  return route.other?.some((attr) => attr.type === type) ?? false;
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
