/**
 * The planner: from the source table, the target tables and the links, compute which copies to
 * delete and which to add. Pure: no I/O, same input → same (sorted) plan.
 *
 * @module
 */

import type { Address } from "../netlink/address.ts";
import { AF, RTM_F } from "../netlink/constants.ts";
import type { Link } from "../netlink/link.ts";
import type { NexthopObject } from "../netlink/nexthop.ts";
import type { Route } from "../netlink/route.ts";
import {
  type ExclusionReason,
  gatewayOnMirroredLan,
  isGatewayRoute,
  sourceExclusion,
  vpnInterfaces,
} from "./eligibility.ts";
import { LocalSpace } from "./local_space.ts";
import type { PlanOptions } from "./options.ts";
import { compareRoutes, RouteOrder, sortInPlace, sortRoutes } from "./order.ts";
import { DEFAULT_CATCH_ALL, VpnRoutes } from "./precedence.ts";
import { Candidate, dstKey } from "./candidate.ts";
import { WantedCopies } from "./wanted.ts";
import type { CopyTarget } from "./route_copy.ts";
import { prefixKey, replaceGroupKey } from "./route_identity.ts";

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
  /**
   * `"any"`: the adds, replaces, deletes and unchanged copies may come in any order (the order
   * of their candidates), for a caller that applies them and prints no list of them, such as the
   * daemon after a burst of events (a sort of its 6k adds was 8 ms of 90). Conflicts and
   * exclusions, which it logs, are sorted anyway. Default `"sorted"`.
   */
  order?: "sorted" | "any";
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
  // Indexed loops: in the first call (not yet optimized) a for-of allocates per element.
  const { source } = input;
  for (let i = 0; i < source.length; i++) {
    const route = source[i];
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

  // Adds and unchanged copies come in the candidates' order: sorted if the source table is.
  const order = { adds: new RouteOrder(), unchanged: new RouteOrder() };
  for (const [table, routes] of input.targets) {
    planTable(plan, order, table, routes, candidates, input, nexthops);
  }

  if (input.order !== "any") {
    sortRoutes(plan.adds, (route) => route, order.adds);
    sortRoutes(plan.replaces, (replacement) => replacement.to);
    sortRoutes(plan.deletes, (route) => route);
    sortRoutes(plan.unchanged, (route) => route, order.unchanged);
  }
  sortRoutes(plan.conflicts, (conflict) => conflict.wanted);
  sortInPlace(
    plan.excluded,
    (a, b) =>
      compareRoutes(a.route, b.route) || (a.table ?? -1) - (b.table ?? -1) ||
      (a.reason < b.reason ? -1 : a.reason > b.reason ? 1 : 0),
  );
  return plan;
}

/** Plans one target table (see {@linkcode planSync}) into `plan`. */
function planTable(
  plan: Plan,
  order: { adds: RouteOrder; unchanged: RouteOrder },
  table: number,
  routes: readonly Route[],
  candidates: readonly Candidate[],
  input: PlanInput,
  nexthops: ReadonlyMap<number, NexthopObject>,
): void {
  const { options } = input;
  const { protocol } = options;
  const foreign: Route[] = [];
  for (let i = 0; i < routes.length; i++) {
    const route = routes[i];
    if ((route.flags & RTM_F.CLONED) === 0 && route.protocol !== protocol) foreign.push(route);
  }
  const tableInterfaces = vpnInterfaces(foreign, protocol);
  const foreignByPrefix = groupBy(foreign, prefixKey);
  const foreignDsts = new Set(foreign.map(dstKey));
  const vpnRoutes = (options.precedence ?? "vpn") === "vpn"
    ? new VpnRoutes(foreign, options.catchAll ?? DEFAULT_CATCH_ALL)
    : undefined;
  const target: CopyTarget = { table, protocol };

  const wanted = new WantedCopies(candidates, target);
  // The on-link copies, for gateway routes (which come after every on-link one).
  // (Gateway routes come last: if there is one, the last candidate is one.)
  const lanCopies: Route[] | undefined = candidates.at(-1)?.viaGateway ? [] : undefined;
  for (let i = 0; i < candidates.length; i++) {
    const candidate = candidates[i];
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
    if (candidate.viaGateway && !gatewayOnMirroredLan(source, lanCopies!, nexthops)) {
      plan.excluded.push({ route: source, reason: "gateway-off-lan", table });
      continue;
    }
    // The copy has the source's family, destination and length.
    const inTheWay = foreignDsts.has(candidate.key)
      ? foreignByPrefix.get(prefixKey(source))
      : undefined;
    if (inTheWay !== undefined) {
      const existing = [...inTheWay].sort(compareRoutes);
      plan.conflicts.push({ table, wanted: candidate.copyFor(target), existing });
      continue;
    }
    if (!wanted.add(candidate)) {
      plan.excluded.push({ route: source, reason: "duplicate", table });
      continue;
    }
    if (lanCopies !== undefined) {
      const copy = candidate.copyFor(target);
      if (!isGatewayRoute(copy, nexthops)) lanCopies.push(copy);
    }
  }

  // First the copies that are right; the others, with the wanted candidate of their slot.
  const rest: Route[] = [];
  const restWanted: (Candidate | undefined)[] = [];
  for (let i = 0; i < routes.length; i++) {
    const route = routes[i];
    if ((route.flags & RTM_F.CLONED) !== 0 || route.protocol !== protocol) continue;
    const candidate = wanted.find(route);
    if (candidate !== undefined && !candidate.kept && wanted.exact) {
      candidate.kept = true;
      candidate.unchangedBy = route;
      plan.unchanged.push(route);
      order.unchanged.note(route, candidate.ipv4);
    } else {
      rest.push(route);
      restWanted.push(candidate);
    }
  }
  // Then one replace per slot; the rest goes. IPv6 replaces the first route of the prefix and
  // metric: only unambiguous when it is alone.
  let slots: Map<string, number> | undefined;
  for (let i = 0; i < rest.length; i++) {
    const route = rest[i];
    const candidate = restWanted[i];
    // The same route object twice: once unchanged is enough.
    if (candidate !== undefined && candidate.unchangedBy === route) continue;
    if (candidate === undefined || candidate.kept) {
      plan.deletes.push(route);
      continue;
    }
    if (route.family !== AF.INET) {
      slots ??= countBy(routes.filter((r) => (r.flags & RTM_F.CLONED) === 0), replaceGroupKey);
    }
    if (route.family === AF.INET || slots!.get(replaceGroupKey(route)) === 1) {
      candidate.kept = true;
      plan.replaces.push({ from: route, to: candidate.copyFor(target) });
    } else {
      plan.deletes.push(route);
    }
  }
  for (let i = 0; i < candidates.length; i++) {
    const candidate = candidates[i];
    if (!candidate.wanted || candidate.kept) continue;
    const copy = candidate.copyFor(target);
    plan.adds.push(copy);
    order.adds.note(copy, candidate.ipv4);
  }
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
