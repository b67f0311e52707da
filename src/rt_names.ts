/**
 * Route protocol and scope names as iproute2 prints them (`proto dhcp`, `scope link`): its
 * built-in names, then `rt_protos` / `rt_scopes` and their `.d/*.conf` files under the same
 * directories as the table names ({@linkcode RT_TABLES_DIRS}), later entries overriding earlier
 * ones. Route type names are fixed in iproute2 (no file). Loading reads files; naming is pure.
 *
 * @module
 */

import { configTexts, idNameLines, RT_TABLES_DIRS } from "./rt_tables.ts";

/** Names of route protocols and scopes, by number. */
export interface RouteNames {
  /** `rtm_protocol` → name. */
  protocols: ReadonlyMap<number, string>;
  /** `rtm_scope` → name. */
  scopes: ReadonlyMap<number, string>;
}

/** iproute2's built-in protocol names (`lib/rt_names.c`), used when no file names a number. */
const BUILTIN_PROTOCOLS: ReadonlyMap<number, string> = new Map([
  [0, "unspec"],
  [1, "redirect"],
  [2, "kernel"],
  [3, "boot"],
  [4, "static"],
  [8, "gated"],
  [9, "ra"],
  [10, "mrt"],
  [11, "zebra"],
  [12, "bird"],
  [13, "dnrouted"],
  [14, "xorp"],
  [15, "ntk"],
  [16, "dhcp"],
  [18, "keepalived"],
  [42, "babel"],
  [99, "openr"],
  [186, "bgp"],
  [187, "isis"],
  [188, "ospf"],
  [189, "rip"],
  [192, "eigrp"],
]);

/** iproute2's built-in scope names. */
const BUILTIN_SCOPES: ReadonlyMap<number, string> = new Map([
  [0, "global"],
  [200, "site"],
  [253, "link"],
  [254, "host"],
  [255, "nowhere"],
]);

/** The names every iproute2 knows without a file. */
export const BUILTIN_ROUTE_NAMES: RouteNames = Object.freeze({
  protocols: BUILTIN_PROTOCOLS,
  scopes: BUILTIN_SCOPES,
});

/** Route type names (`rtm_type`), as iproute2 prints them; fixed, not read from a file. */
const TYPE_NAMES: ReadonlyMap<number, string> = new Map([
  [0, "none"],
  [1, "unicast"],
  [2, "local"],
  [3, "broadcast"],
  [4, "anycast"],
  [5, "multicast"],
  [6, "blackhole"],
  [7, "unreachable"],
  [8, "prohibit"],
  [9, "throw"],
  [10, "nat"],
  [11, "xresolve"],
]);

/**
 * Parses an iproute2 id/name file (`rt_protos`, `rt_scopes`): `ID NAME` per line, `#` comments,
 * ids decimal or `0x` hex from 0 to 255.
 *
 * @example
 * ```ts
 * import { parseIdNames } from "./rt_names.ts";
 * parseIdNames("# reserved\n16\tdhcp\n0x4d linkmirror\n").get(77); // "linkmirror"
 * ```
 */
export function parseIdNames(text: string): Map<number, string> {
  const names = new Map<number, string>();
  for (const [idText, name] of idNameLines(text)) {
    if (!/^(0x[0-9a-f]+|[0-9]+)$/i.test(idText)) continue;
    const id = Number(idText);
    if (id <= 255) names.set(id, name);
  }
  return names;
}

function readNames(dirs: readonly string[], base: string, into: Map<number, string>): void {
  for (const text of configTexts(dirs, base)) {
    for (const [id, name] of parseIdNames(text)) into.set(id, name);
  }
}

/**
 * The protocol and scope names of this system: the built-in ones, overridden by every
 * `rt_protos`/`rt_scopes` file (and `.d/*.conf`) under `dirs` that exists.
 *
 * @example
 * ```ts ignore
 * import { loadRouteNames, protocolName } from "./rt_names.ts";
 * protocolName(16, loadRouteNames()); // "dhcp"
 * ```
 */
export function loadRouteNames(dirs: readonly string[] = RT_TABLES_DIRS): RouteNames {
  const protocols = new Map(BUILTIN_PROTOCOLS);
  const scopes = new Map(BUILTIN_SCOPES);
  readNames(dirs, "rt_protos", protocols);
  readNames(dirs, "rt_scopes", scopes);
  return { protocols, scopes };
}

/**
 * A protocol as `ip` prints it: its name, else the number.
 *
 * @example
 * ```ts
 * import { BUILTIN_ROUTE_NAMES, protocolName } from "./rt_names.ts";
 * protocolName(16, BUILTIN_ROUTE_NAMES); // "dhcp"
 * protocolName(77, BUILTIN_ROUTE_NAMES); // "77"
 * ```
 */
export function protocolName(protocol: number, names: RouteNames = BUILTIN_ROUTE_NAMES): string {
  return names.protocols.get(protocol) ?? String(protocol);
}

/**
 * A scope as `ip` prints it: its name, else the number.
 *
 * @example
 * ```ts
 * import { scopeName } from "./rt_names.ts";
 * scopeName(253); // "link"
 * ```
 */
export function scopeName(scope: number, names: RouteNames = BUILTIN_ROUTE_NAMES): string {
  return names.scopes.get(scope) ?? String(scope);
}

/**
 * A route type as `ip` prints it: its name, else the number.
 *
 * @example
 * ```ts
 * import { typeName } from "./rt_names.ts";
 * typeName(7); // "unreachable"
 * ```
 */
export function typeName(type: number): string {
  return TYPE_NAMES.get(type) ?? String(type);
}
