/**
 * `--table auto`: reading the kernel for a VPN-table detection ({@linkcode readVpnDetection}) and
 * turning a {@linkcode MirrorConfig} with `autoTable` into one with concrete tables
 * ({@linkcode resolveAutoTable}). Every command that takes `--table` calls the resolver once,
 * right after opening its kernel connection and before planning — `watch` included.
 *
 * @module
 */

import type { MirrorConfig } from "../engine/config.ts";
import { log } from "../log.ts";
import { AF } from "../netlink/constants.ts";
import type { Link } from "../netlink/link.ts";
import type { Route } from "../netlink/route.ts";
import type { Rule } from "../netlink/rule.ts";
import type { RouteFilter } from "../rtnl/client.ts";
import { ruleText } from "./rule_text.ts";
import {
  detectVpnTables,
  IGNORED_REASONS,
  referencedTables,
  type VpnDetection,
  type VpnTable,
} from "./vpn_tables.ts";

/** The kernel reads a detection needs; `RtnlClient` is one. */
export interface VpnTableSource {
  /** Every policy rule of `family`. */
  rules(family: number): Rule[];
  /** Routes matching `filter` (a table that does not exist is empty). */
  routes(filter: RouteFilter): Route[];
  /** Every link. */
  links(): Link[];
}

/**
 * Reads the rules of `families`, the routes of every table they point at and the links, and
 * detects the tables that capture traffic ahead of main.
 *
 * @example
 * ```ts ignore
 * import { readVpnDetection } from "./auto_table.ts";
 * import { RtnlClient } from "../rtnl/client.ts";
 * const detection = readVpnDetection(RtnlClient.open());
 * detection.candidates.map((c) => c.table); // [539098368]
 * ```
 */
export function readVpnDetection(
  source: VpnTableSource,
  families: readonly number[] = [AF.INET, AF.INET6],
): VpnDetection {
  const rules = families.flatMap((family) => source.rules(family));
  const routes = referencedTables(rules).flatMap((table) => source.routes({ table }));
  return detectVpnTables({ rules, routes, links: source.links(), families });
}

/** `--table auto` found no table, or several: the message lists what was found. */
export class AutoTableError extends Error {
  /** The detection the error is about. */
  readonly detection: VpnDetection;
  /** Creates the error with its message. */
  constructor(message: string, detection: VpnDetection) {
    super(message);
    this.name = "AutoTableError";
    this.detection = detection;
  }
}

/**
 * A candidate in one line: `539098368 (firezone; rule 32765: not from all fwmark 0xfd002021
 * lookup 539098368; dev tun0)`.
 */
export function describeCandidate(
  candidate: VpnTable,
  names: ReadonlyMap<string, number> = new Map(),
): string {
  const parts: string[] = [];
  if (candidate.vpn) parts.push(candidate.vpn.name);
  const rule = candidate.rules[0];
  if (rule) parts.push(`rule ${ruleText(rule, names)}`);
  if (candidate.devices.length) parts.push(`dev ${candidate.devices.join(",")}`);
  return `${candidate.table} (${parts.join("; ")})`;
}

/**
 * The one candidate of `detection` that `--table auto` stands for, or an
 * {@linkcode AutoTableError} whose message lists the candidates (several) or the tables that were
 * looked at and why none qualifies (none). Candidates equal to `source` are left out. Pure.
 *
 * @example
 * ```ts
 * import { chooseAutoTable } from "./auto_table.ts";
 * const detection = { candidates: [], ignored: [], mainPriority: { 2: 32766 } };
 * try {
 *   chooseAutoTable(detection, 254);
 * } catch (e) {
 *   (e as Error).message; // "--table auto: no routing table captures traffic ahead of main ..."
 * }
 * ```
 */
export function chooseAutoTable(
  detection: VpnDetection,
  source: number,
  names: ReadonlyMap<string, number> = new Map(),
): VpnTable {
  const candidates = detection.candidates.filter((c) => c.table !== source);
  if (candidates.length === 1) return candidates[0];
  if (candidates.length === 0) {
    const seen = detection.ignored.map((t) =>
      `${t.table} (${t.rules[0] ? `rule ${ruleText(t.rules[0], names)}: ` : ""}${
        IGNORED_REASONS[t.reason]
      })`
    );
    throw new AutoTableError(
      "--table auto: no routing table captures traffic ahead of main (no rule before main's " +
        "leads to a table with a default route); is the VPN connected?" +
        (seen.length ? ` Tables looked at: ${seen.join(", ")}` : ""),
      detection,
    );
  }
  throw new AutoTableError(
    `--table auto: ${candidates.length} tables capture traffic ahead of main: ` +
      `${candidates.map((c) => describeCandidate(c, names)).join(", ")}; ` +
      "choose with --table ID (repeat it to mirror into several)",
    detection,
  );
}

/**
 * Resolves `--table auto`: when `config.autoTable` is set, detects the VPN table through
 * `source` (the configured families only), adds it to `config.tables` (after any tables given
 * explicitly, without duplicates) and returns the new configuration with `autoTable` removed; a
 * configuration without `autoTable` is returned as is, without reading the kernel. Throws
 * {@linkcode AutoTableError} when no table or several tables qualify (the CLI turns it into one
 * line on stderr and exit code 1). Call once per command, before planning; `watch` calls it at
 * start-up and keeps the table it found (a VPN that reconnects into another table needs a
 * restart).
 *
 * @example
 * ```ts ignore
 * import { resolveAutoTable } from "../detect/auto_table.ts";
 * const client = RtnlClient.open();
 * const config = resolveAutoTable(ctx.config, client); // config.tables: [539098368]
 * ```
 */
export function resolveAutoTable(
  config: MirrorConfig,
  source: VpnTableSource,
  names: ReadonlyMap<string, number> = new Map(),
): MirrorConfig {
  if (!config.autoTable) return config;
  const detection = readVpnDetection(source, config.families);
  const chosen = chooseAutoTable(detection, config.source, names);
  log().info("Target table detected: {table}", {
    table: chosen.table,
    vpn: chosen.vpn?.name ?? null,
    rule: chosen.rules[0] ? ruleText(chosen.rules[0], names) : null,
  });
  const { autoTable: _auto, ...rest } = config;
  const tables = config.tables.includes(chosen.table)
    ? [...config.tables]
    : [...config.tables, chosen.table];
  return { ...rest, tables };
}
