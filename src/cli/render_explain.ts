/**
 * How `linkmirror explain` shows its answer: the lookups (rule, table, matching route, next hop),
 * each target table's standing, and a verdict in sentences; text for people and the stable JSON
 * document of `explain --json` ({@linkcode ExplainJson}). Pure.
 *
 * @module
 */

import { fwmarkText, ruleText } from "../detect/rule_text.ts";
import type { Explanation, Lookup, TableExplanation, Verdict } from "../explain/explain.ts";
import type { Route } from "../netlink/route.ts";
import { EXCLUSION_REASONS } from "../planner/eligibility.ts";
import type { RouteNames } from "../rt_names.ts";
import { tableName } from "../rt_tables.ts";
import { type FamilyName, familyName, type RuleJson, ruleJson } from "./render_detect.ts";
import { type LinkNames, type RouteJson, routeJson, routeText } from "./render.ts";
import { alignTable, type Palette, palette } from "./tty.ts";

/** One lookup in `explain --json`. */
export interface LookupJson {
  /** The fwmark the packet carried (`0xfd002021`), or null for an ordinary packet. */
  mark: string | null;
  /** The table whose VPN uses that mark, or null. */
  markOf: number | null;
  /** The rule that chose the table, or null when it cannot be told. */
  rule: RuleJson | null;
  /** The table that answered, or null on error. */
  table: number | null;
  /** The table entry that matched (`ip route get fibmatch`), or null on error. */
  route: RouteJson | null;
  /** The next hop (`ip route get`): device, gateway, preferred source; null on error. */
  nexthop: { dev: string | null; gateway: string | null; prefsrc: string | null } | null;
  /** The kernel's refusal, or null. */
  error: { code: string; message: string } | null;
}

/** One target table in `explain --json`. */
export interface ExplainTableJson {
  table: number;
  vpn: string | null;
  captures: boolean;
  /** `copied`, `missing`, `outdated`, `stale`, `excluded`, `conflict` or `no-source-route`. */
  status: TableExplanation["status"];
  /** The most specific route of the source table covering the address, or null. */
  source: RouteJson | null;
  /** linkmirror's copy of it in the table, or null. */
  copy: RouteJson | null;
  /** Why it is not mirrored (status `excluded`), or null. */
  reason: string | null;
  why: string | null;
  /** Foreign routes holding the prefix (status `conflict`). */
  conflicting: RouteJson[];
  /** The VPN's route that wins over a copy (reason `vpn-route-wins`), or null. */
  vpnRoute: RouteJson | null;
  /** The route the table would pick without linkmirror's routes, or null. */
  withoutCopy: RouteJson | null;
}

/** The stable document of `explain --json`. */
export interface ExplainJson {
  address: string;
  family: FamilyName;
  /** The ordinary lookup first, then one per VPN fwmark. */
  lookups: LookupJson[];
  tables: ExplainTableJson[];
  /** `lan-via-copy`, `main`, `vpn`, `other` or `unreachable`. */
  verdict: Verdict;
  /** The verdict in sentences. */
  summary: string[];
}

/** What the explain renderers need besides the explanation. */
export interface ExplainContext {
  names: ReadonlyMap<string, number>;
  links: LinkNames;
  /** Protocol and scope names (rt_protos, rt_scopes); iproute2's built-in ones by default. */
  routeNames?: RouteNames;
}

function markOf(lookup: Lookup): string | null {
  return lookup.mark === undefined ? null : fwmarkText(lookup.mark);
}

function devOf(route: Route, links: LinkNames): string | null {
  return route.oif === undefined ? null : links.get(route.oif) ?? `if${route.oif}`;
}

function lookupJson(lookup: Lookup, context: ExplainContext): LookupJson {
  const { match, resolved } = lookup;
  return {
    mark: markOf(lookup),
    markOf: lookup.markOf ?? null,
    rule: lookup.rule ? ruleJson(lookup.rule, context.names) : null,
    table: match?.table ?? null,
    route: match ? routeJson(match, context.links, context.routeNames) : null,
    nexthop: resolved
      ? {
        dev: devOf(resolved, context.links),
        gateway: resolved.gateway ?? null,
        prefsrc: resolved.prefsrc ?? null,
      }
      : null,
    error: lookup.error ? { code: lookup.error.code, message: lookup.error.message } : null,
  };
}

function tableJson(t: TableExplanation, context: ExplainContext): ExplainTableJson {
  const j = (r: Route) => routeJson(r, context.links, context.routeNames);
  return {
    table: t.table,
    vpn: t.vpn?.name ?? null,
    captures: t.captures,
    status: t.status,
    source: t.source ? j(t.source) : null,
    copy: t.copy ? j(t.copy) : null,
    reason: t.reason ?? null,
    why: t.reason ? EXCLUSION_REASONS[t.reason] : null,
    conflicting: (t.conflicting ?? []).map(j),
    vpnRoute: t.vpnRoute ? j(t.vpnRoute) : null,
    withoutCopy: t.withoutCopy ? j(t.withoutCopy) : null,
  };
}

function name(table: number, names: ReadonlyMap<string, number>): string {
  return tableName(table, new Map([["main", 254], ["local", 255], ["default", 253], ...names]));
}

/** The verdict of `explanation` in sentences. */
export function explanationSummary(explanation: Explanation, context: ExplainContext): string[] {
  const { links, names } = context;
  const r = (route: Route) => routeText(route, links, { names: context.routeNames });
  const [plain, ...marked] = explanation.lookups;
  const out: string[] = [];
  const ruleWords = (lookup: Lookup) =>
    lookup.rule ? ` (rule ${ruleText(lookup.rule, names)})` : "";
  const address = explanation.address;
  const match = plain.match;
  switch (explanation.verdict) {
    case "unreachable":
      out.push(`The kernel has no usable route to ${address}: ${plain.error?.code ?? "error"}.`);
      break;
    case "lan-via-copy": {
      const t = explanation.tables.find((x) => x.table === match?.table);
      out.push(
        `${address} goes out on ${devOf(match!, links) ?? "its link"} through linkmirror's copy ` +
          `${r(match!)} in table ${name(match!.table, names)}${ruleWords(plain)}.`,
      );
      if (t?.withoutCopy) {
        out.push(
          `Without the copy, table ${name(t.table, names)} would send it to ${r(t.withoutCopy)}.`,
        );
      }
      break;
    }
    case "main":
      out.push(
        `Table ${name(match!.table, names)} answers${ruleWords(plain)}: the lookup of ` +
          `${address} reaches it before any VPN table, so linkmirror's copies play no part.`,
      );
      break;
    case "other":
      out.push(
        `Table ${name(match!.table, names)} answers${ruleWords(plain)}; it is not one of ` +
          `linkmirror's target tables (${explanation.tables.map((t) => t.table).join(", ")}).`,
      );
      break;
    case "vpn":
      out.push(
        `Table ${name(match!.table, names)} sends ${address} to ${r(match!)}${ruleWords(plain)}.`,
      );
      break;
  }
  if (explanation.verdict === "vpn" || explanation.verdict === "other") {
    for (const t of explanation.tables) {
      if (explanation.verdict === "vpn" && t.table !== match?.table) continue;
      const why = tableReason(t, explanation, context);
      if (why) out.push(why);
    }
  }
  for (const lookup of marked) {
    const mark = markOf(lookup);
    if (lookup.error) {
      out.push(`Packets marked ${mark} (the VPN's own) find no route: ${lookup.error.code}.`);
    } else if (lookup.match) {
      const dev = lookup.resolved ? devOf(lookup.resolved, links) : null;
      out.push(
        `Packets marked ${mark} (the VPN's own) use table ${name(lookup.match.table, names)}` +
          `${ruleWords(lookup)}${dev ? ` and leave on ${dev}` : ""}.`,
      );
    }
  }
  return out;
}

function tableReason(
  t: TableExplanation,
  explanation: Explanation,
  context: ExplainContext,
): string | undefined {
  const r = (route: Route) => routeText(route, context.links, { names: context.routeNames });
  const table = name(t.table, context.names);
  const source = name(explanation.source, context.names);
  switch (t.status) {
    case "no-source-route":
      return `Table ${source} has no route to ${explanation.address} either.`;
    case "excluded":
      if (t.reason === "default") {
        return `Table ${source} would use its default route (${r(t.source!)}); linkmirror ` +
          "never copies default routes, so this destination belongs to the VPN.";
      }
      if (t.reason === "vpn-route-wins" && t.vpnRoute) {
        return `Table ${source} has ${r(t.source!)}, but the VPN routes it itself in table ` +
          `${table} (${r(t.vpnRoute)}), and the VPN's routes win (--precedence vpn).`;
      }
      return `Table ${source} has ${r(t.source!)}, but linkmirror does not mirror it into ` +
        `table ${table}: ${EXCLUSION_REASONS[t.reason!]}.`;
    case "missing":
      return `Table ${source} has ${r(t.source!)}, but its copy is missing from table ${table}: ` +
        "run `linkmirror sync`, or check that `linkmirror watch` is running.";
    case "conflict":
      return `Table ${source} has ${r(t.source!)}, but a route linkmirror did not make holds ` +
        `that prefix in table ${table}: ${(t.conflicting ?? []).map(r).join("; ")}.`;
    case "stale":
    case "outdated":
    case "copied":
      return `linkmirror's copy ${r(t.copy!)} is in table ${table}, but a more specific route ` +
        "of that table wins.";
  }
}

/** Builds the `explain --json` document. */
export function explainJson(explanation: Explanation, context: ExplainContext): ExplainJson {
  return {
    address: explanation.address,
    family: familyName(explanation.family),
    lookups: explanation.lookups.map((l) => lookupJson(l, context)),
    tables: explanation.tables.map((t) => tableJson(t, context)),
    verdict: explanation.verdict,
    summary: explanationSummary(explanation, context),
  };
}

const VERDICT_WORDS: Record<Verdict, string> = {
  "lan-via-copy": "reaches the LAN through linkmirror's copy",
  main: "main answers; linkmirror is not involved",
  vpn: "goes into the VPN's table",
  other: "another table answers",
  unreachable: "no route",
};

/** `explain` for people: each lookup as aligned key/value lines, then the verdict. */
export function explainText(
  explanation: Explanation,
  context: ExplainContext & { colors?: Palette },
): string {
  const c = context.colors ?? palette(false);
  const doc = explainJson(explanation, context);
  let out = `${c.bold(doc.address)}\n`;
  doc.lookups.forEach((lookup, i) => {
    const heading = lookup.mark === null
      ? "lookup of an ordinary packet"
      : `lookup of a packet marked ${lookup.mark} (the VPN's own${
        lookup.markOf !== null ? `, table ${lookup.markOf}` : ""
      })`;
    out += `\n${c.bold(heading)}\n`;
    const source = explanation.lookups[i];
    const rows: string[][] = [];
    if (lookup.error) rows.push(["error", c.red(lookup.error.message)]);
    if (lookup.rule) rows.push(["rule", `${lookup.rule.priority}: ${lookup.rule.text}`]);
    if (lookup.table !== null) rows.push(["table", c.cyan(name(lookup.table, context.names))]);
    if (source.match) {
      rows.push(["route", routeText(source.match, context.links, { names: context.routeNames })]);
    }
    if (lookup.nexthop) {
      const hop = [
        lookup.nexthop.gateway ? `via ${lookup.nexthop.gateway}` : "",
        lookup.nexthop.dev ? `dev ${lookup.nexthop.dev}` : "",
        lookup.nexthop.prefsrc ? `src ${lookup.nexthop.prefsrc}` : "",
      ].filter((x) => x).join(" ");
      rows.push(["next hop", hop]);
    }
    out += alignTable(rows, { indent: "  " });
  });
  const colour = doc.verdict === "lan-via-copy" || doc.verdict === "main"
    ? c.green
    : doc.verdict === "unreachable"
    ? c.red
    : c.yellow;
  out += `\n${c.bold("verdict")}: ${colour(VERDICT_WORDS[doc.verdict])}\n`;
  for (const line of doc.summary) out += `  ${line}\n`;
  return out;
}
