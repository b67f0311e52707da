/**
 * Routing-table names as iproute2 knows them: `/etc/iproute2/rt_tables` and
 * `/etc/iproute2/rt_tables.d/*.conf` (and the distribution defaults under `/usr/share/iproute2`
 * and `/usr/lib/iproute2` of newer iproute2), and the resolution of `--table ID|NAME`.
 *
 * @module
 */

import { RT_TABLE } from "./netlink/constants.ts";

/**
 * The tables the kernel reserves, by id: unspec, default, main and local. No command may target
 * one, and none is a VPN's.
 */
export const RESERVED_TABLES: ReadonlyMap<number, string> = new Map([
  [RT_TABLE.UNSPEC, "unspec"],
  [RT_TABLE.DEFAULT, "default"],
  [RT_TABLE.MAIN, "main"],
  [RT_TABLE.LOCAL, "local"],
]);

/** Tables every system knows even without an rt_tables file: the reserved ones, by name. */
export const BUILTIN_TABLES: ReadonlyMap<string, number> = new Map(
  [...RESERVED_TABLES].map(([id, name]) => [name, id]),
);

/** A table name or id that does not resolve. */
export class UnknownTableError extends Error {
  /** Creates the error for the `spec` the user gave. */
  constructor(spec: string) {
    super(
      `Unknown routing table "${spec}": not a number from 1 to 4294967295 and not a name in /etc/iproute2/rt_tables`,
    );
    this.name = "UnknownTableError";
  }
}

/**
 * Parses rt_tables text: `ID NAME` per line, `#` comments, ids decimal or hex.
 *
 * @example
 * ```ts
 * import { parseRtTables } from "./rt_tables.ts";
 * parseRtTables("254 main\n539098368\tfirezone # vpn\n").get("firezone"); // 539098368
 * ```
 */
export function parseRtTables(text: string): Map<string, number> {
  const names = new Map<string, number>();
  for (const [idText, name] of idNameLines(text)) {
    const id = parseTableId(idText);
    if (id !== undefined) names.set(name, id);
  }
  return names;
}

/**
 * The `ID NAME` lines of an iproute2 configuration file (`rt_tables`, `rt_protos`, ...): comments
 * (`#` to the end of the line) and lines without a name left out; the id as written.
 *
 * @example
 * ```ts
 * import { idNameLines } from "./rt_tables.ts";
 * idNameLines("# reserved\n16\tdhcp\n"); // [["16", "dhcp"]]
 * ```
 */
export function idNameLines(text: string): [string, string][] {
  const lines: [string, string][] = [];
  for (const raw of text.split("\n")) {
    const [idText, name] = raw.replace(/#.*/, "").trim().split(/\s+/);
    if (idText && name) lines.push([idText, name]);
  }
  return lines;
}

/** Parses a decimal or `0x` hex table id in the 32-bit range, or returns undefined. */
export function parseTableId(text: string | undefined): number | undefined {
  if (!text || !/^(0x[0-9a-f]+|[0-9]+)$/i.test(text)) return undefined;
  const id = Number(text);
  return Number.isSafeInteger(id) && id >= 0 && id <= 0xffffffff ? id : undefined;
}

/** The files iproute2 reads table names from, in the order later entries override earlier. */
export const RT_TABLES_DIRS: readonly string[] = [
  "/usr/lib/iproute2",
  "/usr/share/iproute2",
  "/etc/iproute2",
];

/** Reads every rt_tables file that exists (plus `rt_tables.d/*.conf`) into one name map. */
export function loadRtTables(dirs: readonly string[] = RT_TABLES_DIRS): Map<string, number> {
  const names = new Map(BUILTIN_TABLES);
  for (const text of configTexts(dirs, "rt_tables")) {
    for (const [name, id] of parseRtTables(text)) names.set(name, id);
  }
  return names;
}

/**
 * The texts of iproute2's configuration file `base` under each of `dirs`: `dir/base`, then
 * `dir/base.d/*.conf` sorted, each dir after the one before, so that later entries override
 * earlier ones. Files that do not exist or cannot be read are left out.
 *
 * @example
 * ```ts ignore
 * import { configTexts } from "./rt_tables.ts";
 * configTexts(["/etc/iproute2"], "rt_protos").length; // how many of those files exist
 * ```
 */
export function configTexts(dirs: readonly string[], base: string): string[] {
  const texts: string[] = [];
  for (const dir of dirs) {
    for (const file of [`${dir}/${base}`, ...confFiles(`${dir}/${base}.d`)]) {
      try {
        texts.push(Deno.readTextFileSync(file));
      } catch {
        continue;
      }
    }
  }
  return texts;
}

/** The `*.conf` files of an iproute2 `.d` directory, sorted; none when it does not exist. */
function confFiles(dir: string): string[] {
  try {
    return [...Deno.readDirSync(dir)]
      .filter((e) => e.isFile && e.name.endsWith(".conf"))
      .map((e) => `${dir}/${e.name}`)
      .sort();
  } catch {
    return [];
  }
}

/**
 * Resolves `--table ID|NAME` to an id, or throws {@linkcode UnknownTableError}.
 *
 * @example
 * ```ts
 * import { resolveTable } from "./rt_tables.ts";
 * resolveTable("539098368", new Map()); // 539098368
 * resolveTable("main", new Map([["main", 254]])); // 254
 * ```
 */
export function resolveTable(spec: string, names: ReadonlyMap<string, number>): number {
  const id = parseTableId(spec) ?? names.get(spec) ?? BUILTIN_TABLES.get(spec);
  if (id === undefined) throw new UnknownTableError(spec);
  return id;
}

/** The name of a table id for display: its rt_tables name, else the number. */
export function tableName(id: number, names: ReadonlyMap<string, number>): string {
  for (const [name, value] of names) if (value === id) return name;
  return String(id);
}
