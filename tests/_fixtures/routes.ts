/**
 * The route, next-hop, link and address builders of the unit tests: one place that knows which
 * fields a kernel message always carries, so a test states only what matters to it. Each test
 * folder keeps its own scenario (its links, its VPN's rules) and builds it with these.
 *
 * @module
 */

import { AF, RT_SCOPE, RT_TABLE, RTN, RTPROT } from "../../src/netlink/constants.ts";
import type { Address } from "../../src/netlink/address.ts";
import type { Link } from "../../src/netlink/link.ts";
import type { Nexthop, Route } from "../../src/netlink/route.ts";

/** Firezone's routing table. */
export const FIREZONE = 539098368;
/** wg-quick's routing table. */
export const WG_QUICK = 51820;
/** linkmirror's protocol in these tests. */
export const OURS = 77;

/**
 * A unicast route to `cidr` in `table` as `ip route add` makes it (`proto boot`, scope link for
 * IPv4 and universe for IPv6; the family follows the address), overridden by `extra`.
 *
 * @example
 * ```ts
 * import { route } from "./routes.ts";
 * route(539098368, "10.0.0.0/8", { oif: 2 }).dstLen; // 8
 * ```
 */
export function route(table: number, cidr: string, extra: Partial<Route> = {}): Route {
  const [dst, len] = cidr.split("/");
  const family = dst.includes(":") ? AF.INET6 : AF.INET;
  return {
    family,
    table,
    dst,
    dstLen: Number(len),
    srcLen: 0,
    tos: 0,
    protocol: RTPROT.BOOT,
    scope: family === AF.INET ? RT_SCOPE.LINK : RT_SCOPE.UNIVERSE,
    type: RTN.UNICAST,
    flags: 0,
    ...extra,
  };
}

/** An IPv4 on-link route in `main` (`proto kernel scope link`) via `oif`, overridden by `extra`. */
export function v4(cidr: string, oif: number | undefined, extra: Partial<Route> = {}): Route {
  return route(RT_TABLE.MAIN, cidr, {
    family: AF.INET,
    protocol: RTPROT.KERNEL,
    ...(oif === undefined ? {} : { oif }),
    ...extra,
  });
}

/** An IPv6 on-link route in `main` (`proto kernel metric 256`) via `oif`, overridden by `extra`. */
export function v6(cidr: string, oif: number | undefined, extra: Partial<Route> = {}): Route {
  return route(RT_TABLE.MAIN, cidr, {
    family: AF.INET6,
    protocol: RTPROT.KERNEL,
    priority: 256,
    ...(oif === undefined ? {} : { oif }),
    ...extra,
  });
}

/** A default route of `family` through `oif` in `table` (`proto boot`). */
export function defaultVia(table: number, oif: number, family: number = AF.INET): Route {
  return route(table, family === AF.INET ? "0.0.0.0/0" : "::/0", { oif });
}

/** One hop of a multipath route. */
export function hop(oif: number, gateway: string, flags = 0): Nexthop {
  return { oif, gateway, flags, hops: 0 };
}

/** An ethernet link (ARPHRD_ETHER), overridden by `extra`. */
export function link(index: number, name: string, flags: number, extra: Partial<Link> = {}): Link {
  return { index, name, flags, type: 1, ...extra };
}

/**
 * An address `cidr` (`address/prefixLen`, the family follows it) on link `index`: permanent, scope
 * global, with `local` as an IPv4 address has it; overridden by `extra`.
 */
export function address(cidr: string, index: number, extra: Partial<Address> = {}): Address {
  const [address, len] = cidr.split("/");
  const family = address.includes(":") ? AF.INET6 : AF.INET;
  return {
    family,
    index,
    prefixLen: Number(len),
    flags: 0x80,
    scope: 0,
    address,
    local: address,
    ...extra,
  };
}

/** An IPv6 address as the kernel reports it (no `local`; `permanent nodad`), overridden by `extra`. */
export function address6(
  index: number,
  address: string,
  prefixLen: number,
  extra: Partial<Address> = {},
): Address {
  return { family: AF.INET6, index, prefixLen, flags: 0x82, scope: 0, address, ...extra };
}
