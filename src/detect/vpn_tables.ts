/**
 * Which routing tables capture traffic ahead of `main`: from the policy rules, the routes of the
 * tables they point at and the links, the tables that a rule before main's sends traffic to and
 * that hold a default route — the tables a full-tunnel VPN installs, and linkmirror's targets.
 * Pure: `linkmirror detect` and `--table auto` read the kernel and call
 * {@linkcode detectVpnTables}.
 *
 * @module
 */

import { AF, FIB_RULE, FR_ACT, FRA, RT_TABLE, RTM_F, RTN } from "../netlink/constants.ts";
import type { Link } from "../netlink/link.ts";
import type { Route } from "../netlink/route.ts";
import { type Rule, UNMODELLED_SELECTORS } from "../netlink/rule.ts";
import { identifyVpn, type KnownVpn } from "./known_vpns.ts";
import { suppressPrefixLen } from "./rule_text.ts";
import { RESERVED_TABLES } from "../rt_tables.ts";

/** Where main's rule sits when a family has none (every rule then counts as "before main"). */
export const NO_MAIN_RULE = Number.POSITIVE_INFINITY;

/** A fwmark (with its mask) that a rule matches. */
export interface FwmarkMatch {
  /** `FRA_FWMARK`. */
  mark: number;
  /** `FRA_FWMASK` (0xffffffff when the rule has none). */
  mask: number;
}

/** A table that captures traffic ahead of main. */
export interface VpnTable {
  /** The table id. */
  table: number;
  /** Families in which a rule before main leads to a default route of the table. */
  families: number[];
  /** The rules before main that send traffic to the table, IPv4 first, then by priority. */
  rules: Rule[];
  /** The table's default routes (both families), in dump order. */
  defaultRoutes: Route[];
  /** Names of the devices of the default routes (multipath hops included), deduplicated. */
  devices: string[];
  /** How many routes the table holds (both families, cloned entries left out). */
  routeCount: number;
  /** The VPN client, when its signature is clear. */
  vpn?: KnownVpn;
  /**
   * The fwmark of the VPN's own (tunnel) packets, which skip the table: from a `not fwmark M`
   * capturing rule, else from an earlier rule that sends packets with a mark elsewhere (Tailscale's
   * `fwmark 0x80000/0xff0000 lookup main`). `explain` looks routes up with and without it.
   */
  bypassMark?: FwmarkMatch;
  /**
   * A rule ahead of the capturing one that looks up main with `suppress_prefixlength` (wg-quick
   * adds `from all lookup main suppress_prefixlength 0`): main's more specific routes, LANs
   * included, already win over the table.
   */
  mainFirst?: Rule;
}

/** Why a table that a rule points at is not a candidate. */
export type IgnoredReason = "no-default-route" | "after-main";

/** What each {@linkcode IgnoredReason} means. */
export const IGNORED_REASONS: Readonly<Record<IgnoredReason, string>> = Object.freeze({
  "no-default-route": "it holds no default route, so it captures only some destinations",
  "after-main": "its rule comes after main's, so main is consulted first",
});

/** A table a rule points at that does not capture traffic ahead of main, and why. */
export interface IgnoredTable {
  /** The table id. */
  table: number;
  /** The rules that point at it. */
  rules: Rule[];
  /** How many routes it holds (both families, cloned entries left out). */
  routeCount: number;
  /** Why it is not a candidate. */
  reason: IgnoredReason;
}

/** What {@linkcode detectVpnTables} found. */
export interface VpnDetection {
  /** Tables capturing traffic ahead of main, by the priority of their first capturing rule. */
  candidates: VpnTable[];
  /** Other non-reserved tables that rules point at, by table id. */
  ignored: IgnoredTable[];
  /** The priority of main's own rule per family (2, 10), {@linkcode NO_MAIN_RULE} without one. */
  mainPriority: Record<number, number>;
}

/** What {@linkcode detectVpnTables} reads. */
export interface DetectionInput {
  /** Policy rules of IPv4 and/or IPv6 (other families are ignored). */
  rules: readonly Rule[];
  /** Routes of (at least) every table the rules point at; routes of other tables are ignored. */
  routes: readonly Route[];
  /** Links, for device names. */
  links: readonly Link[];
  /** Families to consider; default both. */
  families?: readonly number[];
}

/** Rule attributes that select packets (or suppress a match), besides the modelled ones. */
const SELECTOR_ATTRIBUTES: ReadonlySet<number> = new Set([
  ...UNMODELLED_SELECTORS,
  FRA.SUPPRESS_IFGROUP,
]);

/** The priority of a rule; the kernel leaves `FRA_PRIORITY` out for priority 0. */
export function rulePriority(rule: Rule): number {
  return rule.priority ?? 0;
}

/**
 * Whether a rule matches every packet: no source or destination prefix, tos, fwmark, interface,
 * uid range, protocol or port selector, and not inverted.
 *
 * @example
 * ```ts
 * import { matchesEverything } from "./vpn_tables.ts";
 * matchesEverything({ family: 2, priority: 32766, table: 254, action: 1, flags: 0, tos: 0,
 *   srcLen: 0, dstLen: 0 }); // true
 * ```
 */
export function matchesEverything(rule: Rule): boolean {
  return rule.srcLen === 0 && rule.dstLen === 0 && rule.tos === 0 &&
    rule.fwmark === undefined && rule.fwmask === undefined &&
    rule.iifname === undefined && rule.oifname === undefined &&
    (rule.flags & FIB_RULE.INVERT) === 0 &&
    !(rule.other ?? []).some((attr) => SELECTOR_ATTRIBUTES.has(attr.type));
}

/**
 * The priority of main's own rule in `rules` (one family): the first rule that looks up main for
 * every packet, without `suppress_prefixlength` — `32766: from all lookup main` on a stock
 * system. {@linkcode NO_MAIN_RULE} when there is none.
 *
 * @example
 * ```ts
 * import { mainRulePriority } from "./vpn_tables.ts";
 * const main = { family: 2, priority: 32766, table: 254, action: 1, flags: 0, tos: 0, srcLen: 0,
 *   dstLen: 0 };
 * mainRulePriority([{ ...main, priority: 32764, suppressPrefixLen: 0 }, main]); // 32766
 * ```
 */
export function mainRulePriority(rules: readonly Rule[]): number {
  let found = NO_MAIN_RULE;
  for (const rule of rules) {
    if (
      rule.action === FR_ACT.TO_TBL && rule.table === RT_TABLE.MAIN && matchesEverything(rule) &&
      suppressPrefixLen(rule) === undefined
    ) {
      found = Math.min(found, rulePriority(rule));
    }
  }
  return found;
}

/** Whether `route` is a default route that captures traffic (a `throw` default does not). */
function isCapturingDefault(route: Route): boolean {
  return route.dstLen === 0 && route.srcLen === 0 && route.type !== RTN.THROW &&
    (route.flags & RTM_F.CLONED) === 0;
}

function byPriority(a: Rule, b: Rule): number {
  return a.family - b.family || rulePriority(a) - rulePriority(b);
}

function bypassMarkOf(capturing: Rule, familyRules: readonly Rule[]): FwmarkMatch | undefined {
  if ((capturing.flags & FIB_RULE.INVERT) !== 0 && capturing.fwmark !== undefined) {
    return { mark: capturing.fwmark, mask: capturing.fwmask ?? 0xffffffff };
  }
  const escape = familyRules.find((r) =>
    rulePriority(r) < rulePriority(capturing) && r.action === FR_ACT.TO_TBL &&
    r.table !== capturing.table && r.fwmark !== undefined && (r.flags & FIB_RULE.INVERT) === 0
  );
  return escape?.fwmark === undefined
    ? undefined
    : { mark: escape.fwmark, mask: escape.fwmask ?? 0xffffffff };
}

function mainFirstOf(capturing: Rule, familyRules: readonly Rule[]): Rule | undefined {
  return familyRules.find((r) =>
    rulePriority(r) < rulePriority(capturing) && r.action === FR_ACT.TO_TBL &&
    r.table === RT_TABLE.MAIN && matchesEverything(r) && suppressPrefixLen(r) !== undefined
  );
}

/**
 * Finds the tables that capture traffic ahead of main. Per family, a rule counts if it comes
 * before main's own rule ({@linkcode mainRulePriority}), looks up a table (`FR_ACT_TO_TBL`) and
 * the table is not unspec, default, main or local; its table is a candidate if it holds a default
 * route of that family (any type but `throw`). Other tables rules point at are reported as
 * ignored, with the reason. Candidates are ordered by their first capturing rule.
 *
 * @example
 * ```ts
 * import { detectVpnTables } from "./vpn_tables.ts";
 * const rule = { family: 2, table: 539098368, action: 1, tos: 0, srcLen: 0, dstLen: 0 };
 * const found = detectVpnTables({
 *   rules: [
 *     { ...rule, priority: 32765, flags: 2, fwmark: 0xfd002021 },
 *     { ...rule, priority: 32766, table: 254, flags: 0 },
 *   ],
 *   routes: [{ family: 2, table: 539098368, dst: "0.0.0.0", dstLen: 0, srcLen: 0, tos: 0,
 *     protocol: 3, scope: 253, type: 1, flags: 0, oif: 5 }],
 *   links: [{ index: 5, name: "tun-firezone", flags: 0, type: 65534 }],
 * });
 * found.candidates[0].vpn?.name; // "firezone"
 * found.candidates[0].bypassMark; // { mark: 0xfd002021, mask: 0xffffffff }
 * ```
 */
export function detectVpnTables(input: DetectionInput): VpnDetection {
  const families = input.families ?? [AF.INET, AF.INET6];
  const names = new Map(input.links.map((link) => [link.index, link.name]));
  const routesOf = new Map<number, Route[]>();
  for (const route of input.routes) {
    if ((route.flags & RTM_F.CLONED) !== 0) continue;
    const list = routesOf.get(route.table);
    if (list === undefined) routesOf.set(route.table, [route]);
    else list.push(route);
  }

  const mainPriority: Record<number, number> = {};
  const capturing = new Map<number, { rules: Rule[]; families: Set<number> }>();
  const pointing = new Map<number, { rules: Rule[]; afterMain: boolean }>();
  const extras = new Map<number, { bypassMark?: FwmarkMatch; mainFirst?: Rule }>();

  for (const family of families) {
    const familyRules = input.rules.filter((r) => r.family === family).sort(byPriority);
    const main = mainRulePriority(familyRules);
    mainPriority[family] = main;
    for (const rule of familyRules) {
      if (rule.action !== FR_ACT.TO_TBL || RESERVED_TABLES.has(rule.table)) continue;
      const before = rulePriority(rule) < main;
      const hasDefault = (routesOf.get(rule.table) ?? []).some((r) =>
        r.family === family && isCapturingDefault(r)
      );
      if (before && hasDefault) {
        const entry = capturing.get(rule.table) ?? { rules: [], families: new Set<number>() };
        entry.rules.push(rule);
        entry.families.add(family);
        capturing.set(rule.table, entry);
        const extra = extras.get(rule.table) ?? {};
        extra.bypassMark ??= bypassMarkOf(rule, familyRules);
        extra.mainFirst ??= mainFirstOf(rule, familyRules);
        extras.set(rule.table, extra);
      } else {
        const entry = pointing.get(rule.table) ?? { rules: [], afterMain: true };
        entry.rules.push(rule);
        entry.afterMain &&= !before;
        pointing.set(rule.table, entry);
      }
    }
  }

  const candidates: VpnTable[] = [];
  for (const [table, { rules, families: found }] of capturing) {
    const routes = routesOf.get(table) ?? [];
    const defaultRoutes = routes.filter(isCapturingDefault);
    const devices: string[] = [];
    for (const route of defaultRoutes) {
      for (const oif of [route.oif, ...(route.multipath ?? []).map((hop) => hop.oif)]) {
        if (oif === undefined || oif === 0) continue;
        const name = names.get(oif) ?? `if${oif}`;
        if (!devices.includes(name)) devices.push(name);
      }
    }
    const sortedRules = [...rules].sort(byPriority);
    const candidate: VpnTable = {
      table,
      families: [...found].sort((a, b) => a - b),
      rules: sortedRules,
      defaultRoutes,
      devices,
      routeCount: routes.length,
    };
    const vpn = identifyVpn({ table, rules: sortedRules, devices });
    if (vpn) candidate.vpn = vpn;
    const extra = extras.get(table);
    if (extra?.bypassMark) candidate.bypassMark = extra.bypassMark;
    if (extra?.mainFirst) candidate.mainFirst = extra.mainFirst;
    candidates.push(candidate);
  }
  candidates.sort((a, b) =>
    Math.min(...a.rules.map(rulePriority)) - Math.min(...b.rules.map(rulePriority)) ||
    a.table - b.table
  );

  const ignored: IgnoredTable[] = [];
  for (const [table, { rules, afterMain }] of pointing) {
    if (capturing.has(table)) continue;
    ignored.push({
      table,
      rules: [...rules].sort(byPriority),
      routeCount: routesOf.get(table)?.length ?? 0,
      reason: afterMain ? "after-main" : "no-default-route",
    });
  }
  ignored.sort((a, b) => a.table - b.table);
  return { candidates, ignored, mainPriority };
}

/**
 * The tables the rules of `rules` point at (lookup actions), reserved ones left out: the tables a
 * detection needs the routes of.
 *
 * @example
 * ```ts
 * import { referencedTables } from "./vpn_tables.ts";
 * referencedTables([{ family: 2, priority: 5270, table: 52, action: 1, flags: 0, tos: 0,
 *   srcLen: 0, dstLen: 0 }]); // [52]
 * ```
 */
export function referencedTables(rules: readonly Rule[]): number[] {
  const tables = new Set<number>();
  for (const rule of rules) {
    if (rule.action === FR_ACT.TO_TBL && !RESERVED_TABLES.has(rule.table)) tables.add(rule.table);
  }
  return [...tables].sort((a, b) => a - b);
}
