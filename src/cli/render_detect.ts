/**
 * How `linkmirror detect` shows what it found: an aligned table for people and the stable JSON
 * document of `detect --json` ({@linkcode DetectJson}). Pure.
 *
 * @module
 */

import { chooseAutoTable } from "../detect/auto_table.ts";
import { fwmarkText, ruleSelectorText } from "../detect/rule_text.ts";
import {
  type FwmarkMatch,
  IGNORED_REASONS,
  type IgnoredReason,
  NO_MAIN_RULE,
  rulePriority,
  type VpnDetection,
} from "../detect/vpn_tables.ts";
import { AF } from "../netlink/constants.ts";
import type { Rule } from "../netlink/rule.ts";
import { tableName } from "../rt_tables.ts";
import { type LinkNames, type RouteJson, routeJson } from "./render.ts";
import { alignTable, type Palette, palette } from "./tty.ts";

/** A family's name in the JSON documents. */
export type FamilyName = "inet" | "inet6";

/** `inet` for 2, `inet6` for 10. */
export function familyName(family: number): FamilyName {
  return family === AF.INET6 ? "inet6" : "inet";
}

/** A rule in the JSON documents. */
export interface RuleJson {
  /** `inet` or `inet6`. */
  family: FamilyName;
  /** Its priority (`pref`). */
  priority: number;
  /** Selector and action in `ip rule` words: `not from all fwmark 0xca6c lookup 51820`. */
  text: string;
}

/** The JSON form of a rule. */
export function ruleJson(rule: Rule, names: ReadonlyMap<string, number>): RuleJson {
  return {
    family: familyName(rule.family),
    priority: rulePriority(rule),
    text: ruleSelectorText(rule, names),
  };
}

/** A table that captures traffic ahead of main, in `detect --json`. */
export interface CandidateJson {
  table: number;
  /** Its rt_tables name, or null. */
  name: string | null;
  /** `firezone`, `wg-quick`, `tailscale`, or null. */
  vpn: string | null;
  /** Why that VPN was named (empty when `vpn` is null). */
  evidence: string[];
  families: FamilyName[];
  rules: RuleJson[];
  devices: string[];
  defaultRoutes: RouteJson[];
  routeCount: number;
  /** The VPN's own fwmark (`0xfd002021`, `0x80000/0xff0000`), or null. */
  bypassMark: string | null;
  /** A main lookup with `suppress_prefixlength` ahead of the table, or null. */
  mainFirst: RuleJson | null;
}

/** The stable document of `detect --json`. */
export interface DetectJson {
  candidates: CandidateJson[];
  ignored: {
    table: number;
    name: string | null;
    rules: RuleJson[];
    routeCount: number;
    reason: IgnoredReason;
    why: string;
  }[];
  /** The priority of main's own rule per family, null when a family has none. */
  mainRule: { inet: number | null; inet6: number | null };
  /** What `--table auto` resolves to: a table, or the error it would fail with. */
  auto: { table: number | null; error: string | null };
}

function nameOf(table: number, names: ReadonlyMap<string, number>): string | null {
  const name = tableName(table, names);
  return name === String(table) ? null : name;
}

function markText(mark: FwmarkMatch | undefined): string | null {
  return mark ? fwmarkText(mark.mark, mark.mask) : null;
}

function autoOf(detection: VpnDetection, source: number, names: ReadonlyMap<string, number>) {
  try {
    return { table: chooseAutoTable(detection, source, names).table, error: null };
  } catch (e) {
    return { table: null, error: e instanceof Error ? e.message : String(e) };
  }
}

/** Builds the `detect --json` document. */
export function detectJson(
  detection: VpnDetection,
  context: { names: ReadonlyMap<string, number>; links: LinkNames; source: number },
): DetectJson {
  const { names, links } = context;
  const main = (family: number) => {
    const p = detection.mainPriority[family];
    return p === undefined || p === NO_MAIN_RULE ? null : p;
  };
  return {
    candidates: detection.candidates.map((c) => ({
      table: c.table,
      name: nameOf(c.table, names),
      vpn: c.vpn?.name ?? null,
      evidence: c.vpn?.evidence ?? [],
      families: c.families.map(familyName),
      rules: c.rules.map((r) => ruleJson(r, names)),
      devices: c.devices,
      defaultRoutes: c.defaultRoutes.map((r) => routeJson(r, links)),
      routeCount: c.routeCount,
      bypassMark: markText(c.bypassMark),
      mainFirst: c.mainFirst ? ruleJson(c.mainFirst, names) : null,
    })),
    ignored: detection.ignored.map((t) => ({
      table: t.table,
      name: nameOf(t.table, names),
      rules: t.rules.map((r) => ruleJson(r, names)),
      routeCount: t.routeCount,
      reason: t.reason,
      why: IGNORED_REASONS[t.reason],
    })),
    mainRule: { inet: main(AF.INET), inet6: main(AF.INET6) },
    auto: autoOf(detection, context.source, names),
  };
}

/**
 * `detect` for people: one aligned row per capturing rule (table, VPN, family, priority, rule,
 * devices, route count), notes, the tables that were looked at and left out, and what
 * `--table auto` picks.
 */
export function detectText(
  detection: VpnDetection,
  context: {
    names: ReadonlyMap<string, number>;
    links: LinkNames;
    source: number;
    colors?: Palette;
  },
): string {
  const c = context.colors ?? palette(false);
  const doc = detectJson(detection, context);
  let out = "";
  if (doc.candidates.length === 0) {
    out += "No table captures traffic ahead of main.\n";
  } else {
    const rows: string[][] = [
      ["TABLE", "VPN", "FAMILY", "PREF", "RULE", "DEV", "ROUTES"].map(c.bold),
    ];
    for (const cand of doc.candidates) {
      for (const rule of cand.rules) {
        rows.push([
          c.cyan(cand.name ? `${cand.table} (${cand.name})` : String(cand.table)),
          cand.vpn ?? c.dim("-"),
          rule.family,
          String(rule.priority),
          rule.text,
          cand.devices.join(",") || c.dim("-"),
          String(cand.routeCount),
        ]);
      }
    }
    out += alignTable(rows);
    const notes: string[] = [];
    for (const cand of doc.candidates) {
      if (cand.vpn) notes.push(`${cand.table}: ${cand.vpn} (${cand.evidence.join(", ")})`);
      if (cand.bypassMark) {
        notes.push(`${cand.table}: packets marked ${cand.bypassMark} (the VPN's own) skip it`);
      }
      if (cand.mainFirst) {
        notes.push(
          `${cand.table}: rule ${cand.mainFirst.priority} (${cand.mainFirst.text}) consults ` +
            "main's more specific routes first, so LAN routes already win over this table",
        );
      }
    }
    if (notes.length) out += "\n" + notes.map((n) => `${c.dim("note")} ${n}\n`).join("");
  }
  if (doc.ignored.length) {
    out += "\nAlso looked at:\n";
    out += alignTable(
      doc.ignored.map((t) => [
        String(t.table),
        t.rules.map((r) => `${r.priority}: ${r.text}`).join("; "),
        c.dim(t.why),
      ]),
      { indent: "  " },
    );
  }
  out += "\n";
  out += doc.auto.table !== null
    ? `--table auto uses ${c.green(String(doc.auto.table))}\n`
    : `--table auto fails: ${c.yellow((doc.auto.error ?? "").replace(/^--table auto: /, ""))}\n`;
  return out;
}
