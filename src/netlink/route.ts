/**
 * Route messages (`struct rtmsg` + `RTA_*` attributes): the typed {@linkcode Route} and its codec.
 *
 * @module
 */

import type { Attribute } from "./attributes.ts";

/** One next hop of a multipath route (`struct rtnexthop` + its attributes). */
export interface Nexthop {
  /** Output interface index (`rtnh_ifindex`). */
  oif: number;
  /** `RTNH_F_*` bits. */
  flags: number;
  /** Weight minus one (`rtnh_hops`). */
  hops: number;
  /** `RTA_GATEWAY` of this hop, as text. */
  gateway?: string;
  /** Attributes of the hop that are not modelled, kept for round trips. */
  other?: Attribute[];
}

/**
 * A route as rtnetlink carries it. Addresses are canonical text (`192.168.1.0`, `fe80::`).
 * `table` is the full 32-bit id: `RTA_TABLE` when present, else the 8-bit header field.
 */
export interface Route {
  /** `AF_INET` (2) or `AF_INET6` (10). */
  family: number;
  /** Routing table id (32 bits). */
  table: number;
  /** Destination prefix address; `0.0.0.0` / `::` for a default route. */
  dst: string;
  /** Destination prefix length. */
  dstLen: number;
  /** Source prefix (`RTA_SRC`, IPv6 source routing), if any. */
  src?: string;
  /** Source prefix length. */
  srcLen: number;
  /** Type of service / traffic class. */
  tos: number;
  /** `rtm_protocol`: who installed the route. */
  protocol: number;
  /** `rtm_scope`. */
  scope: number;
  /** `rtm_type` (`RTN_*`). */
  type: number;
  /** `rtm_flags` (`RTM_F_*`, `RTNH_F_*`). */
  flags: number;
  /** `RTA_OIF`: output interface index. */
  oif?: number;
  /** `RTA_GATEWAY`, as text. */
  gateway?: string;
  /** `RTA_PRIORITY`: the metric. */
  priority?: number;
  /** `RTA_PREFSRC`: preferred source address, as text. */
  prefsrc?: string;
  /** `RTA_PREF`: IPv6 router preference. */
  pref?: number;
  /** `RTA_EXPIRES`: seconds until an IPv6 route expires. */
  expires?: number;
  /** `RTA_MULTIPATH`: the next hops of a multipath route. */
  multipath?: Nexthop[];
  /** `RTA_NH_ID`: id of a nexthop object. */
  nhId?: number;
  /** Attributes that are not modelled above (CACHEINFO, METRICS, unknown ones), in order. */
  other?: Attribute[];
}
