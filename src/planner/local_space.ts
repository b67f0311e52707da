/**
 * The local address space: the only destinations linkmirror mirrors, so that a hostile LAN cannot
 * pull traffic out of the tunnel (TunnelVision, CVE-2024-3661) by announcing on-link routes for
 * public space (DHCP option 121, a router advertisement's route information, a /1 netmask).
 *
 * Policy, in order:
 * 1. A prefix inside one of the allowed ranges and not broader than it is local. The ranges are
 *    {@linkcode LOCAL_SPACE} (RFC 1918, IPv4 link-local, IPv6 ULA and link-local) plus the user's
 *    `--allow-prefix` prefixes. `192.168.0.0/15` is not local: it is broader than `192.168.0.0/16`.
 * 2. An IPv6 prefix of length {@linkcode MIN_GLOBAL_IPV6_PREFIX_LEN} (64) or longer is local when it
 *    contains a global-scope address the host holds on the route's own interface (a SLAAC or
 *    DHCPv6 LAN). A router advertisement can announce `2000::/3` but not give the host an address
 *    in a prefix shorter than /64.
 * 3. Anything else is not: public IPv4 space, CGNAT `100.64.0.0/10` (where Firezone and Tailscale
 *    put their tunnels), multicast, and every prefix broader than the ranges above.
 *
 * @example
 * ```ts
 * import { LocalSpace } from "./local_space.ts";
 * import { parseCidr } from "../netlink/ip.ts";
 * const space = new LocalSpace({ allow: [parseCidr("198.51.100.0/24")], addresses: [] });
 * space.admits({ family: 2, dst: "192.168.188.0", dstLen: 24, oif: 2 }); // true
 * space.admits({ family: 2, dst: "0.0.0.0", dstLen: 1, oif: 2 }); // false
 * space.admits({ family: 2, dst: "198.51.100.0", dstLen: 24, oif: 2 }); // true
 * space.admits({ family: 2, dst: "100.64.0.0", dstLen: 10, oif: 2 }); // false
 * ```
 *
 * @module
 */

import type { Address } from "../netlink/address.ts";
import { AF, IFA_F, RT_SCOPE } from "../netlink/constants.ts";
import { type Cidr, parseIp } from "../netlink/ip.ts";
import type { Route } from "../netlink/route.ts";
import { oncePerList } from "./per_list.ts";

/**
 * The ranges mirrored by default: `10.0.0.0/8`, `172.16.0.0/12`, `192.168.0.0/16`,
 * `169.254.0.0/16`, `fc00::/7`, `fe80::/10`. Written as what `parseCidr` makes of them (a test
 * holds them to it): parsing them when the module loads cost every command ~1 ms of cold code.
 */
export const LOCAL_SPACE: readonly Cidr[] = Object.freeze([
  { family: AF.INET, address: "10.0.0.0", prefixLen: 8 },
  { family: AF.INET, address: "172.16.0.0", prefixLen: 12 },
  { family: AF.INET, address: "192.168.0.0", prefixLen: 16 },
  { family: AF.INET, address: "169.254.0.0", prefixLen: 16 },
  { family: AF.INET6, address: "fc00::", prefixLen: 7 },
  { family: AF.INET6, address: "fe80::", prefixLen: 10 },
]);

/** The shortest IPv6 global prefix admitted because the host holds an address in it. */
export const MIN_GLOBAL_IPV6_PREFIX_LEN = 64;

/** A prefix as bytes, parsed once for many containment tests. */
export interface PrefixBytes {
  /** `AF_INET` or `AF_INET6`. */
  family: number;
  /** The address, network byte order. */
  bytes: Uint8Array;
  /** Prefix length. */
  prefixLen: number;
}

/**
 * A prefix as {@linkcode PrefixBytes}.
 *
 * @example
 * ```ts
 * import { prefixBytes } from "./local_space.ts";
 * prefixBytes({ family: 2, address: "10.0.0.0", prefixLen: 8 }).bytes; // Uint8Array [10, 0, 0, 0]
 * ```
 */
export function prefixBytes(cidr: Cidr): PrefixBytes {
  return { family: cidr.family, bytes: parseIp(cidr.address).bytes, prefixLen: cidr.prefixLen };
}

/**
 * Whether `outer` contains `inner`: same family, `outer` not longer, and the first
 * `outer.prefixLen` bits equal.
 *
 * @example
 * ```ts
 * import { prefixBytes, prefixContains } from "./local_space.ts";
 * import { parseCidr } from "../netlink/ip.ts";
 * const p = (text: string) => prefixBytes(parseCidr(text));
 * prefixContains(p("192.168.0.0/16"), p("192.168.188.0/24")); // true
 * prefixContains(p("192.168.0.0/16"), p("192.168.0.0/15")); // false
 * ```
 */
export function prefixContains(outer: PrefixBytes, inner: PrefixBytes): boolean {
  if (outer.family !== inner.family || outer.prefixLen > inner.prefixLen) return false;
  const full = outer.prefixLen >> 3;
  for (let i = 0; i < full; i++) if (outer.bytes[i] !== inner.bytes[i]) return false;
  const rest = outer.prefixLen & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (outer.bytes[full] & mask) === (inner.bytes[full] & mask);
}

/** What {@linkcode LocalSpace} is built from. */
export interface LocalSpaceInput {
  /** `--allow-prefix`: ranges admitted besides {@linkcode LOCAL_SPACE}. */
  allow: readonly Cidr[];
  /** The host's addresses (both families; only IPv6 global ones on a route's link count). */
  addresses: readonly Address[];
}

/** The admitted ranges parsed, and the IPv4 ones as numbers (see {@linkcode LocalSpace}). */
interface ParsedRanges {
  ranges: readonly PrefixBytes[];
  /** The IPv4 ranges as 32-bit network values, for {@linkcode LocalSpace.admitsIpv4}. */
  v4Networks: readonly number[];
  /** The prefix length of each of `v4Networks`. */
  v4Lengths: readonly number[];
}

function parseRanges(allow: readonly Cidr[]): ParsedRanges {
  const ranges = [...LOCAL_SPACE, ...allow].map(prefixBytes);
  const v4Networks: number[] = [];
  const v4Lengths: number[] = [];
  for (const { family, bytes, prefixLen } of ranges) {
    if (family !== AF.INET || bytes.length !== 4) continue;
    v4Networks.push(((bytes[0] << 24) | (bytes[1] << 16) | (bytes[2] << 8) | bytes[3]) >>> 0);
    v4Lengths.push(prefixLen);
  }
  return { ranges, v4Networks, v4Lengths };
}

/**
 * The parsed ranges of an `--allow-prefix` list, parsed once per list ({@linkcode oncePerList}):
 * ~10 address parses, IPv6 ones among them.
 */
const rangesOf = oncePerList(parseRanges);

/** The local address space of one host: the test the planner applies to every source route. */
export class LocalSpace {
  readonly #ranges: readonly PrefixBytes[];
  /** The IPv4 ranges as 32-bit network values, for {@linkcode LocalSpace.admitsIpv4}. */
  readonly #v4Networks: readonly number[];
  /** The prefix length of each of {@linkcode LocalSpace.#v4Networks}. */
  readonly #v4Lengths: readonly number[];
  /** Global IPv6 addresses by interface index. */
  readonly #globalV6 = new Map<number, PrefixBytes[]>();

  /** Takes the parsed ranges and indexes the host's global IPv6 addresses by interface. */
  constructor(input: LocalSpaceInput) {
    const parsed = rangesOf(input.allow);
    this.#ranges = parsed.ranges;
    this.#v4Networks = parsed.v4Networks;
    this.#v4Lengths = parsed.v4Lengths;
    for (const address of input.addresses) {
      if (address.family !== AF.INET6 || address.scope !== RT_SCOPE.UNIVERSE) continue;
      if ((address.flags & IFA_F.DADFAILED) !== 0) continue;
      const text = address.local ?? address.address;
      if (text === undefined) continue;
      const list = this.#globalV6.get(address.index) ?? [];
      list.push({ family: AF.INET6, bytes: parseIp(text).bytes, prefixLen: 128 });
      this.#globalV6.set(address.index, list);
    }
  }

  /** Whether a route's destination is local address space (see the module's policy). */
  admits(route: Pick<Route, "family" | "dst" | "dstLen" | "oif">): boolean {
    if (route.family !== AF.INET && route.family !== AF.INET6) return false;
    const dst = { family: route.family, bytes: parseIp(route.dst).bytes, prefixLen: route.dstLen };
    return this.admitsPrefix(dst, route.oif);
  }

  /**
   * {@linkcode LocalSpace.admits} for an IPv4 destination given as its 32-bit value (see
   * `ipv4Number`) and prefix length: no parsing, no allocation.
   */
  admitsIpv4(value: number, prefixLen: number): boolean {
    const networks = this.#v4Networks, lengths = this.#v4Lengths;
    for (let i = 0; i < networks.length; i++) {
      const len = lengths[i];
      if (len > prefixLen) continue;
      if (len === 0 || ((networks[i] ^ value) >>> (32 - len)) === 0) return true;
    }
    return false;
  }

  /** {@linkcode LocalSpace.admits} for a destination already parsed, on interface `oif`. */
  admitsPrefix(dst: PrefixBytes, oif: number | undefined): boolean {
    for (const range of this.#ranges) if (prefixContains(range, dst)) return true;
    if (dst.family !== AF.INET6 || dst.prefixLen < MIN_GLOBAL_IPV6_PREFIX_LEN) return false;
    const held = this.#globalV6.get(oif ?? 0) ?? [];
    return held.some((address) => prefixContains(dst, address));
  }
}
