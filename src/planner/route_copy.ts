/**
 * The copy linkmirror installs for a source route, and the test whether a route already in a
 * target table is exactly that copy.
 *
 * @module
 */

import type { Route } from "../netlink/route.ts";
import { routeMetric } from "./route_key.ts";

/** Where a copy goes and whose it is. */
export interface CopyTarget {
  /** The target table id. */
  table: number;
  /** linkmirror's `rtm_protocol`. */
  protocol: number;
}

/**
 * The copy of `source` for `target`: destination, prefix length, tos, output interface, gateway
 * (only gateway routes have one; see `--include-gateway-routes`), preferred source, metric, scope
 * and type of the source; table and protocol of the target; flags 0; nothing else (no expiry,
 * cache info, metrics or other attributes).
 *
 * @example
 * ```ts
 * import { mirrorCopy } from "./route_copy.ts";
 * const lan = { family: 2, table: 254, dst: "192.168.1.0", dstLen: 24, srcLen: 0, tos: 0,
 *   protocol: 2, scope: 253, type: 1, flags: 16, oif: 2, prefsrc: "192.168.1.5" };
 * mirrorCopy(lan, { table: 539098368, protocol: 77 });
 * // { family: 2, table: 539098368, dst: "192.168.1.0", dstLen: 24, srcLen: 0, tos: 0,
 * //   protocol: 77, scope: 253, type: 1, flags: 0, oif: 2, prefsrc: "192.168.1.5" }
 * ```
 */
export function mirrorCopy(source: Route, target: CopyTarget): Route {
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
    flags: 0,
  };
  if (source.oif !== undefined) copy.oif = source.oif;
  if (source.gateway !== undefined) copy.gateway = source.gateway;
  if (source.prefsrc !== undefined) copy.prefsrc = source.prefsrc;
  if (source.priority !== undefined) copy.priority = source.priority;
  return copy;
}

/**
 * Whether `existing` (a route read back from a target table) is the copy `wanted`. Compares what
 * a copy sets, with absent metrics read as the kernel's default; ignores what the kernel adds on
 * its own (`flags` such as linkdown, `pref`, cache info and other unmodelled attributes).
 *
 * @example
 * ```ts
 * import { isSameCopy, mirrorCopy } from "./route_copy.ts";
 * const lan = { family: 10, table: 254, dst: "2001:db8::", dstLen: 64, srcLen: 0, tos: 0,
 *   protocol: 2, scope: 0, type: 1, flags: 0, oif: 2 };
 * const copy = mirrorCopy(lan, { table: 100, protocol: 77 });
 * isSameCopy({ ...copy, priority: 1024, pref: 0 }, copy); // true
 * isSameCopy({ ...copy, prefsrc: "2001:db8::5" }, copy); // false
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
    existing.oif === wanted.oif &&
    existing.prefsrc === wanted.prefsrc &&
    routeMetric(existing) === routeMetric(wanted) &&
    existing.gateway === wanted.gateway &&
    existing.multipath === undefined && wanted.multipath === undefined &&
    existing.nhId === wanted.nhId &&
    existing.expires === wanted.expires;
}
