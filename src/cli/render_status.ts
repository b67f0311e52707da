/**
 * How `linkmirror status` shows the target tables and the daemon: aligned text for people and the
 * stable JSON document of `status --json` ({@linkcode StatusJson}). Pure.
 *
 * @module
 */

import type { VpnDetection } from "../detect/vpn_tables.ts";
import { EXCLUSION_REASONS, type ExclusionReason } from "../planner/eligibility.ts";
import type { DaemonSummary } from "../status/daemon_summary.ts";
import { durationText } from "../status/daemon_summary.ts";
import type { TableStatus } from "../status/table_status.ts";
import type { RouteNames } from "../rt_names.ts";
import { tableName } from "../rt_tables.ts";
import { type RuleJson, ruleJson } from "./render_detect.ts";
import { exclusionText, type LinkNames, type RouteJson, routeJson, routeText } from "./render.ts";
import { alignTable, type Palette, palette } from "./tty.ts";

/** One target table in `status --json`. */
export interface TableStatusJson {
  table: number;
  /** Its rt_tables name, or null. */
  name: string | null;
  /** The VPN client, when `detect` names it; else null. */
  vpn: string | null;
  /** Whether a rule before main sends traffic to it and it holds a default route. */
  captures: boolean;
  /** The rules before main that send traffic to it. */
  rules: RuleJson[];
  /** Nothing missing, nothing stale. */
  inSync: boolean;
  /** Every route of linkmirror's protocol in the table. */
  owned: RouteJson[];
  /** Wanted copies that are not there. */
  missing: RouteJson[];
  /** linkmirror's routes a sync would delete. */
  stale: RouteJson[];
  outdated: { from: RouteJson; to: RouteJson }[];
  /** Wanted copies held back by foreign routes. */
  conflicts: { wanted: RouteJson; existing: RouteJson[] }[];
  /** Source routes not mirrored into the table. */
  excluded: { route: RouteJson; reason: ExclusionReason; why: string; vpnRoute?: RouteJson }[];
}

/** The daemon in `status --json` (see `DaemonSummary`). */
export type DaemonJson = DaemonSummary & { stateFile: string };

/** The stable document of `status --json`. */
export interface StatusJson {
  source: number;
  protocol: number;
  includeGatewayRoutes: boolean;
  tables: TableStatusJson[];
  /** The daemon, from its state file; null when there is none. */
  daemon: DaemonJson | null;
  /** The state file's path. */
  stateFile: string;
  /** Why the state file could not be read, or null. */
  stateFileError: string | null;
  /** Every daemon with a state file (one per target table), running or not. */
  daemons: DaemonJson[];
}

/** What the status renderers need besides the table states. */
export interface StatusContext {
  source: number;
  protocol: number;
  includeGatewayRoutes: boolean;
  names: ReadonlyMap<string, number>;
  links: LinkNames;
  /** Protocol and scope names (rt_protos, rt_scopes); iproute2's built-in ones by default. */
  routeNames?: RouteNames;
  detection: VpnDetection;
  daemon: DaemonSummary | null;
  stateFile: string;
  stateFileError: string | null;
  /** Every daemon with a state file; default: the one above, if any. */
  daemons?: DaemonJson[];
}

function nameOf(table: number, names: ReadonlyMap<string, number>): string | null {
  const name = tableName(table, names);
  return name === String(table) ? null : name;
}

/** Builds the `status --json` document. */
export function statusJson(tables: readonly TableStatus[], context: StatusContext): StatusJson {
  const j = (route: Parameters<typeof routeJson>[0]) =>
    routeJson(route, context.links, context.routeNames);
  return {
    source: context.source,
    protocol: context.protocol,
    includeGatewayRoutes: context.includeGatewayRoutes,
    tables: tables.map((t) => {
      const candidate = context.detection.candidates.find((c) => c.table === t.table);
      return {
        table: t.table,
        name: nameOf(t.table, context.names),
        vpn: candidate?.vpn?.name ?? null,
        captures: candidate !== undefined,
        rules: (candidate?.rules ?? []).map((r) => ruleJson(r, context.names)),
        inSync: t.inSync,
        owned: t.owned.map(j),
        missing: t.missing.map(j),
        stale: t.stale.map(j),
        outdated: t.outdated.map((r) => ({ from: j(r.from), to: j(r.to) })),
        conflicts: t.conflicts.map((c) => ({ wanted: j(c.wanted), existing: c.existing.map(j) })),
        excluded: t.excluded.map((e) => ({
          route: j(e.route),
          reason: e.reason,
          why: EXCLUSION_REASONS[e.reason],
          ...(e.vpnRoute !== undefined ? { vpnRoute: j(e.vpnRoute) } : {}),
        })),
      };
    }),
    daemon: context.daemon ? { ...context.daemon, stateFile: context.stateFile } : null,
    stateFile: context.stateFile,
    stateFileError: context.stateFileError,
    daemons: context.daemons ??
      (context.daemon ? [{ ...context.daemon, stateFile: context.stateFile }] : []),
  };
}

/** `status` for people: a block per target table, then the daemon. */
export function statusText(
  tables: readonly TableStatus[],
  context: StatusContext & { colors?: Palette },
): string {
  const c = context.colors ?? palette(false);
  const doc = statusJson(tables, context);
  const text = (route: Parameters<typeof routeText>[0]) =>
    routeText(route, context.links, { names: context.routeNames });
  let out = "";
  doc.tables.forEach((t, i) => {
    const status = tables[i];
    const title = [c.bold(`table ${t.table}`)];
    if (t.name) title.push(`(${t.name})`);
    if (t.vpn) title.push(c.cyan(t.vpn));
    const problems: string[] = [];
    if (t.missing.length) problems.push(`${t.missing.length} missing`);
    if (t.stale.length) problems.push(`${t.stale.length} stale`);
    if (t.outdated.length) problems.push(`${t.outdated.length} outdated`);
    const health = t.inSync ? c.green("in sync") : c.yellow(`out of sync: ${problems.join(", ")}`);
    const conflicts = t.conflicts.length
      ? `, ${c.red(`${t.conflicts.length} conflict${t.conflicts.length > 1 ? "s" : ""}`)}`
      : "";
    out += `${title.join(" ")}: ${health}${conflicts}\n`;
    const rule = t.rules[0];
    out += rule
      ? `  ${c.dim("captured by rule")} ${rule.priority}: ${rule.text}\n`
      : `  ${c.dim("no rule before main sends traffic here (or it has no default route)")}\n`;
    const rows: string[][] = [];
    const owned = new Set(status.owned);
    const outdated = new Map(status.outdated.map((r) => [r.from, r.to]));
    for (const r of status.owned) {
      const isStale = status.stale.includes(r);
      const replacement = outdated.get(r);
      if (replacement !== undefined) {
        rows.push([c.yellow("outdated"), text(r), c.dim(`a sync makes it: ${text(replacement)}`)]);
      } else rows.push([isStale ? c.yellow("stale") : c.green("copied"), text(r), ""]);
    }
    for (const r of status.missing) rows.push([c.yellow("missing"), text(r), ""]);
    for (const conflict of status.conflicts) {
      rows.push([
        c.red("conflict"),
        text(conflict.wanted),
        c.dim(`held by: ${conflict.existing.map(text).join("; ")}`),
      ]);
    }
    for (const e of status.excluded) {
      if (owned.has(e.route)) continue;
      rows.push([
        c.dim("excluded"),
        text(e.route),
        c.dim(exclusionText(e, context.links, context.routeNames)),
      ]);
    }
    out += rows.length ? alignTable(rows, { indent: "  " }) : `  ${c.dim("no routes")}\n`;
    out += "\n";
  });
  out += daemonText(doc, c);
  return out;
}

function daemonText(doc: StatusJson, c: Palette): string {
  const others = doc.daemons.filter((o) => o.stateFile !== doc.stateFile).map((o) =>
    `other daemon: ${o.running === false ? c.red("not running") : c.green("running")} ` +
    `(pid ${o.pid}), tables ${o.tables.join(", ")}\n`
  ).join("");
  return ownDaemonText(doc, c) + others;
}

function ownDaemonText(doc: StatusJson, c: Palette): string {
  if (doc.stateFileError) return `daemon: ${c.red(doc.stateFileError)}\n`;
  const d = doc.daemon;
  if (d === null) return `daemon: ${c.dim(`not running (no state file at ${doc.stateFile})`)}\n`;
  const lines: string[] = [];
  if (d.running === false) {
    lines.push(
      `daemon: ${c.red("not running")} (state file from pid ${d.pid}, last written ` +
        `${durationText(d.updatedAgoS)} ago)`,
    );
  } else {
    lines.push(
      `daemon: ${c.green("running")} (pid ${d.pid}), up ${durationText(d.uptimeS)}, ` +
        `tables ${d.tables.join(", ")}`,
    );
  }
  const last = d.lastApply;
  lines.push(
    last
      ? `  last apply ${durationText(last.agoS)} ago: +${last.added} ` +
        `${last.replaced ? `*${last.replaced} ` : ""}-${last.deleted}, ` +
        `${last.conflicts} conflicts, ${last.failed} failed, ${last.durationMs} ms`
      : "  no apply yet",
  );
  const k = d.counters;
  const counters = [
    ["events", k.events],
    ["applies", k.applies],
    ["overruns", k.overruns],
    ["conflicts", k.conflicts],
    ["dropped foreign", k.droppedForeign],
    ["failed applies", k.failedApplies],
  ] as const;
  lines.push(
    "  " + counters.map(([name, n]) => {
      const value = String(n);
      const bad = n > 0 && name !== "events" && name !== "applies";
      return `${name} ${bad ? c.yellow(value) : value}`;
    }).join(", "),
  );
  return lines.map((l) => l + "\n").join("");
}
