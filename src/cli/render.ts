/**
 * How routes and plans are shown: text in `ip route` words for people, and the stable JSON
 * document of `plan --json`. Pure.
 *
 * @module
 */

import {
  AF,
  ICMPV6_ROUTER_PREF,
  RT_SCOPE,
  RTAX,
  RTAX_FEATURE,
  RTN,
  RTNH_F,
} from "../netlink/constants.ts";
import { formatCidr } from "../netlink/ip.ts";
import { cacheExpires, type Nexthop, type Route, type RouteMetrics } from "../netlink/route.ts";
import {
  BUILTIN_ROUTE_NAMES,
  protocolName,
  type RouteNames,
  scopeName,
  typeName,
} from "../rt_names.ts";
import type { Excluded, Plan } from "../planner/plan.ts";
import { EXCLUSION_REASONS, type ExclusionReason } from "../planner/eligibility.ts";
import type { ChangeResult } from "../rtnl/client.ts";

/** Interface names by index, for display. */
export type LinkNames = ReadonlyMap<number, string>;

const PREFS: Record<number, string> = {
  [ICMPV6_ROUTER_PREF.MEDIUM]: "medium",
  [ICMPV6_ROUTER_PREF.HIGH]: "high",
  [ICMPV6_ROUTER_PREF.LOW]: "low",
};

/** `ip route`'s words for the metrics, in its order, with the unit it prints. */
const METRIC_WORDS: ReadonlyArray<[keyof RouteMetrics, string, number, (v: number) => string]> = [
  ["mtu", "mtu", RTAX.MTU, String],
  ["window", "window", RTAX.WINDOW, String],
  ["rtt", "rtt", RTAX.RTT, (v) => `${v / 8}ms`],
  ["rttvar", "rttvar", RTAX.RTTVAR, (v) => `${v / 4}ms`],
  ["ssthresh", "ssthresh", RTAX.SSTHRESH, String],
  ["cwnd", "cwnd", RTAX.CWND, String],
  ["advmss", "advmss", RTAX.ADVMSS, String],
  ["reordering", "reordering", RTAX.REORDERING, String],
  ["hoplimit", "hoplimit", RTAX.HOPLIMIT, String],
  ["initcwnd", "initcwnd", RTAX.INITCWND, String],
  [
    "features",
    "features",
    RTAX.FEATURES,
    (v) => v === RTAX_FEATURE.ECN ? "ecn" : `0x${v.toString(16)}`,
  ],
  ["rtoMin", "rto_min", RTAX.RTO_MIN, (v) => `${v}ms`],
  ["initrwnd", "initrwnd", RTAX.INITRWND, String],
  ["quickack", "quickack", RTAX.QUICKACK, String],
];

function metricsText(metrics: RouteMetrics): string[] {
  const parts: string[] = [];
  const locked = (type: number) => ((metrics.lock ?? 0) & (1 << type)) !== 0 ? " lock" : "";
  for (const [field, word, type, format] of METRIC_WORDS) {
    const value = metrics[field];
    if (typeof value === "number") parts.push(`${word}${locked(type)} ${format(value)}`);
  }
  if (metrics.congctl !== undefined) {
    parts.push(`congctl${locked(RTAX.CC_ALGO)} ${metrics.congctl}`);
  }
  if (metrics.fastopenNoCookie !== undefined) {
    parts.push(`fastopen_no_cookie ${metrics.fastopenNoCookie}`);
  }
  return parts;
}

/** Realms (`RTA_FLOW`) as `ip` prints them: `realm TO` or `realms FROM/TO`. */
function realmsText(flow: number): string {
  const from = flow >>> 16, to = flow & 0xffff;
  return from ? `realms ${from}/${to}` : `realm ${to}`;
}

function hopText(hop: Nexthop, links: LinkNames): string {
  const parts = ["nexthop"];
  if (hop.gateway !== undefined) parts.push(`via ${hop.gateway}`);
  parts.push(`dev ${links.get(hop.oif) ?? `if${hop.oif}`}`, `weight ${hop.hops + 1}`);
  if (hop.flow !== undefined) parts.push(realmsText(hop.flow));
  if (hop.flags & RTNH_F.ONLINK) parts.push("onlink");
  return parts.join(" ");
}

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
 * A route in `ip route` words, with protocol and scope names from `options.names` (iproute2's
 * built-in ones by default), e.g.
 * `192.168.188.0/24 dev wlp192s0 proto kernel scope link src 192.168.188.112 metric 600`, and
 * what a copy carries: nexthop id, realms, metrics (with `lock`), `onlink`, `pref`, `expires`
 * and multipath hops with their weights.
 *
 * @example
 * ```ts
 * import { routeText } from "./render.ts";
 * routeText({ family: 2, table: 539098368, dst: "10.1.0.0", dstLen: 16, srcLen: 0, tos: 0,
 *   protocol: 77, scope: 253, type: 1, flags: 0, oif: 2, metrics: { mtu: 1400, lock: 4 } },
 *   new Map([[2, "eth0"]]));
 * // "10.1.0.0/16 dev eth0 proto 77 scope link mtu lock 1400"
 * ```
 */
export function routeText(
  route: Route,
  links: LinkNames,
  options: { table?: boolean; names?: RouteNames } = {},
): string {
  return routeHead(route) + routeTail(route, links, options);
}

/** {@linkcode routeText} up to the destination: the type unless unicast, then the prefix. */
function routeHead(route: Route): string {
  return (route.type === RTN.UNICAST ? "" : typeName(route.type) + " ") +
    (route.dstLen === 0 ? "default" : route.dst + "/" + route.dstLen);
}

/** {@linkcode routeText} after the destination: what {@linkcode TailCache} can reuse. */
function routeTail(
  route: Route,
  links: LinkNames,
  options: { table?: boolean; names?: RouteNames },
): string {
  const names = options.names ?? BUILTIN_ROUTE_NAMES;
  // One string built up in `ip`'s order.
  let text = "";
  if (route.nhId !== undefined) text += " nhid " + route.nhId;
  if (route.gateway !== undefined) text += " via " + route.gateway;
  if (route.oif !== undefined) text += " dev " + (links.get(route.oif) ?? "if" + route.oif);
  if (options.table) text += " table " + route.table;
  text += " proto " + protocolName(route.protocol, names);
  if (route.scope !== RT_SCOPE.UNIVERSE) text += " scope " + scopeName(route.scope, names);
  if (route.prefsrc !== undefined) text += " src " + route.prefsrc;
  if (route.priority !== undefined) text += " metric " + route.priority;
  if (route.flags & RTNH_F.ONLINK) text += " onlink";
  if (route.flow !== undefined) text += " " + realmsText(route.flow);
  const expires = route.expires ?? cacheExpires(route);
  if (expires !== undefined) text += " expires " + expires + "sec";
  if (route.metrics !== undefined) {
    for (const part of metricsText(route.metrics)) text += " " + part;
  }
  if (route.pref !== undefined) text += " pref " + (PREFS[route.pref] ?? route.pref);
  if (route.multipath !== undefined) {
    for (const hop of route.multipath) text += " " + hopText(hop, links);
  }
  return text;
}

/**
 * The {@linkcode routeTail}s of one listing, reused from route to route: a 10k-route sync prints
 * 10k lines whose tails (` dev lk0 table 539098368 proto 77 scope link metric 2147483648`) take a
 * few distinct values, and building each anew (number to text, a dozen joins) was most of the
 * listing's time. One remembered route per device; a route with metrics, hops or cache
 * information is never reused.
 */
class TailCache {
  readonly #byOif = new Map<number, { route: Route; tail: string }>();
  constructor(
    readonly links: LinkNames,
    readonly options: { table?: boolean; names?: RouteNames },
  ) {}

  /** {@linkcode routeTail} of `route`. */
  tail(route: Route): string {
    if (
      route.metrics !== undefined || route.multipath !== undefined ||
      route.cacheinfo !== undefined
    ) {
      return routeTail(route, this.links, this.options);
    }
    const oif = route.oif ?? -1;
    const seen = this.#byOif.get(oif);
    if (seen !== undefined && sameTail(seen.route, route)) return seen.tail;
    const tail = routeTail(route, this.links, this.options);
    this.#byOif.set(oif, { route, tail });
    return tail;
  }
}

/** Whether `a` and `b` (same device, no metrics, hops or cache information) have one tail. */
function sameTail(a: Route, b: Route): boolean {
  return a.table === b.table && a.protocol === b.protocol && a.scope === b.scope &&
    a.priority === b.priority && a.flags === b.flags && a.nhId === b.nhId &&
    a.gateway === b.gateway && a.prefsrc === b.prefsrc && a.flow === b.flow &&
    a.expires === b.expires && a.pref === b.pref;
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
  /** The protocol's name from rt_protos (or iproute2's built-in list), when it has one. */
  protocolName?: string;
  scope: string;
  type: string;
  prefsrc?: string;
  metric?: number;
  nhid?: number;
  /** Multipath hops: device, gateway, weight. */
  nexthops?: { dev: string; ifindex: number; gateway?: string; weight: number }[];
  /** The metrics (`mtu`, `advmss`, `congctl`...), by their `ip` names. */
  metrics?: Record<string, number | string>;
  /** Realms (`RTA_FLOW`): the raw value, to-realm in the low 16 bits. */
  realms?: number;
  /** IPv6 router preference. */
  pref?: string;
  /** Seconds until it expires. */
  expires?: number;
  onlink?: boolean;
}

/** The JSON form of a route: numbers as the kernel has them, plus names where `ip` has them. */
export function routeJson(
  route: Route,
  links: LinkNames,
  names: RouteNames = BUILTIN_ROUTE_NAMES,
): RouteJson {
  const out: RouteJson = {
    table: route.table,
    family: route.family === AF.INET6 ? "inet6" : "inet",
    dst: routeDestination(route),
    protocol: route.protocol,
    scope: scopeName(route.scope, names),
    type: typeName(route.type),
  };
  const protocol = names.protocols.get(route.protocol);
  if (protocol !== undefined) out.protocolName = protocol;
  const dev = devName(route, links);
  if (dev !== undefined) out.dev = dev;
  if (route.oif !== undefined) out.ifindex = route.oif;
  if (route.gateway !== undefined) out.gateway = route.gateway;
  if (route.prefsrc !== undefined) out.prefsrc = route.prefsrc;
  if (route.priority !== undefined) out.metric = route.priority;
  if (route.nhId !== undefined) out.nhid = route.nhId;
  if (route.multipath !== undefined) {
    out.nexthops = route.multipath.map((hop) => ({
      dev: links.get(hop.oif) ?? `if${hop.oif}`,
      ifindex: hop.oif,
      ...(hop.gateway !== undefined ? { gateway: hop.gateway } : {}),
      weight: hop.hops + 1,
    }));
  }
  if (route.metrics !== undefined) {
    const metrics: Record<string, number | string> = {};
    for (const [field, word] of METRIC_WORDS) {
      const value = route.metrics[field];
      if (typeof value === "number") metrics[word] = value;
    }
    if (route.metrics.lock !== undefined) metrics.lock = route.metrics.lock;
    if (route.metrics.congctl !== undefined) metrics.congctl = route.metrics.congctl;
    if (route.metrics.fastopenNoCookie !== undefined) {
      metrics.fastopen_no_cookie = route.metrics.fastopenNoCookie;
    }
    out.metrics = metrics;
  }
  if (route.flow !== undefined) out.realms = route.flow;
  if (route.pref !== undefined) out.pref = PREFS[route.pref] ?? String(route.pref);
  const expires = route.expires ?? cacheExpires(route);
  if (expires !== undefined) out.expires = expires;
  if (route.flags & RTNH_F.ONLINK) out.onlink = true;
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
  excluded: {
    route: RouteJson;
    reason: string;
    table?: number;
    why: string;
    /** For `vpn-route-wins`: the VPN's route that wins. */
    vpnRoute?: RouteJson;
  }[];
  unchanged: RouteJson[];
}

/** Builds the `plan --json` document. */
export function planJson(
  plan: Plan,
  context: {
    source: number;
    tables: number[];
    protocol: number;
    links: LinkNames;
    routeNames?: RouteNames;
  },
): PlanJson {
  const j = (route: Route) => routeJson(route, context.links, context.routeNames);
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
      ...(e.vpnRoute !== undefined ? { vpnRoute: j(e.vpnRoute) } : {}),
    })),
    unchanged: plan.unchanged.map(j),
  };
}

/**
 * The plan as text, one line per change, grouped by table: `+` add, `*` replace in place,
 * `-` delete, `!` conflict; `~` for routes refused by the security guards
 * (`outside-local-space`, `vpn-route-wins` with the VPN's route); with `verbose`, also `=`
 * unchanged and `~` every other exclusion.
 */
export function planText(
  plan: Plan,
  context: { tables: number[]; links: LinkNames; verbose?: boolean; routeNames?: RouteNames },
): string {
  const text = (route: Route) => routeText(route, context.links, { names: context.routeNames });
  const lines: string[] = [];
  for (const table of context.tables) {
    const of = (routes: Route[]) => routes.filter((r) => r.table === table);
    const section: string[] = [];
    for (const r of of(plan.deletes)) section.push(`  - ${text(r)}`);
    for (const r of plan.replaces.filter((r) => r.to.table === table)) {
      section.push(
        `  * ${text(r.to)} (was: ${text(r.from)})`,
      );
    }
    for (const r of of(plan.adds)) section.push(`  + ${text(r)}`);
    for (const c of plan.conflicts.filter((c) => c.table === table)) {
      const existing = c.existing.map((r) => text(r)).join("; ");
      section.push(`  ! ${text(c.wanted)} (conflicts with: ${existing})`);
    }
    if (context.verbose) {
      for (const r of of(plan.unchanged)) section.push(`  = ${text(r)}`);
    }
    for (const e of plan.excluded.filter((e) => e.table === undefined || e.table === table)) {
      if (!context.verbose && !GUARD_REASONS.has(e.reason)) continue;
      const reason = exclusionText(e, context.links, context.routeNames);
      section.push(`  ~ ${text(e.route)} (${reason})`);
    }
    lines.push(`table ${table}:${section.length ? "" : " nothing to change"}`, ...section);
  }
  return lines.join("\n") + "\n";
}

/** The exclusion reasons of the security guards: shown even in a plan that is not verbose. */
const GUARD_REASONS: ReadonlySet<ExclusionReason> = new Set([
  "outside-local-space",
  "vpn-route-wins",
]);

/**
 * An exclusion's reason as text: the reason code, and for `vpn-route-wins` the VPN's route.
 *
 * @example
 * ```ts
 * import { exclusionText } from "./render.ts";
 * const route = { family: 2, table: 539098368, dst: "192.168.0.0", dstLen: 16, srcLen: 0, tos: 0,
 *   protocol: 3, scope: 253, type: 1, flags: 0, oif: 9 };
 * exclusionText({ route, reason: "vpn-route-wins", vpnRoute: route }, new Map([[9, "tun0"]]));
 * // "vpn-route-wins: 192.168.0.0/16 dev tun0 proto boot scope link"
 * ```
 */
export function exclusionText(e: Excluded, links: LinkNames, names?: RouteNames): string {
  return e.vpnRoute === undefined
    ? e.reason
    : `${e.reason}: ${routeText(e.vpnRoute, links, names ? { names } : {})}`;
}

/** Text of what a sync did: one line per applied change, failures with the kernel's reason. */
export function resultsText(
  results: readonly ChangeResult[],
  links: LinkNames,
  names?: RouteNames,
): string {
  const tails = new TailCache(links, { table: true, names });
  let text = "";
  for (const r of results) {
    const op = r.change.op;
    const route = r.change.route;
    text += (op === "add" ? "  + " : op === "replace" ? "  * " : "  - ") + routeHead(route) +
      tails.tail(route);
    if (r.error) {
      text += `  FAILED: ${r.error.code}${r.error.extAck ? ` (${r.error.extAck})` : ""}`;
    }
    text += "\n";
  }
  return text;
}
