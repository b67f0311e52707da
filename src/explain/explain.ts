/**
 * `linkmirror explain ADDRESS`: asks the kernel how it routes a destination (`RTM_GETROUTE`,
 * with `RTM_F_FIB_MATCH` for the table entry and without for the resolved next hop), once as an
 * ordinary packet and once per VPN fwmark (the VPN's own tunnel packets), names the rule that
 * chose the table, and relates the answer to linkmirror: is it linkmirror's copy that sends the
 * destination to the LAN, and if not, why not (no LAN route in main, copy missing, excluded,
 * conflict). {@linkcode explainAddress} reads the kernel through {@linkcode ExplainSource};
 * {@linkcode explainVerdict} and the rest are pure.
 *
 * @module
 */

import type { MirrorConfig } from "../engine/config.ts";
import { planInput, readTables } from "../engine/reconcile.ts";
import { NetlinkError } from "../netlink/errors.ts";
import { formatIp, parseIp } from "../netlink/ip.ts";
import type { Route } from "../netlink/route.ts";
import type { Rule } from "../netlink/rule.ts";
import { EXCLUSION_REASONS, type ExclusionReason } from "../planner/eligibility.ts";
import { type Plan, planSync } from "../planner/plan.ts";
import { prefixKey } from "../planner/route_identity.ts";
import type { RouteGetRequest, RouteStore } from "../rtnl/client.ts";
import { readVpnDetection, type VpnTableSource } from "../detect/auto_table.ts";
import type { KnownVpn } from "../detect/known_vpns.ts";
import type { FwmarkMatch, VpnDetection } from "../detect/vpn_tables.ts";
import { longestMatch } from "./route_match.ts";
import { answeringRule, type LookupAnswer } from "./rule_walk.ts";

/** The kernel reads `explain` needs; `RtnlClient` is one. */
export interface ExplainSource extends VpnTableSource, RouteStore {
  /** One route lookup (`ip route get`). */
  routeGet(request: RouteGetRequest): Route;
}

/** A lookup that failed: the kernel's errno and message. */
export interface LookupError {
  /** Positive errno. */
  errno: number;
  /** Its symbolic name, e.g. `ENETUNREACH`. */
  code: string;
  /** The error's message. */
  message: string;
}

/** One lookup of the address, as the kernel answered it. */
export interface Lookup {
  /** The fwmark the packet carried; undefined for an ordinary packet. */
  mark?: number;
  /** The table whose bypass fwmark this is. */
  markOf?: number;
  /** The table entry that matched (`RTM_F_FIB_MATCH`). */
  match?: Route;
  /** The resolved destination: device, gateway, preferred source. */
  resolved?: Route;
  /** The rule that led to the answer, when it can be told. */
  rule?: Rule;
  /** The kernel's refusal (no route, unreachable, prohibited). */
  error?: LookupError;
}

/** How a target table stands with respect to the address. */
export type CopyStatus =
  | "copied"
  | "missing"
  | "outdated"
  | "stale"
  | "excluded"
  | "conflict"
  | "no-source-route";

/** One target table, for the address. */
export interface TableExplanation {
  /** The table id. */
  table: number;
  /** Whether `detect` finds the table capturing traffic ahead of main. */
  captures: boolean;
  /** The VPN client, when known. */
  vpn?: KnownVpn;
  /** Where the table stands. */
  status: CopyStatus;
  /** The route of the source table (main) whose prefix covers the address most specifically. */
  source?: Route;
  /**
   * linkmirror's copy of it in the table (status `copied`, the one a sync replaces when
   * `outdated`, or the old one when `stale`).
   */
  copy?: Route;
  /** Why the source route is not mirrored (status `excluded`). */
  reason?: ExclusionReason;
  /** The foreign routes holding the prefix (status `conflict`). */
  conflicting?: Route[];
  /** The VPN's route that wins over a copy (reason `vpn-route-wins`). */
  vpnRoute?: Route;
  /** The route the table would pick without linkmirror's routes. */
  withoutCopy?: Route;
}

/** What the kernel's answer means for a person. */
export type Verdict = "lan-via-copy" | "main" | "vpn" | "other" | "unreachable";

/** The whole answer of `explain`. */
export interface Explanation {
  /** The address, canonical. */
  address: string;
  /** Its family (2 or 10). */
  family: number;
  /** The lookup without a mark first, then one per VPN fwmark. */
  lookups: Lookup[];
  /** Each target table. */
  tables: TableExplanation[];
  /** What the ordinary lookup means. */
  verdict: Verdict;
  /** The source table id. */
  source: number;
  /** linkmirror's protocol. */
  protocol: number;
}

function lookupError(e: NetlinkError): LookupError {
  return { errno: e.errno, code: e.code, message: e.message };
}

function lookUp(
  source: ExplainSource,
  rules: readonly Rule[],
  address: string,
  mark?: number,
): Lookup {
  const lookup: Lookup = {};
  if (mark !== undefined) lookup.mark = mark;
  let answer: LookupAnswer;
  try {
    lookup.match = source.routeGet({ dst: address, mark, fibMatch: true });
    lookup.resolved = source.routeGet({ dst: address, mark });
    answer = { table: lookup.match.table, dstLen: lookup.match.dstLen };
  } catch (e) {
    if (!(e instanceof NetlinkError)) throw e;
    lookup.error = lookupError(e);
    delete lookup.match;
    delete lookup.resolved;
    answer = { errno: e.errno };
  }
  const rule = answeringRule(rules, { dst: address, mark }, answer);
  if (rule) lookup.rule = rule;
  return lookup;
}

/** The VPN fwmarks to look the address up with: those of the target tables, else of any VPN. */
export function marksToTry(
  detection: VpnDetection,
  tables: readonly number[],
): { mark: FwmarkMatch; table: number }[] {
  const targets = detection.candidates.filter((c) => tables.includes(c.table));
  const pool = targets.length ? targets : detection.candidates;
  const out: { mark: FwmarkMatch; table: number }[] = [];
  for (const candidate of pool) {
    const mark = candidate.bypassMark;
    if (mark && !out.some((m) => m.mark.mark === mark.mark)) {
      out.push({ mark, table: candidate.table });
    }
  }
  return out;
}

/**
 * Where `table` stands for `address`, from a plan over the source and target tables. Pure.
 *
 * @example
 * ```ts ignore
 * tableExplanation({ table: 539098368, address: "192.168.1.7", plan, sourceRoutes,
 *   targetRoutes, protocol: 77 }).status; // "copied"
 * ```
 */
export function tableExplanation(input: {
  table: number;
  address: string;
  plan: Plan;
  sourceRoutes: readonly Route[];
  targetRoutes: readonly Route[];
  protocol: number;
}): TableExplanation {
  const { table, address, plan, protocol } = input;
  const foreign = input.targetRoutes.filter((r) => r.protocol !== protocol);
  const out: TableExplanation = { table, captures: false, status: "no-source-route" };
  const withoutCopy = longestMatch(foreign, address);
  if (withoutCopy) out.withoutCopy = withoutCopy;
  const source = longestMatch(input.sourceRoutes, address);
  if (source === undefined) return out;
  out.source = source;
  const key = prefixKey(source);
  const inTable = (r: Route) => r.table === table && prefixKey(r) === key;
  const excluded = plan.excluded.find((e) =>
    e.route === source && (e.table === undefined || e.table === table)
  );
  const conflict = plan.conflicts.find((c) => inTable(c.wanted));
  const copied = plan.unchanged.find(inTable);
  const stale = plan.deletes.find(inTable);
  const outdated = plan.replaces.find((r) => inTable(r.from));
  if (excluded) {
    out.status = "excluded";
    out.reason = excluded.reason;
    if (excluded.vpnRoute) out.vpnRoute = excluded.vpnRoute;
    if (stale) out.copy = stale;
  } else if (conflict) {
    out.status = "conflict";
    out.conflicting = conflict.existing;
  } else if (plan.adds.some(inTable)) {
    out.status = "missing";
    if (stale) out.copy = stale;
  } else if (outdated) {
    out.status = "outdated";
    out.copy = outdated.from;
  } else if (copied) {
    out.status = "copied";
    out.copy = copied;
  } else if (stale) {
    out.status = "stale";
    out.copy = stale;
  }
  return out;
}

/**
 * What the ordinary lookup means: `unreachable` (the kernel refused), `lan-via-copy` (the answer
 * is linkmirror's copy in a target table), `main` (the source table answered), `vpn` (a target
 * table answered with a route of its own) or `other` (another table answered).
 *
 * @example
 * ```ts
 * import { explainVerdict } from "./explain.ts";
 * const match = { family: 2, table: 51820, dst: "0.0.0.0", dstLen: 0, srcLen: 0, tos: 0,
 *   protocol: 3, scope: 253, type: 1, flags: 0, oif: 9 };
 * explainVerdict({ match }, { tables: [51820], source: 254, protocol: 77 }); // "vpn"
 * ```
 */
export function explainVerdict(
  lookup: Lookup,
  config: Pick<MirrorConfig, "tables" | "source" | "protocol">,
): Verdict {
  const match = lookup.match;
  if (lookup.error || match === undefined) return "unreachable";
  if (config.tables.includes(match.table)) {
    return match.protocol === config.protocol ? "lan-via-copy" : "vpn";
  }
  return match.table === config.source ? "main" : "other";
}

/**
 * Explains how the kernel routes `address`: looks it up without a mark and with each VPN's
 * fwmark, names the rule, and relates the answer to each target table of `config` (which must
 * have concrete tables: resolve `--table auto` first). Throws `InvalidAddressError` for an
 * address that does not parse, and kernel errors other than a refused lookup.
 *
 * @example
 * ```ts ignore
 * const explanation = explainAddress(RtnlClient.open(), "192.168.188.1", config);
 * explanation.verdict; // "lan-via-copy"
 * ```
 */
export function explainAddress(
  source: ExplainSource,
  address: string,
  config: MirrorConfig,
  detection?: VpnDetection,
): Explanation {
  const { family, bytes } = parseIp(address);
  const text = formatIp(bytes);
  const found = detection ?? readVpnDetection(source, [family]);
  const rules = source.rules(family);
  const lookups = [lookUp(source, rules, text)];
  for (const { mark, table } of marksToTry(found, config.tables)) {
    const lookup = lookUp(source, rules, text, mark.mark);
    lookup.markOf = table;
    lookups.push(lookup);
  }

  const familyConfig: MirrorConfig = { ...config, families: [family] };
  const state = readTables(source, familyConfig);
  const plan = planSync(planInput(state, familyConfig));
  const tables = config.tables.map((table) => {
    const explanation = tableExplanation({
      table,
      address: text,
      plan,
      sourceRoutes: state.source,
      targetRoutes: (state.targets.get(table) ?? []).filter((r) => r.family === family),
      protocol: config.protocol,
    });
    const candidate = found.candidates.find((c) => c.table === table);
    if (candidate) {
      explanation.captures = true;
      if (candidate.vpn) explanation.vpn = candidate.vpn;
    }
    return explanation;
  });
  return {
    address: text,
    family,
    lookups,
    tables,
    verdict: explainVerdict(lookups[0], config),
    source: config.source,
    protocol: config.protocol,
  };
}

/** The meaning of an exclusion reason, for the explanation's text. */
export function reasonText(reason: ExclusionReason): string {
  return EXCLUSION_REASONS[reason];
}
