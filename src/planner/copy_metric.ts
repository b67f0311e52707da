/**
 * The metric of a copy: the source's metric plus {@linkcode COPY_METRIC_OFFSET}, saturating at
 * {@linkcode MAX_METRIC}, so that a copy can never block or beat a route the VPN adds for the same
 * prefix.
 *
 * Why the kernel's rules make this work:
 * - IPv4: a route's identity in a table is (dst, len, tos, priority) (`fib_find_alias`); an add of
 *   the same key fails with `EEXIST` (Firezone ignores that error, so its route would silently be
 *   missing). Among routes of one prefix, lookups take the lowest priority first. A copy at
 *   `metric + 2^31` differs from every VPN route at a usual metric (0 when not given) and loses to
 *   it.
 * - IPv6: `fib6_add_rt2node` rejects only a route of the same metric and the same next hop, keeps
 *   routes of one prefix sorted by metric and uses the lowest first. A route added without a
 *   metric gets 1024 (`IP6_RT_PRIO_USER`); a source route without one counts as 1024 here too.
 * - Metrics are 32-bit unsigned. 2^31 leaves the lower half to everyone else — NetworkManager,
 *   systemd-networkd, the kernel (256, 1024) and VPN clients stay far below it — while copies keep
 *   the relative order of their sources up to a source metric of 2^31 − 1; beyond that they all
 *   saturate at 2^32 − 1.
 *
 * @example
 * ```ts
 * import { copyMetric } from "./copy_metric.ts";
 * copyMetric({ family: 2, priority: undefined }); // 2147483648
 * copyMetric({ family: 10, priority: undefined }); // 2147484672 (1024 + 2^31)
 * copyMetric({ family: 2, priority: 4294967000 }); // 4294967295
 * ```
 *
 * @module
 */

import type { Route } from "../netlink/route.ts";
import { routeMetric } from "./route_identity.ts";

/** What a copy's metric adds to its source's: 2^31. */
export const COPY_METRIC_OFFSET = 0x8000_0000;

/** The largest metric (`RTA_PRIORITY` is a u32). */
export const MAX_METRIC = 0xffff_ffff;

/** The metric of the copy of `source` (see the module documentation). */
export function copyMetric(source: Pick<Route, "family" | "priority">): number {
  return Math.min(routeMetric(source) + COPY_METRIC_OFFSET, MAX_METRIC);
}
