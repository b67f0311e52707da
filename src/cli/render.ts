/**
 * How routes and plans are shown: text in `ip route` words for people, and the stable JSON
 * document of `plan --json`. Pure.
 *
 * @module
 */

import { AF, RT_SCOPE, RTN } from "../netlink/constants.ts";
import { formatCidr } from "../netlink/ip.ts";
import type { Route } from "../netlink/route.ts";
import type { Plan } from "../planner/plan.ts";
import { EXCLUSION_REASONS } from "../planner/eligibility.ts";
import type { ChangeResult } from "../rtnl/client.ts";

/** Interface names by index, for display. */
export type LinkNames = ReadonlyMap<number, string>;

const SCOPES: Record<number, string> = {
  [RT_SCOPE.UNIVERSE]: "global",
  [RT_SCOPE.SITE]: "site",
  [RT_SCOPE.LINK]: "link",
  [RT_SCOPE.HOST]: "host",
  [RT_SCOPE.NOWHERE]: "nowhere",
};

const TYPES: Record<number, string> = Object.fromEntries(
  Object.entries(RTN).map(([name, value]) => [value, name.toLowerCase()]),
);

/** A route's destination as `address/len` (`default` for a zero-length prefix). */
export function routeDestination(route: Route): string {
  if (route.dstLen === 0) return "default";
  return formatCidr({ family: route.family, address: route.dst, prefixLen: route.dstLen });
}

function devName(route: Route, links: LinkNames): string | undefined {
  if (route.oif === undefined) return undefined;
  return links.get(route.oif) ?? `if${route.oif}`;
}

/**
 * A route in `ip route` words, e.g.
 * `192.168.188.0/24 dev wlp192s0 proto 77 scope link src 192.168.188.112 metric 600`.
 *
 * @example
 * ```ts
 * import { routeText } from "./render.ts";
 * routeText({ family: 2, table: 539098368, dst: "10.1.0.0", dstLen: 16, srcLen: 0, tos: 0,
 *   protocol: 77, scope: 253, type: 1, flags: 0, oif: 2 }, new Map([[2, "eth0"]]));
 * // "10.1.0.0/16 dev eth0 proto 77 scope link"
 * ```
 */
export function routeText(
  route: Route,
  links: LinkNames,
  options: { table?: boolean } = {},
): string {
  const parts = [route.type === RTN.UNICAST ? "" : TYPES[route.type] ?? `type ${route.type}`];
  parts.push(routeDestination(route));
  if (route.gateway !== undefined) parts.push(`via ${route.gateway}`);
  const dev = devName(route, links);
  if (dev !== undefined) parts.push(`dev ${dev}`);
  if (options.table) parts.push(`table ${route.table}`);
  parts.push(`proto ${route.protocol}`);
  if (route.scope !== RT_SCOPE.UNIVERSE) parts.push(`scope ${SCOPES[route.scope] ?? route.scope}`);
  if (route.prefsrc !== undefined) parts.push(`src ${route.prefsrc}`);
  if (route.priority !== undefined) parts.push(`metric ${route.priority}`);
  return parts.filter((p) => p !== "").join(" ");
}

/** A route in the JSON documents linkmirror prints (see docs/json.md for the shape). */
export interface RouteJson {
  table: number;
  family: "inet" | "inet6";
  dst: string;
  dev?: string;
  ifindex?: number;
  gateway?: string;
  protocol: number;
  scope: string;
  type: string;
  prefsrc?: string;
  metric?: number;
}

/** The JSON form of a route. */
export function routeJson(route: Route, links: LinkNames): RouteJson {
  const out: RouteJson = {
    table: route.table,
    family: route.family === AF.INET6 ? "inet6" : "inet",
    dst: routeDestination(route),
    protocol: route.protocol,
    scope: SCOPES[route.scope] ?? String(route.scope),
    type: TYPES[route.type] ?? String(route.type),
  };
  const dev = devName(route, links);
  if (dev !== undefined) out.dev = dev;
  if (route.oif !== undefined) out.ifindex = route.oif;
  if (route.gateway !== undefined) out.gateway = route.gateway;
  if (route.prefsrc !== undefined) out.prefsrc = route.prefsrc;
  if (route.priority !== undefined) out.metric = route.priority;
  return out;
}

/** The stable JSON document of `plan --json`. */
export interface PlanJson {
  source: number;
  tables: number[];
  protocol: number;
  add: RouteJson[];
  replace: { from: RouteJson; to: RouteJson }[];
  delete: RouteJson[];
  conflicts: { table: number; wanted: RouteJson; existing: RouteJson[] }[];
  excluded: { route: RouteJson; reason: string; table?: number; why: string }[];
  unchanged: RouteJson[];
}

/** Builds the `plan --json` document. */
export function planJson(
  plan: Plan,
  context: { source: number; tables: number[]; protocol: number; links: LinkNames },
): PlanJson {
  const j = (route: Route) => routeJson(route, context.links);
  return {
    source: context.source,
    tables: context.tables,
    protocol: context.protocol,
    add: plan.adds.map(j),
    replace: plan.replaces.map((r) => ({ from: j(r.from), to: j(r.to) })),
    delete: plan.deletes.map(j),
    conflicts: plan.conflicts.map((c) => ({
      table: c.table,
      wanted: j(c.wanted),
      existing: c.existing.map(j),
    })),
    excluded: plan.excluded.map((e) => ({
      route: j(e.route),
      reason: e.reason,
      ...(e.table !== undefined ? { table: e.table } : {}),
      why: EXCLUSION_REASONS[e.reason],
    })),
    unchanged: plan.unchanged.map(j),
  };
}

/**
 * The plan as text, one line per change, grouped by table: `+` add, `*` replace in place,
 * `-` delete, `!` conflict;
 * with `verbose`, also `=` unchanged and `~` excluded (with the reason).
 */
export function planText(
  plan: Plan,
  context: { tables: number[]; links: LinkNames; verbose?: boolean },
): string {
  const lines: string[] = [];
  for (const table of context.tables) {
    const of = (routes: Route[]) => routes.filter((r) => r.table === table);
    const section: string[] = [];
    for (const r of of(plan.deletes)) section.push(`  - ${routeText(r, context.links)}`);
    for (const r of plan.replaces.filter((r) => r.to.table === table)) {
      section.push(
        `  * ${routeText(r.to, context.links)} (was: ${routeText(r.from, context.links)})`,
      );
    }
    for (const r of of(plan.adds)) section.push(`  + ${routeText(r, context.links)}`);
    for (const c of plan.conflicts.filter((c) => c.table === table)) {
      const existing = c.existing.map((r) => routeText(r, context.links)).join("; ");
      section.push(`  ! ${routeText(c.wanted, context.links)} (conflicts with: ${existing})`);
    }
    if (context.verbose) {
      for (const r of of(plan.unchanged)) section.push(`  = ${routeText(r, context.links)}`);
      for (const e of plan.excluded.filter((e) => e.table === undefined || e.table === table)) {
        section.push(`  ~ ${routeText(e.route, context.links)} (${e.reason})`);
      }
    }
    lines.push(`table ${table}:${section.length ? "" : " nothing to change"}`, ...section);
  }
  return lines.join("\n") + "\n";
}

/** Text of what a sync did: one line per applied change, failures with the kernel's reason. */
export function resultsText(results: readonly ChangeResult[], links: LinkNames): string {
  return results.map((r) => {
    const sign = r.change.op === "add" ? "+" : r.change.op === "replace" ? "*" : "-";
    const text = routeText(r.change.route, links, { table: true });
    return r.error
      ? `  ${sign} ${text}  FAILED: ${r.error.code}${r.error.extAck ? ` (${r.error.extAck})` : ""}`
      : `  ${sign} ${text}`;
  }).map((l) => l + "\n").join("");
}
