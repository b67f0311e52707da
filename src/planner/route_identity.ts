/**
 * Route identity, in one place: what makes two routes "the same", for each question linkmirror
 * asks. From the finest to the coarsest:
 *
 * | Key | Same when | Used for |
 * | --- | --- | --- |
 * | {@linkcode viewKey} | the same kernel object: everything an `RTM_DELROUTE` names (table, prefixes, tos, metric, type, protocol, scope, prefsrc, next hop(s) or nexthop id) | the daemon's view (`TableView`): which route an event adds, replaces or deletes |
 * | `isSameCopy` (route_copy.ts) | a copy forwards exactly like the wanted one: every forwarding attribute (next hops with weights, metrics, pref, realms, onlink, expiry) | the planner: unchanged vs replace |
 * | {@linkcode routeKey} (or {@linkcode sameRouteKey}, without building the keys) | the same slot for the kernel: an `NLM_F_EXCL` add of one fails with `EEXIST` while the other exists, `NLM_F_REPLACE` swaps it | the planner's duplicates and replaces; the daemon's echoes of its own writes |
 * | {@linkcode replaceGroupKey} ({@linkcode sameReplaceGroup}) | compete for one `NLM_F_REPLACE` / `NLM_F_APPEND` (table, prefixes, tos, metric; any next hop) | the planner's replaces; the view's replace/append emulation |
 * | {@linkcode prefixKey} | the same destinations (family, destination, length), any table | foreign routes "in the way"; the daemon's dirty prefixes; `explain` |
 *
 * Metrics are compared with the kernel's default filled in ({@linkcode routeMetric}). Addresses
 * are compared as text: the codec produces canonical text.
 *
 * @module
 */

import { AF } from "../netlink/constants.ts";
import type { Nexthop, Route } from "../netlink/route.ts";

/** The metric the kernel gives an IPv6 route added without `RTA_PRIORITY` (`IP6_RT_PRIO_USER`). */
export const IPV6_DEFAULT_METRIC = 1024;

/**
 * The metric of a route, with the kernel's default filled in when `RTA_PRIORITY` is absent: 0 for
 * IPv4, {@linkcode IPV6_DEFAULT_METRIC} for IPv6.
 *
 * @example
 * ```ts
 * import { routeMetric } from "./route_identity.ts";
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
 * - IPv6: `(table, dst, dstLen, src, srcLen, metric, oif, gateway)`, or the nexthop id instead of
 *   oif and gateway for a route using a nexthop object. `fib6_add_rt2node` without
 *   `NLM_F_EXCL` rejects a route only if one with the same metric and the same next hop (device
 *   and gateway) exists, so `fe80::/64 dev a` and `fe80::/64 dev b` with one metric coexist (as
 *   they do in `main`). With `NLM_F_EXCL` any route of the same metric is `EEXIST`, so IPv6 copies
 *   must be added without that flag. The preferred source is not part of the identity.
 *
 * Addresses are compared as given (the codec produces canonical text).
 *
 * @example
 * ```ts
 * import { routeKey } from "./route_identity.ts";
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
    // A nexthop-object route is known by its id; the device the kernel reports beside it is
    // the object's.
    const next = route.nhId !== undefined
      ? `nhid ${route.nhId}`
      : `dev ${route.oif ?? 0} via ${route.gateway ?? "-"}`;
    return `${head} from ${src} metric ${routeMetric(route)} ${next}`;
  }
  return `${head} tos ${route.tos} metric ${routeMetric(route)}`;
}

/**
 * Whether `a` and `b` have the same {@linkcode routeKey}, compared field by field without
 * building either key: the planner's hot path matches every copy in a table this way.
 *
 * @example
 * ```ts
 * import { sameRouteKey } from "./route_identity.ts";
 * const base = { family: 2, table: 100, dst: "10.0.0.0", dstLen: 24, srcLen: 0, tos: 0,
 *   protocol: 77, scope: 253, type: 1, flags: 0 };
 * sameRouteKey({ ...base, oif: 3 }, { ...base, oif: 4 }); // true
 * sameRouteKey(base, { ...base, priority: 5 }); // false
 * ```
 */
export function sameRouteKey(a: Route, b: Route): boolean {
  if (
    a.family !== b.family || a.table !== b.table || a.dst !== b.dst || a.dstLen !== b.dstLen ||
    routeMetric(a) !== routeMetric(b)
  ) return false;
  if (a.family !== AF.INET6) return a.tos === b.tos;
  if ((a.src ?? "::") !== (b.src ?? "::") || a.srcLen !== b.srcLen) return false;
  if (a.nhId !== undefined || b.nhId !== undefined) return a.nhId === b.nhId;
  return (a.oif ?? 0) === (b.oif ?? 0) && (a.gateway ?? "-") === (b.gateway ?? "-");
}

/**
 * Family, destination and prefix length of a route, as a string: routes with the same prefix key
 * compete for exactly the same destinations.
 *
 * @example
 * ```ts
 * import { prefixKey } from "./route_identity.ts";
 * prefixKey({ family: 2, dst: "10.0.0.0", dstLen: 8 }); // "2 10.0.0.0/8"
 * ```
 */
export function prefixKey(route: Pick<Route, "family" | "dst" | "dstLen">): string {
  return `${route.family} ${route.dst}/${route.dstLen}`;
}

/**
 * The set of routes that one `NLM_F_REPLACE` (or `NLM_F_APPEND`) competes over, as a string:
 * family, table, destination, source prefix, tos and metric, whatever the next hop. IPv4's
 * `fib_find_alias` looks aliases up by exactly these; IPv6 narrows further by ECMP eligibility.
 *
 * @example
 * ```ts
 * import { replaceGroupKey } from "./route_identity.ts";
 * const r = { family: 2, table: 254, dst: "10.0.0.0", dstLen: 8, srcLen: 0, tos: 0, protocol: 4,
 *   scope: 253, type: 1, flags: 0, oif: 3 };
 * replaceGroupKey(r) === replaceGroupKey({ ...r, oif: 4 }); // true
 * ```
 */
export function replaceGroupKey(route: Route): string {
  return `${route.family}|${route.table}|${route.dst}/${route.dstLen}|${
    route.src ?? ""
  }/${route.srcLen}|${route.tos}|${routeMetric(route)}`;
}

/**
 * Whether two routes have the same {@linkcode replaceGroupKey}, compared field by field: no string
 * is built (the daemon's view asks this on every route event).
 *
 * @example
 * ```ts
 * import { sameReplaceGroup } from "./route_identity.ts";
 * const r = { family: 2, table: 254, dst: "10.0.0.0", dstLen: 8, srcLen: 0, tos: 0, protocol: 4,
 *   scope: 253, type: 1, flags: 0, oif: 3 };
 * sameReplaceGroup(r, { ...r, oif: 4 }); // true
 * sameReplaceGroup(r, { ...r, priority: 5 }); // false
 * ```
 */
export function sameReplaceGroup(a: Route, b: Route): boolean {
  return a.family === b.family && a.table === b.table && a.dst === b.dst &&
    a.dstLen === b.dstLen && a.srcLen === b.srcLen && a.tos === b.tos &&
    (a.src ?? "") === (b.src ?? "") && routeMetric(a) === routeMetric(b);
}

function hopKey(hop: Pick<Nexthop, "oif" | "gateway" | "hops">): string {
  return `${hop.oif}/${hop.gateway ?? ""}/${hop.hops}`;
}

/**
 * The identity of one kernel route object, as a string: everything a kernel `RTM_DELROUTE` names
 * — family, table, destination and source prefixes, tos, metric, type, protocol, scope, prefsrc
 * and the next hop(s) (a nexthop id; else multipath hops in any order, with their weights; else
 * device and gateway). Not part of it: `flags` (the kernel flips `linkdown`/`dead` silently),
 * expiry and cache info (they count down), `pref`, metrics and unmodelled attributes. Two kernel
 * routes can share a key (IPv6 replace can leave duplicates); the daemon's view keeps both.
 *
 * @example
 * ```ts
 * import { viewKey } from "./route_identity.ts";
 * const r = { family: 2, table: 254, dst: "10.0.0.0", dstLen: 8, srcLen: 0, tos: 0, protocol: 4,
 *   scope: 253, type: 1, flags: 0, oif: 3 };
 * viewKey(r) === viewKey({ ...r, flags: 16 }); // true: linkdown is not identity
 * viewKey(r) === viewKey({ ...r, oif: 4 }); // false
 * ```
 */
export function viewKey(route: Route): string {
  let next: string;
  if (route.nhId !== undefined) next = `id:${route.nhId}`;
  else if (route.multipath) next = `mp:${route.multipath.map(hopKey).sort().join(",")}`;
  else next = `${route.oif ?? ""}/${route.gateway ?? ""}`;
  return `${replaceGroupKey(route)}|${route.type}|${route.protocol}|${route.scope}|${
    route.prefsrc ?? ""
  }|${next}`;
}
