/**
 * The independent oracle of the reliability tests: what the target tables must hold, computed
 * from `ip -j -d route show table main` and `ip -j link` by restating the planner's rules here
 * (not by calling `planSync`), and compared with `ip -j -d route show table T`.
 *
 * The rules, as the issues state them: a source route of `main` is mirrored if it is unicast,
 * not default, has no source prefix, no gateway and no encapsulation, does not carry
 * linkmirror's protocol, and each of its next hops (the route itself, or every hop of a
 * multipath route; nexthop objects are not made by the model) has an output interface that is
 * not the loopback; (IPv4) its scope is link, or link or global for a multipath route. Per target
 * table: not if one of its interfaces is one the table's own (foreign) routes use; not if a
 * foreign route in the table has the same prefix (a conflict); not twice for one kernel identity
 * (IPv4: prefix, tos, metric; IPv6: prefix, metric, device), the first in dump order winning. A
 * copy keeps prefix, device or hops (with weights), preferred source, metric, scope, metrics
 * (mtu, advmss...), realms, IPv6 preference and whether it expires, and carries linkmirror's
 * protocol. Nothing else of linkmirror's may be in the table.
 *
 * @module
 */

import { CommandError, type Netns, waitFor } from "../kernel/netns.ts";

/** linkmirror's protocol as `ip` prints it. */
export const OUR_PROTOCOL = "77";

/** One route as `ip -j -d route show` prints it (the fields the oracle reads). */
export interface IpRoute {
  type?: string;
  dst: string;
  from?: string;
  dev?: string;
  gateway?: string;
  via?: unknown;
  nexthops?: { dev?: string; gateway?: string; weight?: number }[];
  nhid?: number;
  encap?: string;
  protocol?: string;
  scope?: string;
  prefsrc?: string;
  metric?: number;
  tos?: string;
  flags?: string[];
  [field: string]: unknown;
}

/** One link as `ip -j link` prints it. */
export interface IpLink {
  ifindex: number;
  ifname: string;
  flags: string[];
}

/** A route with the family it was read under. */
export interface FamilyRoute extends IpRoute {
  /** 4 or 6. */
  family: 4 | 6;
}

/** What the oracle reads from a namespace. */
export interface HostState {
  /** `main`, IPv4 then IPv6, in dump order. */
  main: FamilyRoute[];
  /** Each target table (both families). */
  targets: Map<string, FamilyRoute[]>;
  /** Every link. */
  links: IpLink[];
}

/** Reads `ip -j -d route show table TABLE` for one family; a table that does not exist is empty. */
export async function readTable(ns: Netns, table: string, family: 4 | 6): Promise<FamilyRoute[]> {
  try {
    const routes = await ns.ipJson<IpRoute[]>(`-${family}`, "-d", "route", "show", "table", table);
    return routes.map((r) => ({ ...r, family }));
  } catch (e) {
    if (e instanceof CommandError && /does not exist/.test(e.stderr)) return [];
    throw e;
  }
}

/** Reads main, the target tables and the links. */
export async function readHostState(ns: Netns, tables: readonly string[]): Promise<HostState> {
  const [main4, main6, links] = await Promise.all([
    readTable(ns, "main", 4),
    readTable(ns, "main", 6),
    ns.ipJson<IpLink[]>("link", "show"),
  ]);
  const targets = new Map<string, FamilyRoute[]>();
  for (const table of tables) {
    const [v4, v6] = await Promise.all([readTable(ns, table, 4), readTable(ns, table, 6)]);
    targets.set(table, [...v4, ...v6]);
  }
  return { main: [...main4, ...main6], targets, links };
}

/** The destination with its prefix length: `default` and host routes made explicit. */
export function prefixOf(route: FamilyRoute): string {
  if (route.dst === "default") return route.family === 4 ? "0.0.0.0/0" : "::/0";
  return route.dst.includes("/") ? route.dst : `${route.dst}/${route.family === 4 ? 32 : 128}`;
}

function metricOf(route: FamilyRoute): number {
  return route.metric ?? (route.family === 6 ? 1024 : 0);
}

/** A copy (wanted or found) as one comparable line: everything a copy must carry. */
export function copyLine(route: FamilyRoute): string {
  const hops = (route.nexthops ?? []).map((h) => `${h.dev}*${h.weight ?? 1}`).join(",");
  const forwarding = [
    hops ? `hops ${hops}` : "",
    route.metrics !== undefined ? `metrics ${JSON.stringify(route.metrics)}` : "",
    route.flow !== undefined ? `realms ${JSON.stringify(route.flow)}` : "",
    route.family === 6 ? `pref ${route.pref ?? "medium"}` : "",
    route.expires !== undefined ? "expires" : "",
  ].filter((x) => x !== "").join(" ");
  return `${prefixOf(route)} dev ${route.dev ?? "-"} scope ${route.scope ?? "?"} metric ${
    metricOf(route)
  } src ${route.prefsrc ?? "-"} type ${route.type ?? "unicast"}${
    forwarding ? ` ${forwarding}` : ""
  }`;
}

/** The output interfaces of a route: its own, or each hop's. */
function devicesOf(route: FamilyRoute): (string | undefined)[] {
  return route.nexthops !== undefined ? route.nexthops.map((h) => h.dev) : [route.dev];
}

/** Whether `route` is linkmirror's. */
export function isOurs(route: IpRoute, protocol = OUR_PROTOCOL): boolean {
  return route.protocol === protocol;
}

/** Why a source route is never mirrored, or undefined if it is a candidate. */
export function sourceRejection(
  route: FamilyRoute,
  links: readonly IpLink[],
  protocol = OUR_PROTOCOL,
): string | undefined {
  if ((route.type ?? "unicast") !== "unicast") return "type";
  if (prefixOf(route).endsWith("/0")) return "default";
  if (route.from !== undefined) return "source prefix";
  if (route.gateway !== undefined || route.via !== undefined) return "gateway";
  if (route.nexthops?.some((h) => h.gateway !== undefined)) return "gateway";
  if (route.nhid !== undefined) return "nexthop object";
  if (route.encap !== undefined) return "encap";
  if (route.protocol === protocol) return "ours";
  const scopes = route.nexthops !== undefined ? ["link", "global"] : ["link"];
  if (route.family === 4 && !scopes.includes(route.scope ?? "global")) return "scope";
  for (const dev of devicesOf(route)) {
    if (dev === undefined) return "no device";
    const link = links.find((l) => l.ifname === dev);
    if (link === undefined) return "unknown device";
    if (link.ifname === "lo" || link.flags.includes("LOOPBACK")) return "loopback";
  }
  return undefined;
}

/** What one target table must hold. */
export interface Expectation {
  /** The copies, as {@linkcode copyLine}s, sorted. */
  copies: string[];
  /** Prefixes of wanted copies held back by foreign routes, sorted. */
  conflicts: string[];
}

/** Options of {@linkcode expectedCopies}. */
export interface OracleOptions {
  /** linkmirror's protocol as `ip` prints it. Default `"77"`. */
  protocol?: string;
  /** Families mirrored. Default both. */
  families?: readonly (4 | 6)[];
}

/** The copies `table` must hold in `state`, by the rules in the module comment. */
export function expectedCopies(
  state: HostState,
  table: string,
  options: OracleOptions = {},
): Expectation {
  const protocol = options.protocol ?? OUR_PROTOCOL;
  const families = options.families ?? [4, 6];
  const inTable = state.targets.get(table) ?? [];
  const foreign = inTable.filter((r) => !isOurs(r, protocol) && !r.flags?.includes("cloned"));
  const vpnDevices = new Set<string>();
  for (const r of foreign) {
    if (r.dev) vpnDevices.add(r.dev);
    for (const hop of r.nexthops ?? []) if (hop.dev) vpnDevices.add(hop.dev);
  }
  const held = new Set(foreign.map((r) => `${r.family} ${prefixOf(r)}`));
  const copies: string[] = [];
  const conflicts: string[] = [];
  const identities = new Set<string>();
  for (const route of state.main) {
    if (!families.includes(route.family)) continue;
    if (sourceRejection(route, state.links, protocol) !== undefined) continue;
    if (devicesOf(route).some((dev) => vpnDevices.has(dev ?? ""))) continue;
    const prefix = `${route.family} ${prefixOf(route)}`;
    if (held.has(prefix)) {
      conflicts.push(prefix);
      continue;
    }
    const identity = route.family === 4
      ? `${prefix} tos ${route.tos ?? "0"} metric ${metricOf(route)}`
      : `${prefix} metric ${metricOf(route)} dev ${route.dev}`;
    if (identities.has(identity)) continue;
    identities.add(identity);
    copies.push(copyLine({ ...route, family: route.family }));
  }
  return { copies: copies.sort(), conflicts: [...new Set(conflicts)].sort() };
}

/** linkmirror's routes in `table`, as sorted {@linkcode copyLine}s. */
export function actualCopies(state: HostState, table: string, protocol = OUR_PROTOCOL): string[] {
  return (state.targets.get(table) ?? []).filter((r) => isOurs(r, protocol)).map(copyLine).sort();
}

/** Whether `route` may change by the kernel's own doing after a step (async addrconf). */
function kernelAsync(route: FamilyRoute): boolean {
  return route.family === 6 && route.protocol === "kernel" && prefixOf(route) === "fe80::/64";
}

/**
 * Every route linkmirror does not own, in main and in the target tables, as sorted lines
 * (flags left out: carrier changes set `linkdown` asynchronously; a remaining lifetime only as
 * "expires"). Two snapshots taken before and after linkmirror reacted must be equal.
 */
export function foreignSnapshot(state: HostState, protocol = OUR_PROTOCOL): string[] {
  const line = (table: string, r: FamilyRoute) => {
    const { flags: _flags, ...rest } = r;
    if (rest.expires !== undefined) rest.expires = "counting down";
    return `${table} ${JSON.stringify(rest, Object.keys(rest).sort())}`;
  };
  const lines = state.main.filter((r) => !kernelAsync(r)).map((r) => line("main", r));
  for (const [table, routes] of state.targets) {
    for (const r of routes) if (!isOurs(r, protocol)) lines.push(line(table, r));
  }
  return lines.sort();
}

/** The difference of two sorted line lists, for failure messages. */
export function diffLines(want: readonly string[], got: readonly string[]): string {
  const missing = want.filter((l) => !got.includes(l));
  const extra = got.filter((l) => !want.includes(l));
  const count = (list: readonly string[]) => {
    const m = new Map<string, number>();
    for (const l of list) m.set(l, (m.get(l) ?? 0) + 1);
    return m;
  };
  const w = count(want);
  const dupes = [...count(got)].filter(([l, n]) => n > (w.get(l) ?? 0) && w.has(l))
    .map(([l, n]) => `${l} (x${n})`);
  return [
    ...missing.map((l) => `  missing: ${l}`),
    ...extra.map((l) => `  unexpected: ${l}`),
    ...dupes.map((l) => `  duplicate: ${l}`),
  ].join("\n");
}

/** The outcome of {@linkcode waitExact}. */
export interface ExactResult {
  /** The state in which the tables were exact. */
  state: HostState;
  /** Copies per table. */
  copies: Map<string, string[]>;
}

/** Options of {@linkcode waitExact}. */
export interface WaitExactOptions extends OracleOptions {
  /** Give up after this long. Default 5000 ms. */
  timeoutMs?: number;
  /** What is awaited, for the failure message. */
  message?: string;
}

/** Thrown by {@linkcode waitExact} when the tables did not become exact in time. */
export class NotExactError extends Error {
  /** Creates the error with the difference per table. */
  constructor(message: string) {
    super(message);
    this.name = "NotExactError";
  }
}

/**
 * Polls the namespace until every target table holds exactly the copies the oracle wants (no
 * missing copy, no stale one, no duplicate); throws {@linkcode NotExactError} with the
 * difference otherwise.
 */
export async function waitExact(
  ns: Netns,
  tables: readonly string[],
  options: WaitExactOptions = {},
): Promise<ExactResult> {
  let last: { state: HostState; diffs: string[] } | undefined;
  try {
    return await waitFor(async () => {
      const state = await readHostState(ns, tables);
      const copies = new Map<string, string[]>();
      const diffs: string[] = [];
      for (const table of tables) {
        const want = expectedCopies(state, table, options).copies;
        const got = actualCopies(state, table, options.protocol);
        copies.set(table, got);
        if (JSON.stringify(want) !== JSON.stringify(got)) {
          diffs.push(`table ${table}:\n${diffLines(want, got)}`);
        }
      }
      last = { state, diffs };
      return diffs.length === 0 ? { state, copies } : undefined;
    }, { timeoutMs: options.timeoutMs ?? 5000, intervalMs: 10, message: options.message });
  } catch (e) {
    if (last === undefined) throw e;
    throw new NotExactError(
      `${options.message ?? "the target tables"} not exact after ${
        options.timeoutMs ?? 5000
      } ms:\n${last.diffs.join("\n")}`,
    );
  }
}
