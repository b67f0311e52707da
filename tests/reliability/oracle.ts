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
 * foreign route in the table has the same prefix (a conflict); and (the security issue) only if
 * its destination is local address space — inside 10/8, 172.16/12, 192.168/16, 169.254/16,
 * fc00::/7, fe80::/10 or an allowed prefix and not broader than it, or an IPv6 prefix of length
 * 64 or more holding a global address the host has on the route's device — and, under precedence
 * `vpn` (the default), only if the longest foreign route of the table covering the prefix (equal
 * or broader) is a catch-all (a default route, 0.0.0.0/1, 128.0.0.0/1, ::/1, 8000::/1, 2000::/3)
 * or there is none; not twice for one kernel identity (IPv4: prefix, tos, metric; IPv6: prefix,
 * metric, device), the first in dump order winning. A copy keeps prefix, device or hops (with
 * weights), preferred source, scope, metrics (mtu, advmss...), realms, IPv6 preference and
 * whether it expires, has the source's metric plus 2^31 (at most 2^32 - 1; IPv6 without one
 * counts 1024), and carries linkmirror's protocol. Nothing else of linkmirror's may be in the
 * table.
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
  nexthops?: { dev?: string; gateway?: string; weight?: number; flags?: string[] }[];
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

/** One interface's addresses as `ip -j address` prints them (the fields the oracle reads). */
export interface IpAddressLink {
  ifname: string;
  addr_info: { family: string; local: string; prefixlen: number; scope: string }[];
}

/** What the oracle reads from a namespace. */
export interface HostState {
  /** `main`, IPv4 then IPv6, in dump order. */
  main: FamilyRoute[];
  /** Each target table (both families). */
  targets: Map<string, FamilyRoute[]>;
  /** Every link. */
  links: IpLink[];
  /** Every interface's addresses (absent: none). */
  addresses?: IpAddressLink[];
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
  const [main4, main6, links, addresses] = await Promise.all([
    readTable(ns, "main", 4),
    readTable(ns, "main", 6),
    ns.ipJson<IpLink[]>("link", "show"),
    ns.ipJson<IpAddressLink[]>("address", "show"),
  ]);
  const targets = new Map<string, FamilyRoute[]>();
  for (const table of tables) {
    const [v4, v6] = await Promise.all([readTable(ns, table, 4), readTable(ns, table, 6)]);
    targets.set(table, [...v4, ...v6]);
  }
  return { main: [...main4, ...main6], targets, links, addresses };
}

/** The destination with its prefix length: `default` and host routes made explicit. */
export function prefixOf(route: FamilyRoute): string {
  if (route.dst === "default") return route.family === 4 ? "0.0.0.0/0" : "::/0";
  return route.dst.includes("/") ? route.dst : `${route.dst}/${route.family === 4 ? 32 : 128}`;
}

function metricOf(route: FamilyRoute): number {
  return route.metric ?? (route.family === 6 ? 1024 : 0);
}

/** What a copy's metric adds to its source's, and the largest metric. */
const OFFSET = 2 ** 31;
const MAX_METRIC = 2 ** 32 - 1;

/** An address as a string of 32 or 128 binary digits. */
function addressBits(address: string): string {
  if (!address.includes(":")) {
    return address.split(".").map((o) => Number(o).toString(2).padStart(8, "0")).join("");
  }
  const [head, tail = ""] = address.split("::");
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  const groups = address.includes("::")
    ? [...h, ...Array(8 - h.length - t.length).fill("0"), ...t]
    : h;
  return groups.map((g) => parseInt(g, 16).toString(2).padStart(16, "0")).join("");
}

/** A prefix: its family's width, its address's binary digits, and the first `len` of them. */
interface Net {
  width: number;
  bits: string;
  len: number;
  prefixBits: string;
}

/** Parsed prefixes, by text: the oracle reads thousands of routes per poll. */
const NETS = new Map<string, Net>();

function netOf(prefix: string): Net {
  let net = NETS.get(prefix);
  if (net === undefined) {
    const [address, lenText] = prefix.split("/");
    const width = address.includes(":") ? 128 : 32;
    const bits = addressBits(address);
    const len = lenText === undefined ? width : Number(lenText);
    net = { width, bits, len, prefixBits: bits.slice(0, len) };
    if (NETS.size > 100_000) NETS.clear();
    NETS.set(prefix, net);
  }
  return net;
}

/** Whether `outer` contains `inner` (same family, not longer, same leading bits). */
function contains(outer: Net, inner: Net): boolean {
  return outer.width === inner.width && outer.len <= inner.len &&
    inner.bits.startsWith(outer.prefixBits);
}

/** The ranges mirrored by default. */
const LOCAL_RANGES = [
  "10.0.0.0/8",
  "172.16.0.0/12",
  "192.168.0.0/16",
  "169.254.0.0/16",
  "fc00::/7",
  "fe80::/10",
];

/** The VPN routes that are no resource. */
const CATCH_ALLS = ["0.0.0.0/1", "128.0.0.0/1", "::/1", "8000::/1", "2000::/3"];

/** Whether `route` of main is local address space (see the module comment). */
export function isLocalSpace(
  route: FamilyRoute,
  addresses: readonly IpAddressLink[],
  allow: readonly string[] = [],
): boolean {
  const dst = netOf(prefixOf(route));
  if ([...LOCAL_RANGES, ...allow].some((r) => contains(netOf(r), dst))) return true;
  if (route.family !== 6 || dst.len < 64) return false;
  const link = addresses.find((l) => l.ifname === route.dev);
  return (link?.addr_info ?? []).some((a) =>
    a.family === "inet6" && a.scope === "global" && contains(dst, netOf(a.local))
  );
}

/**
 * Under precedence `vpn`: the foreign route of a table that keeps a copy of `route` out (the
 * longest covering one, when it is not a catch-all), or undefined.
 */
export function vpnRouteWinning(
  route: FamilyRoute,
  foreign: readonly FamilyRoute[],
): FamilyRoute | undefined {
  const dst = netOf(prefixOf(route));
  let best: FamilyRoute | undefined;
  let bestLen = -1;
  for (const r of foreign) {
    if (r.family !== route.family) continue;
    const net = netOf(prefixOf(r));
    if (contains(net, dst) && net.len > bestLen) [best, bestLen] = [r, net.len];
  }
  if (best === undefined || bestLen === 0) return undefined;
  return CATCH_ALLS.includes(prefixOf(best)) ? undefined : best;
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

/** The copy of a source route, as the line {@linkcode copyLine} gives for it in a table. */
export function wantedCopyLine(source: FamilyRoute): string {
  const metric = Math.min(metricOf(source) + OFFSET, MAX_METRIC);
  // A hop whose device is down ("dead") does not forward, and the kernel refuses to add one: the
  // copy has the live hops only, and with one left it is a plain route on that hop's device.
  const live = source.nexthops?.filter((hop) => !(hop.flags ?? []).includes("dead"));
  if (live === undefined || live.length === 0 || live.length === source.nexthops!.length) {
    return copyLine({ ...source, metric });
  }
  if (live.length > 1) return copyLine({ ...source, nexthops: live, metric });
  const { nexthops: _all, ...single } = source;
  return copyLine({ ...single, dev: live[0].dev, metric });
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
  /** `--allow-prefix` prefixes. Default none. */
  allowPrefixes?: readonly string[];
  /** `--precedence`. Default `vpn`. */
  precedence?: "vpn" | "lan";
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
    if (!isLocalSpace(route, state.addresses ?? [], options.allowPrefixes)) continue;
    if (devicesOf(route).some((dev) => vpnDevices.has(dev ?? ""))) continue;
    if ((options.precedence ?? "vpn") === "vpn" && vpnRouteWinning(route, foreign)) continue;
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
    copies.push(wantedCopyLine(route));
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
