/**
 * A candidate: a source route that passed the source-level checks, with what every target table
 * asks of it computed once (its destination as a number or bytes, whether it goes via a gateway,
 * its next hops' devices), and its state in the table being planned (wanted or not, the copy
 * found in the table). The planner's hot path: one object per source route, and the copy itself
 * is built only when it is added, replaces another or is reported.
 *
 * @example
 * ```ts
 * import { Candidate } from "./candidate.ts";
 * const lan = { family: 2, table: 254, dst: "192.168.1.0", dstLen: 24, srcLen: 0, tos: 0,
 *   protocol: 2, scope: 253, type: 1, flags: 0, oif: 2 };
 * const candidate = new Candidate(lan, new Map());
 * candidate.ipv4; // 3232235776
 * candidate.usesAny(new Set([2])); // true
 * candidate.copyFor({ table: 100, protocol: 77 }).priority; // 2147483648
 * ```
 *
 * @module
 */

import { AF } from "../netlink/constants.ts";
import { ipv4Number, parseIp } from "../netlink/ip.ts";
import type { NexthopObject } from "../netlink/nexthop.ts";
import type { Route } from "../netlink/route.ts";
import { isGatewayRoute, nextHops } from "./eligibility.ts";
import type { LocalSpace } from "./local_space.ts";
import type { VpnRoutes } from "./precedence.ts";
import { type CopyTarget, hasCopyKey, isCopyOf, isSameCopy, mirrorCopy } from "./route_copy.ts";
import { sameRouteKey } from "./route_identity.ts";

/**
 * The destination of `route` as a map key: an IPv4 address as its 32-bit value (`ipv4Number`,
 * as a signed 32-bit number: a small integer, hashed without reading the text), any other as its
 * text. Routes of one family with the same destination text have the same key; a key says
 * nothing of the family.
 *
 * @example
 * ```ts
 * import { dstKey } from "./candidate.ts";
 * dstKey({ family: 2, dst: "10.0.0.1" }); // 167772161
 * dstKey({ family: 2, dst: "192.168.0.0" }); // -1062731776
 * dstKey({ family: 10, dst: "fe80::" }); // "fe80::"
 * ```
 */
export function dstKey(route: Pick<Route, "family" | "dst">): number | string {
  const ipv4 = route.family === AF.INET ? ipv4Number(route.dst) : -1;
  return ipv4 < 0 ? route.dst : ipv4 | 0;
}

/** An eligible source route and its state in the target table being planned. */
export class Candidate {
  /** The source route. */
  readonly route: Route;
  /** An IPv4 destination as its 32-bit value (see `ipv4Number`); -1 for any other. */
  readonly ipv4: number;
  /** Its destination as a map key ({@linkcode dstKey}). */
  readonly key: number | string;
  /** The destination's bytes, when it is not an IPv4 address (`ipv4` is -1). */
  readonly bytes: Uint8Array | undefined;
  /** Whether it goes via a gateway (`isGatewayRoute`, given the nexthop objects). */
  readonly viaGateway: boolean;
  /** The output interface of a route that is its own single next hop (0: none). */
  readonly oif: number;
  /** The output interfaces of its next hops (`nextHops`), unless it is its own single hop. */
  readonly oifs: readonly number[] | undefined;

  // The state in the table being planned; see `startTable`.
  /** Its position among the candidates, in order. */
  position: number;
  /** Its copy for the table, once built (see `copyFor`). */
  copy: Route | undefined;
  /** Whether its copy is wanted in the table. */
  wanted: boolean;
  /** Whether a copy in the table takes its slot already (unchanged or replaced). */
  kept: boolean;
  /** The route of the table that is exactly its copy, once found. */
  unchangedBy: Route | undefined;
  /** The next wanted candidate with the same destination key (a chain of an index). */
  next: Candidate | undefined;

  /** Computes what every table asks of `route`, given the namespace's nexthop objects. */
  constructor(route: Route, nexthops: ReadonlyMap<number, NexthopObject>) {
    this.route = route;
    this.ipv4 = route.family === AF.INET ? ipv4Number(route.dst) : -1;
    this.key = this.ipv4 < 0 ? route.dst : this.ipv4 | 0;
    this.bytes = this.ipv4 < 0 ? parseIp(route.dst).bytes : undefined;
    this.viaGateway = isGatewayRoute(route, nexthops);
    const single = route.nhId === undefined && route.multipath === undefined;
    this.oif = single ? route.oif ?? 0 : 0;
    this.oifs = single ? undefined : (nextHops(route, nexthops) ?? []).map((hop) => hop.oif ?? 0);
    this.position = 0;
    this.copy = undefined;
    this.wanted = false;
    this.kept = false;
    this.unchangedBy = undefined;
    this.next = undefined;
  }

  /**
   * Forgets the state of the previous table (not wanted, no copy, nothing found) and notes the
   * candidate's `position` among all the candidates, in order.
   */
  startTable(position: number): void {
    this.position = position;
    this.copy = undefined;
    this.wanted = false;
    this.kept = false;
    this.unchangedBy = undefined;
    this.next = undefined;
  }

  /** Whether its destination is local address space ({@linkcode LocalSpace}). */
  isLocal(space: LocalSpace): boolean {
    const { route } = this;
    if (this.bytes === undefined) return space.admitsIpv4(this.ipv4, route.dstLen);
    const dst = { family: route.family, bytes: this.bytes, prefixLen: route.dstLen };
    return space.admitsPrefix(dst, route.oif);
  }

  /** Whether one of its next hops leaves through one of `interfaces`. */
  usesAny(interfaces: ReadonlySet<number>): boolean {
    if (interfaces.size === 0) return false;
    if (this.oifs === undefined) return interfaces.has(this.oif);
    return this.oifs.some((oif) => interfaces.has(oif));
  }

  /** The VPN route that wins over its copy, if any ({@linkcode VpnRoutes.winner}). */
  vpnWinner(vpnRoutes: VpnRoutes): Route | undefined {
    const { route } = this;
    return this.bytes === undefined
      ? vpnRoutes.winnerOfIpv4(this.ipv4, route.dstLen)
      : vpnRoutes.winnerOf(route.family, this.bytes, route.dstLen);
  }

  /** Its copy for `target` (the table being planned), built once per table. */
  copyFor(target: CopyTarget): Route {
    return this.copy ??= mirrorCopy(this.route, target);
  }

  /** Whether `route` takes the slot of its copy for `target` (`hasCopyKey`). */
  hasCopyKey(route: Route, target: CopyTarget): boolean {
    // A route with a nexthop object or multipath: by its copy, built once.
    return this.oifs === undefined
      ? hasCopyKey(route, this.route, target)
      : sameRouteKey(route, this.copyFor(target));
  }

  /**
   * Whether `existing` is exactly its copy for `target` and takes that copy's slot: `isCopy`
   * and `hasCopyKey` both. (The copy of a source that is its own single next hop is in the slot
   * whenever it is the copy; another can be equal without, e.g. with a device beside its hops.)
   */
  isCopyInSlot(existing: Route, target: CopyTarget): boolean {
    if (this.oifs === undefined) return isCopyOf(existing, this.route, target);
    const copy = this.copyFor(target);
    return sameRouteKey(existing, copy) && isSameCopy(existing, copy);
  }

  /** Whether `existing` is exactly its copy for `target` (`isCopyOf`). */
  isCopy(existing: Route, target: CopyTarget): boolean {
    return this.oifs === undefined
      ? isCopyOf(existing, this.route, target)
      : isSameCopy(existing, this.copyFor(target));
  }
}
