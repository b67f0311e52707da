/**
 * The copy linkmirror installs for a source route, and the test whether a route already in a
 * target table is exactly that copy. A copy forwards like its source: it carries every attribute
 * the kernel's FIB uses to forward or originate traffic for the prefix (see docs/copies.md for
 * what is carried, what is not, and why).
 *
 * @module
 */

import { AF, RTNH_F } from "../netlink/constants.ts";
import {
  cacheExpires,
  isPlainRoute,
  type Nexthop,
  type Route,
  type RouteMetrics,
} from "../netlink/route.ts";
import { copyMetric } from "./copy_metric.ts";
import { routeMetric, sameRouteKey } from "./route_identity.ts";

/** Where a copy goes and whose it is. */
export interface CopyTarget {
  /** The target table id. */
  table: number;
  /** linkmirror's `rtm_protocol`. */
  protocol: number;
}

/** Route and next-hop flags a copy carries: the rest is kernel state (`linkdown`, `dead`...). */
const COPIED_FLAGS = RTNH_F.ONLINK;

/**
 * How far (seconds) the remaining lifetime of an expiring copy may lag behind its source's
 * before the copy is refreshed. Copies are added with the source's remaining whole seconds, so
 * they lag by up to a second plus the time between reading the source and adding the copy; a
 * copy never runs longer than its source by more than the rounding (1 s).
 */
export const EXPIRY_SLACK_SECONDS = 5;

function copyHop(hop: Nexthop): Nexthop {
  const copy: Nexthop = { oif: hop.oif, flags: hop.flags & COPIED_FLAGS, hops: hop.hops };
  if (hop.gateway !== undefined) copy.gateway = hop.gateway;
  if (hop.flow !== undefined) copy.flow = hop.flow;
  return copy;
}

/**
 * The copy of `source` for `target`. Carried from the source: destination, prefix length, tos,
 * scope, type, preferred source, the next hop(s) — a nexthop object by
 * its id (objects belong to the namespace, so the copy shares it), else every multipath hop with
 * its weight, gateway, realms and `onlink`, else device and gateway — the `onlink` flag, the
 * metrics (`RTA_METRICS`: mtu, advmss, hoplimit, congestion control... with their lock bits),
 * the IPv4 realms (`RTA_FLOW`), the IPv6 router preference (`RTA_PREF`), and an IPv6 source's
 * remaining lifetime as `RTA_EXPIRES` (so the copy expires with it). The metric
 * (`RTA_PRIORITY`) is the source's plus the copy offset ({@linkcode copyMetric}): copies never
 * block or beat a route of the VPN's for the same prefix. Set from the target: table and protocol. Not carried: cache info, kernel-state flags (`linkdown`, `dead`, `offload`) and
 * unmodelled attributes.
 *
 * @example
 * ```ts
 * import { mirrorCopy } from "./route_copy.ts";
 * const lan = { family: 2, table: 254, dst: "192.168.1.0", dstLen: 24, srcLen: 0, tos: 0,
 *   protocol: 2, scope: 253, type: 1, flags: 16, oif: 2, prefsrc: "192.168.1.5",
 *   metrics: { mtu: 1400 } };
 * mirrorCopy(lan, { table: 539098368, protocol: 77 });
 * // { family: 2, table: 539098368, dst: "192.168.1.0", dstLen: 24, srcLen: 0, tos: 0,
 * //   protocol: 77, scope: 253, type: 1, flags: 0, oif: 2, prefsrc: "192.168.1.5",
 * //   metrics: { mtu: 1400 }, priority: 2147483648 }
 * ```
 */
export function mirrorCopy(source: Route, target: CopyTarget): Route {
  if (source.oif !== undefined && isPlainRoute(source)) {
    // A LAN's plain route: its copy made as one literal, in the order the lines below would give
    // it, so that it holds its fields in itself (what the daemon's view keeps without copying).
    return {
      family: source.family,
      table: target.table,
      dst: source.dst,
      dstLen: source.dstLen,
      srcLen: 0,
      tos: source.tos,
      protocol: target.protocol,
      scope: source.scope,
      type: source.type,
      flags: source.flags & COPIED_FLAGS,
      oif: source.oif,
      priority: copyMetric(source),
    };
  }
  const copy: Route = {
    family: source.family,
    table: target.table,
    dst: source.dst,
    dstLen: source.dstLen,
    srcLen: 0,
    tos: source.tos,
    protocol: target.protocol,
    scope: source.scope,
    type: source.type,
    flags: source.flags & COPIED_FLAGS,
  };
  if (source.nhId !== undefined) {
    // The kernel refuses a device, gateway or hops next to a nexthop id: the object has them.
    copy.nhId = source.nhId;
  } else if (source.multipath !== undefined) {
    const live = liveHops(source.multipath);
    if (live.length === 1) {
      // One live hop: the kernel would store (and dump) a multipath route of one hop as a
      // single-path route, so the copy is one, with the hop's device, gateway, onlink and realms.
      const [hop] = live;
      copy.oif = hop.oif;
      if (hop.gateway !== undefined) copy.gateway = hop.gateway;
      copy.flags |= hop.flags & COPIED_FLAGS;
      if (source.family === AF.INET && hop.flow !== undefined) copy.flow = hop.flow;
    } else {
      copy.multipath = live.map(copyHop);
    }
  } else {
    if (source.oif !== undefined) copy.oif = source.oif;
    if (source.gateway !== undefined) copy.gateway = source.gateway;
  }
  if (source.prefsrc !== undefined) copy.prefsrc = source.prefsrc;
  copy.priority = copyMetric(source);
  if (source.metrics !== undefined) copy.metrics = copyMetrics(source.metrics);
  if (source.family === AF.INET && source.flow !== undefined) copy.flow = source.flow;
  if (source.family === AF.INET6) {
    if (source.pref !== undefined) copy.pref = source.pref;
    const expires = copyExpiry(source);
    if (expires !== undefined) copy.expires = expires;
  }
  return copy;
}

/** The `RTA_EXPIRES` of an IPv6 source's copy: the source's remaining whole seconds, at least 1. */
function copyExpiry(source: Route): number | undefined {
  const expires = cacheExpires(source) ?? source.expires;
  return expires === undefined ? undefined : Math.max(1, expires);
}

/** Whether `source` is its own single next hop (no nexthop object, no multipath). */
function isSinglePath(source: Route): boolean {
  return source.nhId === undefined && source.multipath === undefined;
}

/**
 * Whether `route` has the {@linkcode routeKey} of the copy of `source` for `target` (the slot
 * that copy takes): `sameRouteKey(route, mirrorCopy(source, target))`, without building the
 * copy when the source is its own single next hop.
 *
 * @example
 * ```ts
 * import { hasCopyKey, mirrorCopy } from "./route_copy.ts";
 * const lan = { family: 2, table: 254, dst: "192.168.1.0", dstLen: 24, srcLen: 0, tos: 0,
 *   protocol: 2, scope: 253, type: 1, flags: 0, oif: 2 };
 * const target = { table: 100, protocol: 77 };
 * hasCopyKey({ ...mirrorCopy(lan, target), oif: 3 }, lan, target); // true: same IPv4 slot
 * hasCopyKey(lan, lan, target); // false: another table and metric
 * ```
 */
export function hasCopyKey(route: Route, source: Route, target: CopyTarget): boolean {
  if (!isSinglePath(source)) return sameRouteKey(route, mirrorCopy(source, target));
  if (
    route.family !== source.family || route.table !== target.table || route.dst !== source.dst ||
    route.dstLen !== source.dstLen || routeMetric(route) !== copyMetric(source)
  ) return false;
  if (route.family !== AF.INET6) return route.tos === source.tos;
  return (route.src ?? "::") === "::" && route.srcLen === 0 && route.nhId === undefined &&
    (route.oif ?? 0) === (source.oif ?? 0) && (route.gateway ?? "-") === (source.gateway ?? "-");
}

/**
 * Whether `existing` is the copy of `source` for `target`:
 * `isSameCopy(existing, mirrorCopy(source, target))`, without building the copy when the source
 * is its own single next hop (most routes; the planner asks this of every copy in a table).
 *
 * @example
 * ```ts
 * import { isCopyOf, mirrorCopy } from "./route_copy.ts";
 * const lan = { family: 2, table: 254, dst: "192.168.1.0", dstLen: 24, srcLen: 0, tos: 0,
 *   protocol: 2, scope: 253, type: 1, flags: 16, oif: 2 };
 * const target = { table: 100, protocol: 77 };
 * isCopyOf(mirrorCopy(lan, target), lan, target); // true
 * isCopyOf({ ...mirrorCopy(lan, target), oif: 3 }, lan, target); // false
 * ```
 */
export function isCopyOf(existing: Route, source: Route, target: CopyTarget): boolean {
  if (!isSinglePath(source)) return isSameCopy(existing, mirrorCopy(source, target));
  // isSameCopy's tests, each with the field mirrorCopy would set.
  return existing.family === source.family &&
    existing.table === target.table &&
    existing.dst === source.dst &&
    existing.dstLen === source.dstLen &&
    existing.srcLen === 0 &&
    existing.src === undefined &&
    existing.tos === source.tos &&
    existing.protocol === target.protocol &&
    existing.scope === source.scope &&
    existing.type === source.type &&
    (existing.flags & COPIED_FLAGS) === (source.flags & COPIED_FLAGS) &&
    existing.prefsrc === source.prefsrc &&
    routeMetric(existing) === copyMetric(source) &&
    existing.nhId === undefined &&
    existing.multipath === undefined &&
    existing.oif === source.oif &&
    existing.gateway === source.gateway &&
    sameMetrics(existing.metrics, source.metrics) &&
    (source.family !== AF.INET || existing.flow === source.flow) &&
    (source.family !== AF.INET6 ||
      ((existing.pref ?? 0) === (source.pref ?? 0) &&
        sameExpiryOf(existing, copyExpiry(source))));
}

/**
 * The hops of a multipath source that forward: those not flagged `RTNH_F_DEAD` (their device is
 * down; the kernel skips them, and refuses to add a route with such a hop: `ENETDOWN`). When the
 * device comes back the kernel revives the hop and the copy is replaced with every hop again. All
 * hops when none is live (the kernel flushes such a route anyway).
 */
function liveHops(hops: readonly Nexthop[]): readonly Nexthop[] {
  const live = hops.filter((hop) => (hop.flags & RTNH_F.DEAD) === 0);
  return live.length > 0 ? live : hops;
}

function copyMetrics(metrics: RouteMetrics): RouteMetrics {
  const copy: RouteMetrics = { ...metrics };
  if (metrics.other !== undefined) {
    copy.other = metrics.other.map((a) => ({ type: a.type, data: a.data.slice() }));
  }
  return copy;
}

/**
 * Whether `existing` (a route read back from a target table) is the copy `wanted`: the same
 * identity fields and every forwarding attribute {@linkcode mirrorCopy} sets — next hops (a
 * nexthop id alone: the hops the kernel reports beside it are the object's; multipath hops as a
 * set, with weights, gateways, realms and `onlink`), metrics (each one, lock bits and unknown
 * ones included), realms, `onlink`, IPv6 preference (absent read as medium) and remaining
 * lifetime (within {@linkcode EXPIRY_SLACK_SECONDS} below the wanted one, at most 1 s above).
 * Absent metrics are read as the kernel's default. Ignored: what the kernel adds on its own
 * (`linkdown`/`dead` flags, cache counters, unmodelled attributes).
 *
 * @example
 * ```ts
 * import { isSameCopy, mirrorCopy } from "./route_copy.ts";
 * const lan = { family: 10, table: 254, dst: "2001:db8::", dstLen: 64, srcLen: 0, tos: 0,
 *   protocol: 2, scope: 0, type: 1, flags: 0, oif: 2 };
 * const copy = mirrorCopy(lan, { table: 100, protocol: 77 });
 * isSameCopy({ ...copy, pref: 0 }, copy); // true
 * isSameCopy({ ...copy, metrics: { mtu: 1400 } }, copy); // false
 * isSameCopy({ ...copy, priority: 1024 }, copy); // false: a copy at the source's metric
 * ```
 */
export function isSameCopy(existing: Route, wanted: Route): boolean {
  return existing.family === wanted.family &&
    existing.table === wanted.table &&
    existing.dst === wanted.dst &&
    existing.dstLen === wanted.dstLen &&
    existing.srcLen === wanted.srcLen &&
    existing.src === wanted.src &&
    existing.tos === wanted.tos &&
    existing.protocol === wanted.protocol &&
    existing.scope === wanted.scope &&
    existing.type === wanted.type &&
    (existing.flags & COPIED_FLAGS) === (wanted.flags & COPIED_FLAGS) &&
    existing.prefsrc === wanted.prefsrc &&
    routeMetric(existing) === routeMetric(wanted) &&
    sameNextHops(existing, wanted) &&
    sameMetrics(existing.metrics, wanted.metrics) &&
    (wanted.family !== AF.INET || existing.flow === wanted.flow) &&
    (wanted.family !== AF.INET6 || (existing.pref ?? 0) === (wanted.pref ?? 0)) &&
    sameExpiry(existing, wanted);
}

function sameNextHops(existing: Route, wanted: Route): boolean {
  if (wanted.nhId !== undefined || existing.nhId !== undefined) {
    return existing.nhId === wanted.nhId;
  }
  if (wanted.multipath !== undefined || existing.multipath !== undefined) {
    if (wanted.multipath === undefined || existing.multipath === undefined) return false;
    if (wanted.multipath.length !== existing.multipath.length) return false;
    const a = existing.multipath.map(hopText).sort();
    const b = wanted.multipath.map(hopText).sort();
    return a.every((text, i) => text === b[i]);
  }
  return existing.oif === wanted.oif && existing.gateway === wanted.gateway;
}

function hopText(hop: Nexthop): string {
  return `${hop.oif}|${hop.gateway ?? ""}|${hop.hops}|${hop.flags & COPIED_FLAGS}|${
    hop.flow ?? ""
  }`;
}

/**
 * Whether two metric sets are equal, metric by metric (absent = not set); unknown metrics by
 * type and bytes, in order.
 */
export function sameMetrics(a: RouteMetrics | undefined, b: RouteMetrics | undefined): boolean {
  if (a === undefined && b === undefined) return true;
  const x = a ?? {}, y = b ?? {};
  const keys = new Set([...Object.keys(x), ...Object.keys(y)]) as Set<keyof RouteMetrics>;
  for (const key of keys) {
    if (key === "other") continue;
    if (x[key] !== y[key]) return false;
  }
  const ox = x.other ?? [], oy = y.other ?? [];
  if (ox.length !== oy.length) return false;
  return ox.every((attr, i) =>
    attr.type === oy[i].type && attr.data.length === oy[i].data.length &&
    attr.data.every((byte, j) => byte === oy[i].data[j])
  );
}

function sameExpiry(existing: Route, wanted: Route): boolean {
  return wanted.family !== AF.INET6 || sameExpiryOf(existing, wanted.expires);
}

/** Whether `existing` expires as a copy wanted with `RTA_EXPIRES` `wanted` should. */
function sameExpiryOf(existing: Route, wanted: number | undefined): boolean {
  const left = cacheExpires(existing) ?? existing.expires;
  if (wanted === undefined || left === undefined) return wanted === undefined && left === undefined;
  const lag = wanted - left;
  return lag >= -1 && lag <= EXPIRY_SLACK_SECONDS;
}
