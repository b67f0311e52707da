/**
 * Precedence: the VPN's own routes win over linkmirror's copies. A copy is made for a prefix only
 * when the VPN's best match for it in the target table — the longest of the table's own routes
 * (foreign to linkmirror, not cloned) whose prefix covers it, equal or broader — is one of the
 * VPN's catch-all routes, or when nothing matches. Any other covering route is a resource the VPN
 * routes on purpose (`192.168.0.0/16` behind the tunnel while the LAN is `192.168.188.0/24`): the
 * VPN wins, no copy is made, and an existing copy is withdrawn.
 *
 * The catch-alls are prefixes, compared exactly: {@linkcode DEFAULT_CATCH_ALL} unless configured
 * (`--catch-all`); a default route (prefix length 0) is always one. `--precedence lan` turns the
 * rule off: copies then win by longest-prefix match, as the kernel would choose.
 *
 * @example
 * ```ts
 * import { DEFAULT_CATCH_ALL, VpnRoutes } from "./precedence.ts";
 * const vpn = { family: 2, table: 539098368, srcLen: 0, tos: 0, protocol: 3, scope: 253, type: 1,
 *   flags: 0, oif: 9 };
 * const routes = new VpnRoutes(
 *   [{ ...vpn, dst: "0.0.0.0", dstLen: 0 }, { ...vpn, dst: "192.168.0.0", dstLen: 16 }],
 *   DEFAULT_CATCH_ALL,
 * );
 * routes.winner({ family: 2, dst: "192.168.188.0", dstLen: 24 })?.dstLen; // 16
 * routes.winner({ family: 2, dst: "10.1.0.0", dstLen: 16 }); // undefined (the default is a catch-all)
 * ```
 *
 * @module
 */

import { AF } from "../netlink/constants.ts";
import { type Cidr, ipv4Number, parseIp } from "../netlink/ip.ts";
import type { Route } from "../netlink/route.ts";
import { oncePerList } from "./per_list.ts";
import { routeMetric } from "./route_identity.ts";

/** Which side wins where a VPN route and a LAN copy both cover a destination. */
export const PRECEDENCES = ["vpn", "lan"] as const;

/** `vpn` (the default): the VPN's non-catch-all routes win; `lan`: longest prefix wins. */
export type Precedence = typeof PRECEDENCES[number];

/** The default precedence. */
export const DEFAULT_PRECEDENCE: Precedence = "vpn";

/**
 * The VPN routes that stand for "the rest of the Internet" rather than a resource: the defaults,
 * the split-default halves `0.0.0.0/1` + `128.0.0.0/1` and `::/1` + `8000::/1` (OpenVPN's
 * `def1`, wg-quick-style configurations), and IPv6 global unicast `2000::/3`. Written as what
 * `parseCidr` makes of them (a test holds them to it), not parsed when the module loads.
 */
export const DEFAULT_CATCH_ALL: readonly Cidr[] = Object.freeze([
  { family: AF.INET, address: "0.0.0.0", prefixLen: 0 },
  { family: AF.INET, address: "0.0.0.0", prefixLen: 1 },
  { family: AF.INET, address: "128.0.0.0", prefixLen: 1 },
  { family: AF.INET6, address: "::", prefixLen: 0 },
  { family: AF.INET6, address: "::", prefixLen: 1 },
  { family: AF.INET6, address: "8000::", prefixLen: 1 },
  { family: AF.INET6, address: "2000::", prefixLen: 3 },
]);

/** A destination prefix. */
type Prefix = Pick<Route, "family" | "dst" | "dstLen">;

/** The masked keys of a catch-all list, made once per list ({@linkcode oncePerList}). */
const catchAllKeys = oncePerList((prefixes: readonly Cidr[]): ReadonlySet<string> =>
  new Set(prefixes.map((c) => maskedKey(c.family, parseIp(c.address).bytes, c.prefixLen)))
);

/** Two hex digits per byte value, for keys. */
const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, "0"));

/** The prefix of `len` bits of `bytes` as a map key: family, length and the masked bits. */
function maskedKey(family: number, bytes: Uint8Array, len: number): string {
  if (bytes.length === 4) {
    const n = ((bytes[0] << 24) | (bytes[1] << 16) | (bytes[2] << 8) | bytes[3]) >>> 0;
    return `${family}/${len}:${len === 0 ? 0 : n >>> (32 - len)}`;
  }
  let key = `${family}/${len}:`;
  const full = len >> 3;
  for (let i = 0; i < full; i++) key += HEX[bytes[i]];
  const rest = len & 7;
  if (rest !== 0) key += HEX[bytes[full] & (0xff << (8 - rest)) & 0xff];
  return key;
}

/** A target table's own routes, indexed for best-match queries by prefix. */
export class VpnRoutes {
  /** The lowest-metric route per prefix, by masked key (IPv4 routes: see `#v4ByLength`). */
  readonly #byPrefix = new Map<string, Route>();
  /** The prefix lengths present, longest first, per family. */
  readonly #lengths = new Map<number, number[]>();
  /**
   * IPv4 routes: per prefix length, the lowest-metric route per masked 32-bit destination (as a
   * signed 32-bit number: a small integer, hashed without building a string).
   */
  readonly #v4ByLength: Map<number, Route>[] = [];
  readonly #catchAllPrefixes: readonly Cidr[];
  /** The catch-all prefixes by masked key, once needed (a default route needs none). */
  #catchAll: ReadonlySet<string> | undefined = undefined;
  /** Whether a route found as a best match is a catch-all, once computed. */
  readonly #catchAllRoutes = new Map<Route, boolean>();
  /** Whether some indexed IPv4 route is not a catch-all: else no IPv4 copy ever loses. */
  readonly #v4CanWin: boolean;

  /**
   * Indexes `routes` (the table's routes that are not linkmirror's and not cloned) and the
   * catch-all prefixes.
   */
  constructor(routes: readonly Route[], catchAll: readonly Cidr[]) {
    this.#catchAllPrefixes = catchAll;
    for (const route of routes) {
      const value = route.family === AF.INET ? ipv4Number(route.dst) : -1;
      let held: Route | undefined;
      let byPrefix: Map<number, Route> | undefined;
      let key: string | number;
      if (value >= 0) {
        byPrefix = this.#v4ByLength[route.dstLen] ??= new Map();
        key = masked(value, route.dstLen);
        held = byPrefix.get(key);
      } else {
        key = maskedKey(route.family, parseIp(route.dst).bytes, route.dstLen);
        held = this.#byPrefix.get(key);
      }
      if (held === undefined) {
        const lengths = this.#lengths.get(route.family) ?? [];
        if (!lengths.includes(route.dstLen)) lengths.push(route.dstLen);
        this.#lengths.set(route.family, lengths);
      }
      if (held === undefined || routeMetric(route) < routeMetric(held)) {
        if (byPrefix !== undefined) byPrefix.set(key as number, route);
        else this.#byPrefix.set(key as string, route);
      }
    }
    for (const lengths of this.#lengths.values()) lengths.sort((a, b) => b - a);
    let v4CanWin = false;
    for (const byPrefix of this.#v4ByLength) {
      if (byPrefix === undefined) continue;
      for (const route of byPrefix.values()) v4CanWin ||= !this.isCatchAll(route);
    }
    this.#v4CanWin = v4CanWin;
  }

  /**
   * The table's best match for `prefix`: its longest route whose prefix equals or contains
   * `prefix` (the lowest metric among equals), or undefined.
   */
  bestMatch(prefix: Prefix): Route | undefined {
    if (!this.#lengths.has(prefix.family)) return undefined;
    return this.bestMatchOf(prefix.family, parseIp(prefix.dst).bytes, prefix.dstLen);
  }

  /** {@linkcode VpnRoutes.bestMatch} for a destination already parsed (`bytes`, `len`). */
  bestMatchOf(family: number, bytes: Uint8Array, len: number): Route | undefined {
    if (family === AF.INET && bytes.length === 4) {
      const value = ((bytes[0] << 24) | (bytes[1] << 16) | (bytes[2] << 8) | bytes[3]) >>> 0;
      return this.bestMatchOfIpv4(value, len);
    }
    const lengths = this.#lengths.get(family);
    if (lengths === undefined) return undefined;
    for (const length of lengths) {
      if (length > len) continue;
      const route = this.#byPrefix.get(maskedKey(family, bytes, length));
      if (route !== undefined) return route;
    }
    return undefined;
  }

  /**
   * {@linkcode VpnRoutes.bestMatch} for an IPv4 destination given as its 32-bit value (see
   * `ipv4Number`) and prefix length `len`.
   */
  bestMatchOfIpv4(value: number, len: number): Route | undefined {
    const lengths = this.#lengths.get(AF.INET);
    if (lengths === undefined) return undefined;
    for (let i = 0; i < lengths.length; i++) {
      const length = lengths[i];
      if (length > len) continue;
      const route = this.#v4ByLength[length]?.get(masked(value, length));
      if (route !== undefined) return route;
    }
    return undefined;
  }

  /** Whether `route`'s prefix is a catch-all (a default route always is). */
  isCatchAll(route: Prefix): boolean {
    if (route.dstLen === 0) return true;
    this.#catchAll ??= catchAllKeys(this.#catchAllPrefixes);
    return this.#catchAll.has(maskedKey(route.family, parseIp(route.dst).bytes, route.dstLen));
  }

  /**
   * The VPN route that wins over a copy of `prefix` under precedence `vpn`: the best match when
   * it is not a catch-all; undefined when a copy may be made.
   */
  winner(prefix: Prefix): Route | undefined {
    if (!this.#lengths.has(prefix.family)) return undefined;
    return this.winnerOf(prefix.family, parseIp(prefix.dst).bytes, prefix.dstLen);
  }

  /** {@linkcode VpnRoutes.winner} for a destination already parsed (`bytes`, `len`). */
  winnerOf(family: number, bytes: Uint8Array, len: number): Route | undefined {
    return this.#unlessCatchAll(this.bestMatchOf(family, bytes, len));
  }

  /**
   * {@linkcode VpnRoutes.winner} for an IPv4 destination given as its 32-bit value (see
   * `ipv4Number`) and prefix length `len`.
   */
  winnerOfIpv4(value: number, len: number): Route | undefined {
    if (!this.#v4CanWin) return undefined;
    return this.#unlessCatchAll(this.bestMatchOfIpv4(value, len));
  }

  #unlessCatchAll(best: Route | undefined): Route | undefined {
    if (best === undefined) return undefined;
    let catchAll = this.#catchAllRoutes.get(best);
    if (catchAll === undefined) {
      catchAll = this.isCatchAll(best);
      this.#catchAllRoutes.set(best, catchAll);
    }
    return catchAll ? undefined : best;
  }
}

/** The top `len` bits of the IPv4 address `value`, as a signed 32-bit number (a map key). */
function masked(value: number, len: number): number {
  return len === 0 ? 0 : (value >>> (32 - len)) | 0;
}
