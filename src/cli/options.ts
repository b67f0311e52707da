/**
 * Validation of command-line values into the typed configuration the engine takes. Pure: raw
 * strings in, {@linkcode MirrorConfig} out, or a {@linkcode UsageError} naming the option.
 *
 * @module
 */

import { AF, RT_TABLE } from "../netlink/constants.ts";
import { parseCidr } from "../netlink/ip.ts";
import type { MirrorConfig } from "../engine/config.ts";
import { DEFAULT_PROTOCOL } from "../planner/options.ts";
import { RESERVED_TABLES, resolveTable, UnknownTableError } from "../rt_tables.ts";

/** Firezone's routing table, the default target. */
export const DEFAULT_TABLE = "539098368";

/** Bad command-line input: exit code 2, one line naming the option. */
export class UsageError extends Error {
  /** Creates the error; `option` is the flag as the user typed it, e.g. `--table`. */
  constructor(option: string, problem: string) {
    super(`${option}: ${problem}`);
    this.name = "UsageError";
  }
}

/** Raw option values as commander collects them (strings, repeated options as arrays). */
export interface RawMirrorOptions {
  table?: string[];
  source?: string;
  protocol?: string;
  family?: string;
  exclude?: string[];
  excludeDev?: string[];
  includeGatewayRoutes?: boolean;
}

/** The `--table` value that stands for the table `linkmirror detect` finds (`--table auto`). */
export const AUTO_TABLE = "auto";

/** Splits repeated option values that may also be comma-separated (`--table a,b`, env lists). */
export function splitList(values: readonly string[] | undefined): string[] {
  return (values ?? []).flatMap((v) => v.split(/[,\s]+/)).filter((v) => v !== "");
}

/**
 * The value of a switch set through the environment: `1`, `true`, `yes`, `on` turn it on; `0`,
 * `false`, `no`, `off` and the empty string leave it off; anything else is a
 * {@linkcode UsageError} naming the variable.
 *
 * @example
 * ```ts
 * import { parseEnvFlag } from "./options.ts";
 * parseEnvFlag("LINKMIRROR_FLUSH_ON_EXIT", "0"); // false
 * parseEnvFlag("LINKMIRROR_FLUSH_ON_EXIT", "yes"); // true
 * ```
 */
export function parseEnvFlag(name: string, text: string): boolean {
  const value = text.trim().toLowerCase();
  if (["1", "true", "yes", "on"].includes(value)) return true;
  if (["", "0", "false", "no", "off"].includes(value)) return false;
  throw new UsageError(name, `"${text}" is not a switch value (1/0, true/false, yes/no, on/off)`);
}

/** Parses an integer option within [min, max], or throws {@linkcode UsageError}. */
export function parseIntOption(option: string, text: string, min: number, max: number): number {
  if (!/^[0-9]+$/.test(text.trim())) {
    throw new UsageError(option, `"${text}" is not a whole number`);
  }
  const n = Number(text.trim());
  if (n < min || n > max) throw new UsageError(option, `${n} is not between ${min} and ${max}`);
  return n;
}

function table(option: string, spec: string, names: ReadonlyMap<string, number>): number {
  try {
    return resolveTable(spec, names);
  } catch (e) {
    if (e instanceof UnknownTableError) {
      throw new UsageError(option, `unknown table "${spec}" (not an id, not in rt_tables)`);
    }
    throw e;
  }
}

const FAMILIES: Record<string, number[]> = {
  inet: [AF.INET],
  ipv4: [AF.INET],
  "4": [AF.INET],
  inet6: [AF.INET6],
  ipv6: [AF.INET6],
  "6": [AF.INET6],
  all: [AF.INET, AF.INET6],
};

/**
 * Validates raw options into a {@linkcode MirrorConfig}. `--table auto` (any case) sets
 * `autoTable` and is resolved later, against the kernel, by `resolveAutoTable`; it takes the place
 * of the default table and may be combined with explicit tables. `autoTable` and
 * `includeGatewayRoutes` appear in the result only when set.
 *
 * @example
 * ```ts
 * import { resolveMirrorConfig } from "./options.ts";
 * const config = resolveMirrorConfig({ table: ["539098368"], exclude: ["10.0.0.0/8"] }, new Map());
 * config.source; // 254
 * ```
 */
export function resolveMirrorConfig(
  raw: RawMirrorOptions,
  names: ReadonlyMap<string, number>,
): MirrorConfig {
  const source = table("--source", raw.source ?? "main", names);
  if (source === RT_TABLE.UNSPEC || source === RT_TABLE.LOCAL) {
    throw new UsageError("--source", `table ${source} cannot be a source`);
  }
  const specs = splitList(raw.table);
  const tables: number[] = [];
  const autoTable = specs.some((spec) => spec.toLowerCase() === AUTO_TABLE);
  const explicit = specs.filter((spec) => spec.toLowerCase() !== AUTO_TABLE);
  for (const spec of explicit.length || autoTable ? explicit : [DEFAULT_TABLE]) {
    const id = table("--table", spec, names);
    const reserved = RESERVED_TABLES.get(id);
    if (reserved !== undefined) {
      throw new UsageError(
        "--table",
        `table ${id} (${reserved}) is reserved and cannot be a target`,
      );
    }
    if (id === source) throw new UsageError("--table", `table ${id} is the source table`);
    if (!tables.includes(id)) tables.push(id);
  }
  const protocol = parseIntOption("--protocol", raw.protocol ?? String(DEFAULT_PROTOCOL), 1, 255);
  if (protocol <= 4) {
    throw new UsageError(
      "--protocol",
      `${protocol} belongs to the kernel (redirect, kernel, boot, static)`,
    );
  }
  const familyText = (raw.family ?? "all").toLowerCase();
  const families = FAMILIES[familyText];
  if (!families) throw new UsageError("--family", `"${raw.family}" is not inet, inet6 or all`);
  const exclude = splitList(raw.exclude).map((text) => {
    try {
      return parseCidr(text);
    } catch (e) {
      throw new UsageError("--exclude", e instanceof Error ? e.message : String(e));
    }
  });
  const excludeDevices = splitList(raw.excludeDev);
  for (const dev of excludeDevices) {
    if (dev.length > 15 || dev.includes("/")) {
      throw new UsageError("--exclude-dev", `"${dev}" is not an interface name`);
    }
  }
  const config: MirrorConfig = {
    tables,
    source,
    protocol,
    families: [...families],
    exclude,
    excludeDevices,
  };
  if (autoTable) config.autoTable = true;
  if (raw.includeGatewayRoutes) config.includeGatewayRoutes = true;
  return config;
}
