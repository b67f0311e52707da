/**
 * Longest-prefix match of an address over a list of routes, as one table's lookup would pick a
 * route: used by `explain` to say where a destination would go *without* linkmirror's copy, and
 * which route of `main` a copy stands for. Pure; it ignores tos, marks and next-hop liveness.
 *
 * @module
 */

import { RTM_F, RTN } from "../netlink/constants.ts";
import { cidrOverlaps, maxPrefixLen, parseIp } from "../netlink/ip.ts";
import type { Route } from "../netlink/route.ts";
import { routeMetric } from "../planner/route_identity.ts";

/** Route types a table lookup can end in (not `local`/`broadcast`/`multicast`, not `throw`). */
const LOOKUP_TYPES: ReadonlySet<number> = new Set([
  RTN.UNICAST,
  RTN.BLACKHOLE,
  RTN.UNREACHABLE,
  RTN.PROHIBIT,
]);

/**
 * Whether `address` lies inside the destination prefix of `route` (same family).
 *
 * @example
 * ```ts
 * import { routeCovers } from "./route_match.ts";
 * routeCovers({ family: 2, dst: "10.0.0.0", dstLen: 8 }, "10.1.2.3"); // true
 * ```
 */
export function routeCovers(route: Pick<Route, "family" | "dst" | "dstLen">, address: string) {
  const ip = parseIp(address);
  if (ip.family !== route.family) return false;
  return cidrOverlaps(
    { family: route.family, address: route.dst, prefixLen: route.dstLen },
    { family: ip.family, address, prefixLen: maxPrefixLen(ip.family) },
  );
}

/**
 * The route of `routes` a lookup of `address` picks: the longest prefix that covers it, then the
 * lowest metric, then the first in the list. Cloned entries, routes with a source prefix and
 * route types that are not looked up (local, broadcast, throw, ...) are skipped. Undefined when
 * nothing covers the address.
 *
 * @example
 * ```ts
 * import { longestMatch } from "./route_match.ts";
 * const r = { family: 2, table: 254, srcLen: 0, tos: 0, protocol: 2, scope: 253, type: 1,
 *   flags: 0 };
 * longestMatch([{ ...r, dst: "0.0.0.0", dstLen: 0 }, { ...r, dst: "10.0.0.0", dstLen: 8 }],
 *   "10.9.9.9")?.dstLen; // 8
 * ```
 */
export function longestMatch(routes: readonly Route[], address: string): Route | undefined {
  let best: Route | undefined;
  for (const route of routes) {
    if ((route.flags & RTM_F.CLONED) !== 0 || route.srcLen !== 0) continue;
    if (!LOOKUP_TYPES.has(route.type) || !routeCovers(route, address)) continue;
    if (
      best === undefined || route.dstLen > best.dstLen ||
      (route.dstLen === best.dstLen && routeMetric(route) < routeMetric(best))
    ) {
      best = route;
    }
  }
  return best;
}
