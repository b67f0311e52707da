/**
 * Route identity as the kernel sees it, in one place: {@linkcode routeKey} (two routes with the
 * same key cannot both be linkmirror's copies in a table) and {@linkcode prefixKey} (same family,
 * destination and length: the test for a foreign route "in the way").
 *
 * @module
 */

import { AF } from "../netlink/constants.ts";
import type { Route } from "../netlink/route.ts";

/** The metric the kernel gives an IPv6 route added without `RTA_PRIORITY` (`IP6_RT_PRIO_USER`). */
export const IPV6_DEFAULT_METRIC = 1024;

/**
 * The metric of a route, with the kernel's default filled in when `RTA_PRIORITY` is absent: 0 for
 * IPv4, {@linkcode IPV6_DEFAULT_METRIC} for IPv6.
 *
 * @example
 * ```ts
 * import { routeMetric } from "./route_key.ts";
 * routeMetric({ family: 10, priority: undefined }); // 1024
 * ```
 */
export function routeMetric(route: Pick<Route, "family" | "priority">): number {
  return route.priority ?? (route.family === AF.INET6 ? IPV6_DEFAULT_METRIC : 0);
}

/**
 * The identity of a route within the kernel's routing tables, as a string.
 *
 * - IPv4: `(table, dst, dstLen, tos, metric)`. The FIB keeps one list of aliases per prefix and
 *   `fib_find_alias` looks them up by tos and priority; an add with `NLM_F_EXCL` fails with
 *   `EEXIST` when that alias exists, whatever its device, and only the first alias of a key is
 *   used by lookups. So one table holds at most one linkmirror copy per key.
 * - IPv6: `(table, dst, dstLen, src, srcLen, metric, oif, gateway)`. `fib6_add_rt2node` without
 *   `NLM_F_EXCL` rejects a route only if one with the same metric and the same next hop (device
 *   and gateway) exists, so `fe80::/64 dev a` and `fe80::/64 dev b` with one metric coexist (as
 *   they do in `main`). With `NLM_F_EXCL` any route of the same metric is `EEXIST`, so IPv6 copies
 *   must be added without that flag. The preferred source is not part of the identity.
 *
 * Addresses are compared as given (the codec produces canonical text).
 *
 * @example
 * ```ts
 * import { routeKey } from "./route_key.ts";
 * const base = { table: 100, dst: "10.0.0.0", dstLen: 24, srcLen: 0, tos: 0, protocol: 77,
 *   scope: 253, type: 1, flags: 0 };
 * routeKey({ ...base, family: 2, oif: 3 }) === routeKey({ ...base, family: 2, oif: 4 }); // true
 * routeKey({ ...base, family: 10, dst: "fe80::", dstLen: 64, oif: 3 }) ===
 *   routeKey({ ...base, family: 10, dst: "fe80::", dstLen: 64, oif: 4 }); // false
 * ```
 */
export function routeKey(route: Route): string {
  const head = `${route.family} ${route.table} ${route.dst}/${route.dstLen}`;
  if (route.family === AF.INET6) {
    const src = `${route.src ?? "::"}/${route.srcLen}`;
    return `${head} from ${src} metric ${routeMetric(route)} dev ${route.oif ?? 0} via ${
      route.gateway ?? "-"
    }`;
  }
  return `${head} tos ${route.tos} metric ${routeMetric(route)}`;
}

/**
 * Family, destination and prefix length of a route, as a string: routes with the same prefix key
 * compete for exactly the same destinations.
 *
 * @example
 * ```ts
 * import { prefixKey } from "./route_key.ts";
 * prefixKey({ family: 2, dst: "10.0.0.0", dstLen: 8 }); // "2 10.0.0.0/8"
 * ```
 */
export function prefixKey(route: Pick<Route, "family" | "dst" | "dstLen">): string {
  return `${route.family} ${route.dst}/${route.dstLen}`;
}
