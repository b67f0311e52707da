/**
 * Checks every plan must pass, stated independently of the planner's code: used by the
 * table-driven tests on each case and by the property test on random inputs.
 *
 * @module
 */

import { deepEqual, equal, fail, ok } from "node:assert/strict";
import { AF, IFF, RT_SCOPE, RTA, RTM_F, RTN } from "../../src/netlink/constants.ts";
import { type Cidr, cidrOverlaps, parseCidr } from "../../src/netlink/ip.ts";
import type { Link } from "../../src/netlink/link.ts";
import type { Route } from "../../src/netlink/route.ts";
import { compareRoutes } from "../../src/planner/order.ts";
import { isEmptyPlan, type Plan, type PlanInput, planSync } from "../../src/planner/plan.ts";
import { isSameCopy } from "../../src/planner/route_copy.ts";
import { prefixKey, routeKey } from "../../src/planner/route_identity.ts";
import { copyOf } from "./fixtures.ts";

const isCloned = (route: Route) => (route.flags & RTM_F.CLONED) !== 0;

const isLinkList = (links: PlanInput["links"]): links is readonly Link[] => Array.isArray(links);

function linkMap(input: PlanInput): ReadonlyMap<number, Link> {
  const links = input.links;
  return isLinkList(links) ? new Map(links.map((link) => [link.index, link])) : links;
}

const cidrOf = (route: Route): Cidr => ({
  family: route.family,
  address: route.dst,
  prefixLen: route.dstLen,
});

/** `outer` contains `inner` (equal or broader). */
const covers = (outer: Cidr, inner: Cidr) =>
  outer.prefixLen <= inner.prefixLen && cidrOverlaps(outer, inner);

/** The local address space, restated. */
const LOCAL = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "fc00::/7"]
  .concat(["fe80::/10"]).map(parseCidr);

/**
 * The spec's local address space: inside a private, link-local or ULA range or an allowed prefix,
 * not broader than it; or an IPv6 /64-or-longer holding a global address of the host on that link.
 */
export function inLocalSpace(route: Route, input: PlanInput): boolean {
  const dst = cidrOf(route);
  if ([...LOCAL, ...input.options.allowPrefixes ?? []].some((range) => covers(range, dst))) {
    return true;
  }
  return route.family === AF.INET6 && route.dstLen >= 64 &&
    input.addresses.some((a) =>
      a.family === AF.INET6 && a.scope === RT_SCOPE.UNIVERSE && a.index === route.oif &&
      covers(dst, { family: AF.INET6, address: a.address!, prefixLen: 128 })
    );
}

/** The catch-alls, restated. */
const CATCH_ALL = ["0.0.0.0/0", "0.0.0.0/1", "128.0.0.0/1", "::/0", "::/1", "8000::/1", "2000::/3"]
  .map(parseCidr);

/**
 * Under precedence `vpn`, the VPN route of `table` that must keep a copy of `route` out: the
 * longest foreign route covering it, if it is not a catch-all.
 */
export function winningVpnRoute(route: Route, routes: readonly Route[], input: PlanInput) {
  if ((input.options.precedence ?? "vpn") === "lan") return undefined;
  const catchAll = input.options.catchAll ?? CATCH_ALL;
  let best: Route | undefined;
  for (const r of routes) {
    if (r.protocol === input.options.protocol || isCloned(r)) continue;
    if (!covers(cidrOf(r), cidrOf(route))) continue;
    if (best === undefined || r.dstLen > best.dstLen) best = r;
  }
  if (best === undefined || best.dstLen === 0) return undefined;
  const isCatchAll = catchAll.some((c) =>
    c.family === best!.family && c.prefixLen === best!.dstLen && covers(c, cidrOf(best!))
  );
  return isCatchAll ? undefined : best;
}

/** The spec's rule for "this source route may be mirrored into a table with these foreign oifs". */
export function mayMirror(route: Route, input: PlanInput, tableOifs: ReadonlySet<number>): boolean {
  const { options } = input;
  const link = route.oif ? linkMap(input).get(route.oif) : undefined;
  const attrs = new Set((route.other ?? []).map((a) => a.type));
  if (route.multipath !== undefined && route.nhId === undefined) {
    // On-link multipath: every hop a device that could be mirrored on its own.
    return route.multipath.length > 0 &&
      route.multipath.every((hop) =>
        hop.gateway === undefined && (hop.other ?? []).length === 0 &&
        mayMirror(
          { ...route, multipath: undefined, oif: hop.oif, scope: RT_SCOPE.LINK },
          input,
          tableOifs,
        )
      ) &&
      (route.family === AF.INET6 || route.scope === RT_SCOPE.LINK ||
        route.scope === RT_SCOPE.UNIVERSE);
  }
  return options.families.includes(route.family) &&
    (route.family === AF.INET || route.family === AF.INET6) &&
    !isCloned(route) &&
    route.protocol !== options.protocol &&
    route.type === RTN.UNICAST &&
    route.dstLen > 0 &&
    route.srcLen === 0 &&
    route.multipath === undefined &&
    route.nhId === undefined &&
    route.gateway === undefined &&
    !attrs.has(RTA.VIA) && !attrs.has(RTA.ENCAP) && !attrs.has(RTA.ENCAP_TYPE) &&
    (route.family === AF.INET6 || route.scope === RT_SCOPE.LINK) &&
    link !== undefined &&
    link.name !== "lo" && (link.flags & IFF.LOOPBACK) === 0 &&
    !options.excludeDevices.includes(link.name) &&
    !options.exclude.some((cidr) =>
      cidrOverlaps(cidr, { family: route.family, address: route.dst, prefixLen: route.dstLen })
    ) &&
    !tableOifs.has(route.oif ?? 0) &&
    inLocalSpace(route, input);
}

/** Output interfaces (and multipath hop interfaces) of the foreign, non-cloned routes. */
export function foreignOifs(routes: readonly Route[], protocol: number): Set<number> {
  const oifs = new Set<number>();
  for (const route of routes) {
    if (route.protocol === protocol || isCloned(route)) continue;
    if (route.oif) oifs.add(route.oif);
    for (const hop of route.multipath ?? []) if (hop.oif) oifs.add(hop.oif);
  }
  return oifs;
}

/**
 * The target tables after applying `plan` the way the kernel would: replaces in place, deletes,
 * then adds.
 */
export function applyPlan(input: PlanInput, plan: Plan): Map<number, Route[]> {
  const deleted = new Set(plan.deletes);
  const replaced = new Map(plan.replaces.map((r) => [r.from, r.to]));
  const after = new Map<number, Route[]>();
  for (const [table, routes] of input.targets) {
    const kept = routes.filter((route) => !deleted.has(route))
      .map((route) => replaced.get(route) ?? route);
    for (const add of plan.adds.filter((a) => a.table === table)) {
      // The kernel refuses a route whose identity exists (IPv4 with NLM_F_EXCL; IPv6 same
      // metric and next hop): no add may collide with what is left in the table.
      const clash = kept.find((route) => !isCloned(route) && routeKey(route) === routeKey(add));
      if (clash) fail(`add ${routeKey(add)} collides with ${JSON.stringify(clash)}`);
      kept.push(add);
    }
    after.set(table, kept);
  }
  return after;
}

function assertSorted<T>(list: readonly T[], compare: (a: T, b: T) => number, what: string) {
  for (let i = 1; i < list.length; i++) {
    ok(compare(list[i - 1], list[i]) <= 0, `${what} not sorted at ${i}`);
  }
}

/** Asserts every invariant of `plan` for `input`, including idempotence after applying it. */
export function checkPlan(input: PlanInput, plan: Plan): void {
  const { protocol } = input.options;
  const allTargetRoutes = new Set([...input.targets.values()].flat());

  // Never a foreign delete; only routes that are really in a target table.
  for (const route of plan.deletes) {
    equal(route.protocol, protocol, `delete of a foreign route ${JSON.stringify(route)}`);
    ok(allTargetRoutes.has(route), "a delete is not a route of a target table");
    ok(input.targets.get(route.table)?.includes(route), "a delete is in another table");
    ok(!isCloned(route), "a delete is a cloned entry");
  }

  // Replaces swap one of ours for a copy of the same slot that differs from it.
  for (const { from, to } of plan.replaces) {
    equal(from.protocol, protocol, "replace of a foreign route");
    ok(input.targets.get(from.table)?.includes(from), "a replace is not in its table");
    equal(routeKey(from), routeKey(to), "a replace changes the slot");
    ok(!isSameCopy(from, to), "a replace of a copy that is right");
  }

  // linkmirror's routes split into unchanged, replaced and deletes.
  for (const [table, routes] of input.targets) {
    const ours = routes.filter((r) => r.protocol === protocol && !isCloned(r));
    const planned = [...plan.unchanged, ...plan.replaces.map((r) => r.from), ...plan.deletes]
      .filter((r) => r.table === table);
    equal(planned.length, ours.length, `table ${table}: unchanged + replaces + deletes != ours`);
    for (const route of ours) {
      ok(planned.includes(route), "one of ours is neither kept nor deleted");
    }
  }

  // Every add is a copy of an eligible source route, into a target table, in nobody's way.
  for (const add of plan.adds) {
    const routes = input.targets.get(add.table);
    ok(routes !== undefined, "add into a table that is not a target");
    equal(add.protocol, protocol);
    equal(add.flags & ~4, 0, "a copy carries no flag but onlink");
    const oifs = foreignOifs(routes, protocol);
    ok(
      input.source.some((s) =>
        mayMirror(s, input, oifs) && isEqual(copyOf(s, add.table, protocol), add)
      ),
      `add of an ineligible route ${JSON.stringify(add)}`,
    );
    const foreign = routes.filter((r) => r.protocol !== protocol && !isCloned(r));
    ok(!foreign.some((r) => prefixKey(r) === prefixKey(add)), "add collides with a foreign route");
    const winner = winningVpnRoute(add, routes, input);
    ok(winner === undefined, `add ${JSON.stringify(add)} where the VPN's route wins`);
    ok(add.priority !== undefined && add.priority >= 2 ** 31, "a copy below the metric offset");
  }
  equal(new Set(plan.adds.map(routeKey)).size, plan.adds.length, "two adds with one key");

  // Conflicts name only foreign routes of the wanted prefix.
  for (const conflict of plan.conflicts) {
    ok(conflict.existing.length > 0);
    for (const route of conflict.existing) {
      ok(route.protocol !== protocol, "a conflict blames one of ours");
      equal(route.table, conflict.table);
      equal(prefixKey(route), prefixKey(conflict.wanted));
    }
  }

  // Every source route is accounted for: excluded once at source level, or in each table.
  for (const source of input.source) {
    const general = plan.excluded.filter((e) => e.route === source && e.table === undefined);
    ok(general.length <= 1, "a source route excluded twice");
    if (general[0]?.reason === "outside-local-space") {
      ok(!inLocalSpace(source, input), `${JSON.stringify(source)} is local address space`);
    }
    if (general.length === 1) continue;
    for (const [table, routes] of input.targets) {
      const copy = copyOf(source, table, protocol);
      const outcomes = plan.excluded.filter((e) => e.route === source && e.table === table).length +
        plan.conflicts.filter((c) => c.table === table && isEqual(c.wanted, copy)).length +
        plan.adds.filter((a) => isEqual(a, copy)).length +
        plan.replaces.filter((r) => isEqual(r.to, copy)).length +
        plan.unchanged.filter((u) => u.table === table && isSameCopy(u, copy)).length;
      ok(outcomes >= 1, `source ${JSON.stringify(source)} has no outcome in table ${table}`);
      ok(mayMirror(source, input, foreignOifs(routes, protocol)) || outcomes === 1);
      // Refusals carry the right reason.
      for (const e of plan.excluded.filter((e) => e.route === source && e.table === table)) {
        if (e.reason !== "vpn-route-wins") continue;
        deepEqual(e.vpnRoute !== undefined, true, "vpn-route-wins without the VPN's route");
        ok(winningVpnRoute(source, routes, input) !== undefined, "vpn-route-wins without a winner");
      }
    }
  }

  // Sorted output.
  assertSorted(plan.adds, compareRoutes, "adds");
  assertSorted(plan.deletes, compareRoutes, "deletes");
  assertSorted(plan.unchanged, compareRoutes, "unchanged");
  assertSorted(plan.conflicts, (a, b) => compareRoutes(a.wanted, b.wanted), "conflicts");
  assertSorted(
    plan.excluded,
    (a, b) => compareRoutes(a.route, b.route) || (a.table ?? -1) - (b.table ?? -1),
    "excluded",
  );

  // Idempotence: apply (deletes, then adds) and plan again: nothing left to do.
  const next = planSync({ ...input, targets: applyPlan(input, plan) });
  ok(isEmptyPlan(next), `not idempotent: ${JSON.stringify({ ...next, excluded: [] })}`);
  deepEqual(next.conflicts, plan.conflicts);
  deepEqual(next.excluded, plan.excluded);
  equal(
    next.unchanged.length,
    plan.unchanged.length + plan.replaces.length + plan.adds.length,
  );
}

function isEqual(a: Route, b: Route): boolean {
  try {
    deepEqual(a, b);
    return true;
  } catch {
    return false;
  }
}
