/**
 * Link messages (`struct ifinfomsg` + `IFLA_*` attributes): the typed {@linkcode Link} and its codec.
 *
 * @module
 */

import type { Attribute } from "./attributes.ts";

/** A network interface as rtnetlink carries it. */
export interface Link {
  /** Interface index. */
  index: number;
  /** `IFLA_IFNAME`. */
  name: string;
  /** `ifi_flags` (`IFF_*`). */
  flags: number;
  /** `ifi_type` (`ARPHRD_*`). */
  type: number;
  /** `IFLA_MTU`. */
  mtu?: number;
  /** `IFLA_OPERSTATE`. */
  operstate?: number;
  /** `IFLA_INFO_KIND` inside `IFLA_LINKINFO` (`veth`, `tun`, `bridge`, ...). */
  kind?: string;
  /** Attributes that are not modelled above, in order. */
  other?: Attribute[];
}
