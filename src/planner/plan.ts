/**
 * The planner: from the source table, the target tables and the links, compute which copies to
 * delete and which to add. Pure: no I/O, same input → same (sorted) plan.
 *
 * @module
 */

import type { Address } from "../netlink/address.ts";
import { AF, RTM_F } from "../netlink/constants.ts";
import { ipv4Number, parseIp } from "../netlink/ip.ts";
import type { Link } from "../netlink/link.ts";
import type { NexthopObject } from "../netlink/nexthop.ts";
import type { Route } from "../netlink/route.ts";
import {
  type ExclusionReason,
  gatewayOnMirroredLan,
  isGatewayRoute,
  nextHops,
  sourceExclusion,
  vpnInterfaces,
} from "./eligibility.ts";
import { LocalSpace } from "./local_space.ts";
import type { PlanOptions } from "./options.ts";
import { compareRoutes, sortInPlace } from "./order.ts";
import { DEFAULT_CATCH_ALL, VpnRoutes } from "./precedence.ts";
import { isSameCopy, mirrorCopy } from "./route_copy.ts";
import { prefixKey, replaceGroupKey, sameRouteKey } from "./route_identity.ts";

/** What {@linkcode planSync} plans from. */
export interface PlanInput {
  /** Every route of the source table (normally `main`), in the kernel's dump order. */
  source: readonly Route[];
  /** Every route now in each target table, by table id. */
  targets: ReadonlyMap<number, readonly Route[]>;
  /** The links, by interface index or as a list (for names, `lo` and `--exclude-dev`). */
  links: ReadonlyMap<number, Link> | readonly Link[];
  /**
   * The namespace's nexthop objects, by id or as a list: routes using one are judged by it.
   * Absent: none (a route using an object is then not mirrored).
   */
  nexthops?: ReadonlyMap<number, NexthopObject> | readonly NexthopObject[];
  /**
   * The host's addresses, both families: an IPv6 global prefix is local address space only where
   * the host holds an address in it on that link (see local_space.ts).
   */
  addresses: readonly Address[];
  /** Protocol, families, exclusions, allowed prefixes and precedence. */
  options: PlanOptions;
}

/** A wanted copy that is not added because foreign routes hold its prefix in the target table. */
export interface Conflict {
  /** The target table. */
  table: number;
  /** The copy that would have been added. */
  wanted: Route;
  /** The foreign routes with the same family, destination and prefix length (any metric/device). */
  existing: Route[];
}

/** A copy of linkmirror's that is out of date, and the copy that replaces it in its slot. */
export interface Replacement {
  /** The copy now in the table, as read from it. */
  from: Route;
  /** The wanted copy (same {@linkcode routeKey}), to put in its place with `NLM_F_REPLACE`. */
  to: Route;
}

/** A source route that is not mirrored, and why. */
export interface Excluded {
  /** The source route. */
  route: Route;
  /** Why it is not mirrored. */
  reason: ExclusionReason;
  /**
   * The target table, for per-table reasons (`vpn-interface`, `duplicate`, `gateway-off-lan`,
   * `vpn-route-wins`); absent otherwise.
   */
  table?: number;
  /** For `vpn-route-wins`: the VPN's route that covers the prefix and wins. */
  vpnRoute?: Route;
}

/**
 * What to change in the target tables. `replaces` are copies whose source changed an attribute
 * but not its slot ({@linkcode routeKey}): each is one atomic `NLM_F_REPLACE` of the copy there,
 * never a delete and an add. Other changes are deletes of stale copies and adds of new ones.
 * `deletes` only ever holds routes whose protocol is linkmirror's. Every list is sorted
 * ({@linkcode compareRoutes}, then table and reason).
 *
 * For the executor: send replaces with `NLM_F_CREATE | NLM_F_REPLACE`; add IPv4 copies with
 * `NLM_F_CREATE | NLM_F_EXCL`, IPv6 copies with `NLM_F_CREATE` only (with `NLM_F_EXCL` the
 * kernel refuses a second `fe80::/64` of the same metric on another device; see
 * {@linkcode routeKey}); send deletes with `rtm_protocol` set, so that the kernel itself refuses
 * to remove a route of another protocol. Apply replaces and deletes before adds: an IPv4 add may
 * take the slot a delete frees.
 */
export interface Plan {
  /** Copies to create: table = the target, protocol = linkmirror's. */
  adds: Route[];
  /** Copies to put in place of linkmirror's copy of the same slot, atomically (`NLM_F_REPLACE`). */
  replaces: Replacement[];
  /** linkmirror's routes to remove, as read from the target tables. */
  deletes: Route[];
  /** Wanted copies not added because a foreign route holds their prefix. */
  conflicts: Conflict[];
  /** Source routes not mirrored, with the reason. */
  excluded: Excluded[];
  /** linkmirror's routes that are already right. */
  unchanged: Route[];
}

/**
 * Plans the sync of every target table with the source table.
 *
 * The decision per source route, in this order, each step with its own exclusion reason:
 * 1. its shape ({@linkcode sourceExclusion});
 * 2. local address space ({@linkcode LocalSpace}: the defaults plus `options.allowPrefixes`, and
 *    IPv6 /64s holding one of `input.addresses` on that link), else `outside-local-space`;
 * 3. per target table: not on one of the table's own interfaces ({@linkcode vpnInterfaces}), else
 *    `vpn-interface`; then precedence: under `options.precedence` `vpn` (the default), the table's
 *    best match for the prefix among its foreign routes must be a catch-all or nothing
 *    ({@linkcode VpnRoutes}), else `vpn-route-wins` naming that route;
 * 4. the copy ({@linkcode mirrorCopy}, at the source metric plus the copy offset).
 *
 * A wanted copy whose prefix a foreign route in the table already has is a conflict; one whose {@linkcode routeKey} an earlier copy already took is excluded as
 * `duplicate` (the first source route wins: in the kernel's dump order it is the one lookups
 * use). linkmirror's routes in the table (protocol = `options.protocol`) that equal a wanted
 * copy are unchanged (once per key); one of the same key that differs in an attribute is
 * replaced, unless it is IPv6 and another route of the table shares its prefix and metric (the
 * kernel's IPv6 replace picks the first such route, whatever its device): then it is deleted and
 * the copy added. All others are deleted; wanted copies left are added. Cloned entries in
 * target tables are ignored. Routes using a nexthop object are judged by the object in
 * `nexthops` (a group by its members) and copied by reference to it.
 *
 * With `options.includeGatewayRoutes`, eligible gateway routes are considered after every on-link
 * route of the table, by the same rules, and only if their gateway lies inside an on-link copy
 * wanted in that table on the same interface ({@linkcode gatewayOnMirroredLan}); otherwise they
 * are excluded as `gateway-off-lan`.
 *
 * @example
 * ```ts
 * import { planOptions } from "./options.ts";
 * import { planSync } from "./plan.ts";
 * const route = { table: 254, srcLen: 0, tos: 0, protocol: 2, scope: 253, type: 1, flags: 0 };
 * const plan = planSync({
 *   source: [{ ...route, family: 2, dst: "192.168.1.0", dstLen: 24, oif: 2 }],
 *   targets: new Map([[51820, [{ ...route, family: 2, table: 51820, dst: "0.0.0.0", dstLen: 0,
 *     protocol: 3, oif: 9 }]]]),
 *   links: [{ index: 2, name: "eth0", flags: 0, type: 1 }, { index: 9, name: "wg0", flags: 0,
 *     type: 65534 }],
 *   addresses: [],
 *   options: planOptions(),
 * });
 * plan.adds; // [{ family: 2, table: 51820, dst: "192.168.1.0", dstLen: 24, oif: 2,
 *            //    protocol: 77, scope: 253, type: 1, flags: 0, srcLen: 0, tos: 0,
 *            //    priority: 2147483648 }]
 * ```
 */
export function planSync(input: PlanInput): Plan {
  const { options } = input;
  const links = linksByIndex(input.links);
  const nexthops = nexthopsById(input.nexthops);
  const plan: Plan = {
    adds: [],
    replaces: [],
    deletes: [],
    conflicts: [],
    excluded: [],
    unchanged: [],
  };

  const localSpace = new LocalSpace({
    allow: options.allowPrefixes ?? [],
    addresses: input.addresses,
  });
  // On-link routes first: a gateway route is mirrored only if its LAN is.
  const onLink: Candidate[] = [];
  const viaGateway: Candidate[] = [];
  for (const route of input.source) {
    let reason = sourceExclusion(route, links, options, nexthops);
    let candidate: Candidate | undefined;
    if (reason === undefined) {
      candidate = new Candidate(route, nexthops);
      if (!candidate.isLocal(localSpace)) reason = "outside-local-space";
    }
    if (reason !== undefined) plan.excluded.push({ route, reason });
    else if (candidate!.viaGateway) viaGateway.push(candidate!);
    else onLink.push(candidate!);
  }
  const candidates = viaGateway.length === 0 ? onLink : [...onLink, ...viaGateway];

  for (const [table, routes] of input.targets) {
    planTable(plan, table, routes, candidates, input, nexthops);
  }

  sortInPlace(plan.adds, compareRoutes);
  sortInPlace(plan.replaces, (a, b) => compareRoutes(a.to, b.to));
  sortInPlace(plan.deletes, compareRoutes);
  sortInPlace(plan.unchanged, compareRoutes);
  sortInPlace(plan.conflicts, (a, b) => compareRoutes(a.wanted, b.wanted));
  sortInPlace(
    plan.excluded,
    (a, b) =>
      compareRoutes(a.route, b.route) || (a.table ?? -1) - (b.table ?? -1) ||
      (a.reason < b.reason ? -1 : a.reason > b.reason ? 1 : 0),
  );
  return plan;
}

/** An eligible source route, with what every target table asks of it computed once. */
class Candidate {
  /** The source route. */
  readonly route: Route;
  /** An IPv4 destination as its 32-bit value; -1 for any other (see `bytes`). */
  readonly ipv4: number;
  /** The destination's bytes, when it is not an IPv4 address (`ipv4` is -1). */
  readonly bytes: Uint8Array | undefined;
  /** Whether it goes via a gateway ({@linkcode isGatewayRoute}). */
  readonly viaGateway: boolean;
  /** The output interfaces of its next hops ({@linkcode nextHops}), `oif` alone if it has one. */
  readonly oifs: readonly number[] | undefined;
  /** The output interface of a route that is its own single next hop (0: none). */
  readonly oif: number;

  constructor(route: Route, nexthops: ReadonlyMap<number, NexthopObject>) {
    this.route = route;
    this.ipv4 = route.family === AF.INET ? ipv4Number(route.dst) : -1;
    this.bytes = this.ipv4 < 0 ? parseIp(route.dst).bytes : undefined;
    this.viaGateway = isGatewayRoute(route, nexthops);
    const single = route.nhId === undefined && route.multipath === undefined;
    this.oif = single ? route.oif ?? 0 : 0;
    this.oifs = single ? undefined : (nextHops(route, nexthops) ?? []).map((hop) => hop.oif ?? 0);
  }

  /** Whether its destination is local address space. */
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
}

/** A copy wanted in a table; wanted copies of one destination are chained (`next`). */
class Wanted {
  /** The copy. */
  readonly copy: Route;
  /** The next wanted copy of the same destination text. */
  readonly next: Wanted | undefined;
  /** Whether a copy in the table already takes its slot (unchanged or replaced). */
  kept = false;
  /** The copy of the table that is exactly this one, if found. */
  unchangedBy: Route | undefined = undefined;

  constructor(copy: Route, next: Wanted | undefined) {
    this.copy = copy;
    this.next = next;
  }
}

/** The wanted copy with the same {@linkcode routeKey} as `route`, if any. */
function wantedOf(wanted: ReadonlyMap<string, Wanted>, route: Route): Wanted | undefined {
  for (let w = wanted.get(route.dst); w !== undefined; w = w.next) {
    if (sameRouteKey(w.copy, route)) return w;
  }
  return undefined;
}

/** Plans one target table (see {@linkcode planSync}) into `plan`. */
function planTable(
  plan: Plan,
  table: number,
  routes: readonly Route[],
  candidates: readonly Candidate[],
  input: PlanInput,
  nexthops: ReadonlyMap<number, NexthopObject>,
): void {
  const { options } = input;
  const live: Route[] = [];
  const ours: Route[] = [];
  const foreign: Route[] = [];
  for (const route of routes) {
    if ((route.flags & RTM_F.CLONED) !== 0) continue;
    live.push(route);
    if (route.protocol === options.protocol) ours.push(route);
    else foreign.push(route);
  }
  const tableInterfaces = vpnInterfaces(foreign, options.protocol);
  const foreignByPrefix = groupBy(foreign, prefixKey);
  const foreignDsts = new Set(foreign.map((route) => route.dst));
  const vpnRoutes = (options.precedence ?? "vpn") === "vpn"
    ? new VpnRoutes(foreign, options.catchAll ?? DEFAULT_CATCH_ALL)
    : undefined;
  const target = { table, protocol: options.protocol };

  // The wanted copies by destination text, and in the order they were wanted.
  const wanted = new Map<string, Wanted>();
  const wantedInOrder: Wanted[] = [];
  // The on-link copies, for gateway routes (which come after every on-link one).
  const lanCopies: Route[] = [];
  for (const candidate of candidates) {
    const source = candidate.route;
    if (candidate.usesAny(tableInterfaces)) {
      plan.excluded.push({ route: source, reason: "vpn-interface", table });
      continue;
    }
    const vpnRoute = vpnRoutes === undefined ? undefined : candidate.vpnWinner(vpnRoutes);
    if (vpnRoute !== undefined) {
      plan.excluded.push({ route: source, reason: "vpn-route-wins", table, vpnRoute });
      continue;
    }
    if (candidate.viaGateway && !gatewayOnMirroredLan(source, lanCopies, nexthops)) {
      plan.excluded.push({ route: source, reason: "gateway-off-lan", table });
      continue;
    }
    const copy = mirrorCopy(source, target);
    const inTheWay = foreignDsts.has(copy.dst) ? foreignByPrefix.get(prefixKey(copy)) : undefined;
    if (inTheWay !== undefined) {
      plan.conflicts.push({ table, wanted: copy, existing: [...inTheWay].sort(compareRoutes) });
      continue;
    }
    if (wantedOf(wanted, copy) !== undefined) {
      plan.excluded.push({ route: source, reason: "duplicate", table });
      continue;
    }
    const entry = new Wanted(copy, wanted.get(copy.dst));
    wanted.set(copy.dst, entry);
    wantedInOrder.push(entry);
    if (!isGatewayRoute(copy, nexthops)) lanCopies.push(copy);
  }

  // First the copies that are right, then one replace per slot, then the rest goes.
  const found: (Wanted | undefined)[] = new Array(ours.length);
  for (let i = 0; i < ours.length; i++) {
    const route = ours[i];
    const entry = found[i] = wantedOf(wanted, route);
    if (entry !== undefined && !entry.kept && isSameCopy(route, entry.copy)) {
      entry.kept = true;
      entry.unchangedBy = route;
      plan.unchanged.push(route);
    }
  }
  // IPv6 replaces the first route of the prefix and metric: only unambiguous when it is alone.
  let slots: Map<string, number> | undefined;
  for (let i = 0; i < ours.length; i++) {
    const route = ours[i];
    const entry = found[i];
    if (entry === undefined) {
      plan.deletes.push(route);
      continue;
    }
    if (entry.unchangedBy === route) continue;
    if (entry.kept) {
      plan.deletes.push(route);
      continue;
    }
    slots ??= countBy(live, replaceGroupKey);
    if (route.family === AF.INET || slots.get(replaceGroupKey(route)) === 1) {
      entry.kept = true;
      plan.replaces.push({ from: route, to: entry.copy });
    } else {
      plan.deletes.push(route);
    }
  }
  for (const entry of wantedInOrder) if (!entry.kept) plan.adds.push(entry.copy);
}

/**
 * Whether a plan changes nothing (no deletes, replaces or adds); conflicts and exclusions may
 * remain.
 *
 * @example
 * ```ts
 * import { isEmptyPlan } from "./plan.ts";
 * isEmptyPlan({ adds: [], replaces: [], deletes: [], conflicts: [], excluded: [],
 *   unchanged: [] }); // true
 * ```
 */
export function isEmptyPlan(plan: Plan): boolean {
  return plan.adds.length === 0 && plan.replaces.length === 0 && plan.deletes.length === 0;
}

function isLinkList(links: PlanInput["links"]): links is readonly Link[] {
  return Array.isArray(links);
}

function linksByIndex(links: PlanInput["links"]): ReadonlyMap<number, Link> {
  return isLinkList(links) ? new Map(links.map((link) => [link.index, link])) : links;
}

function nexthopsById(
  nexthops: PlanInput["nexthops"],
): ReadonlyMap<number, NexthopObject> {
  if (nexthops === undefined) return new Map();
  if (Array.isArray(nexthops)) return new Map(nexthops.map((nh) => [nh.id, nh]));
  return nexthops as ReadonlyMap<number, NexthopObject>;
}

function countBy(routes: readonly Route[], key: (route: Route) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const route of routes) {
    const k = key(route);
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return counts;
}

function groupBy(routes: readonly Route[], key: (route: Route) => string): Map<string, Route[]> {
  const groups = new Map<string, Route[]>();
  for (const route of routes) {
    const k = key(route);
    const group = groups.get(k);
    if (group === undefined) groups.set(k, [route]);
    else group.push(route);
  }
  return groups;
}
