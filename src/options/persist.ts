/**
 * The configuration as the daemon's state file records it, by the rows of {@linkcode OPTIONS}
 * that have a {@linkcode Persistence}: written by `watch`, read back by `status` through the same
 * parsers as the command line.
 *
 * @module
 */

import type { MirrorConfig } from "../engine/config.ts";
import { type RawValue, resolveOptions } from "./resolve.ts";
import { type OptionRow, OPTIONS } from "./table.ts";
import { UsageError } from "./values.ts";

/** The mirroring options the state file records, `table` first. */
export const PERSISTED: readonly OptionRow[] = OPTIONS.filter((row) =>
  row.group === "mirror" && row.persist !== undefined
);

/** What the state file holds of a configuration: the target tables, and the rest by field. */
export interface PersistedConfig {
  /** The target table ids (resolved: `auto` already a table). */
  tables: number[];
  /** Every other recorded option, by its field name (`source`, `excludeDevices`, …). */
  config: Record<string, unknown>;
}

/**
 * The state file's record of `config`.
 *
 * @example
 * ```ts
 * import { persistConfig } from "./persist.ts";
 * persistConfig({ tables: [51820], source: 254, protocol: 77, families: [2], exclude: [],
 *   excludeDevices: [] }).config.families; // ["inet"]
 * ```
 */
export function persistConfig(config: MirrorConfig): PersistedConfig {
  const fields = config as unknown as Record<string, unknown>;
  const record: Record<string, unknown> = {};
  for (const row of PERSISTED) {
    if (row.key === "tables") continue;
    record[row.key] = row.persist!.encode(fields[row.key]);
  }
  return { tables: [...config.tables], config: record };
}

/**
 * The configuration a state file records, checked by each option's parser; options it does not
 * record take their defaults. Throws {@linkcode UsageError} naming the field (`config.exclude`).
 */
export function restoreConfig(tables: unknown, config: Record<string, unknown>): MirrorConfig {
  const values: Record<string, RawValue> = {};
  const from: Record<string, string> = {};
  for (const row of PERSISTED) {
    const field = row.key === "tables" ? "tables" : `config.${row.key}`;
    const json = row.key === "tables" ? tables : config[row.key];
    const text = row.persist!.decode(json);
    if (text === undefined) {
      throw new UsageError("", `${field} is missing or not what a state file holds`);
    }
    // An empty list or a switch that is off is the default.
    if (text === false || (Array.isArray(text) && text.length === 0)) continue;
    values[row.name] = text;
    from[row.name] = field;
  }
  return resolveOptions("watch", { values, from }, new Map()).mirror;
}
