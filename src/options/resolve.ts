/**
 * From raw option values (strings from the command line or the environment) to the typed objects
 * the commands take, by the rows of {@linkcode OPTIONS}: each row's parser, its default, and the
 * few checks that span options (a target table that is the source, `--max-wait` shorter than
 * `--coalesce`). Pure: no environment, no kernel.
 *
 * @module
 */

import type { MirrorConfig } from "../engine/config.ts";
import type { StateLocation } from "../status/state_file.ts";
import { type CommandName, type OptionGroup, type OptionRow, OPTIONS } from "./table.ts";
import { splitList, UsageError } from "./values.ts";

/** A raw value: the strings given (a list option may be given several times) or a switch. */
export type RawValue = string | readonly string[] | boolean;

/** Raw values by row name (`table`, `excludeDev`, …), and where each came from. */
export interface RawOptions {
  /** The values given, by {@linkcode OptionRow.name}. */
  values: Readonly<Record<string, RawValue | undefined>>;
  /** Where each came from, by row name: the flag or the variable, for errors (default: flag). */
  from?: Readonly<Record<string, string>>;
}

/** The options `watch` adds to the mirroring options. */
export interface WatchOptions {
  /** Opt-in quiet time in ms that separates bursts (`--coalesce`); 0: group commit alone. */
  coalesceMs: number;
  /** Opt-in longest wait in ms of a batched change with `--coalesce` (`--max-wait`); 0: coalesce. */
  maxWaitMs: number;
  /** Seconds between full resyncs, 0 = off (`--resync-interval`). */
  resyncIntervalS: number;
  /** Delete our copies before exiting (`--flush-on-exit`). */
  flushOnExit: boolean;
  /** Receive buffer of the event socket in bytes (`--receive-buffer`). */
  receiveBufferBytes: number;
}

/** Every option of one command, parsed, by group. */
export interface ResolvedOptions {
  /** The mirroring configuration (defaults for a command that takes none of its options). */
  mirror: MirrorConfig;
  /** `watch`'s timing and exit options. */
  watch: WatchOptions;
  /** Where the daemons' state files are (`--state-file`, `--state-dir`). */
  state: StateLocation;
  /** `--json`. */
  output: { json: boolean };
  /** The logging set-up; absent fields: the defaults of `setupLogging`. */
  log: { format?: "json" | "pretty"; level?: "debug" | "info" | "warn" | "error" };
  /** Whether any mirroring option was given (on the command line or in the environment). */
  mirrorGiven: boolean;
}

/** The text a row's parser gets: a list split into items, the last of repeated single values. */
function textOf(row: OptionRow, raw: RawValue, option: string): string | string[] | boolean {
  if (typeof raw === "boolean") {
    if (row.value === undefined) return raw;
    throw new UsageError(option, "needs a value");
  }
  const texts = typeof raw === "string" ? [raw] : raw;
  if (row.value === undefined) throw new UsageError(option, "takes no value");
  if (texts.length === 0 || texts.some((t) => t.trim() === "")) {
    throw new UsageError(option, "needs a value, not an empty one");
  }
  if (!row.list) return texts[texts.length - 1].trim();
  const items = splitList(texts);
  if (items.length === 0) throw new UsageError(option, "needs a value, not an empty one");
  return items;
}

/**
 * Parses the options of `command` from `raw`, applying defaults, into the objects the commands
 * take. Throws {@linkcode UsageError} naming the flag or variable of the first bad value.
 *
 * @example
 * ```ts
 * import { resolveOptions } from "./resolve.ts";
 * const { mirror, watch } = resolveOptions("watch", { values: { table: ["51820"] } }, new Map());
 * mirror.tables; // [51820]
 * watch.coalesceMs; // 0
 * ```
 */
export function resolveOptions(
  command: CommandName,
  raw: RawOptions,
  names: ReadonlyMap<string, number>,
): ResolvedOptions {
  const groups: Record<OptionGroup, Record<string, unknown>> = {
    mirror: {},
    watch: {},
    state: {},
    output: {},
    log: {},
  };
  let mirrorGiven = false;
  /** The option as the user gave it: the flag, or the variable it came from. */
  const labelOf = (name: string) =>
    raw.from?.[name] ?? OPTIONS.find((row) => row.name === name)!.flag;
  for (const row of OPTIONS) {
    const given = row.commands.includes(command) ? raw.values[row.name] : undefined;
    if (given !== undefined && row.group === "mirror") mirrorGiven = true;
    const option = labelOf(row.name);
    let value: unknown;
    if (given !== undefined) {
      value = row.parse(textOf(row, given, option), { option, names });
    } else if (row.default !== undefined) {
      value = row.parse(textOf(row, row.default, option), { option, names });
    } else if (row.value === undefined) {
      value = false;
    } else if (row.list) {
      value = [];
    }
    if (value === undefined || (row.optional && (value === false || isEmptyList(value)))) {
      continue;
    }
    groups[row.group][row.key] = value;
  }
  return {
    mirror: mirrorConfig(groups.mirror, labelOf("table")),
    watch: watchOptions(groups.watch, labelOf("maxWait")),
    state: groups.state as unknown as StateLocation,
    output: groups.output as { json: boolean },
    log: groups.log,
    mirrorGiven,
  };
}

function isEmptyList(value: unknown): boolean {
  return Array.isArray(value) && value.length === 0;
}

/** The checks that span mirroring options; `tables` from ids and `auto` to ids + `autoTable`. */
function mirrorConfig(values: Record<string, unknown>, tableOption: string): MirrorConfig {
  const specs = (values.tables ?? []) as (number | string)[];
  const source = values.source as number;
  const tables: number[] = [];
  for (const spec of specs) {
    if (typeof spec !== "number") continue;
    if (spec === source) throw new UsageError(tableOption, `table ${spec} is the source table`);
    if (!tables.includes(spec)) tables.push(spec);
  }
  const config = { ...values, tables } as unknown as MirrorConfig;
  if (specs.some((spec) => typeof spec === "string")) config.autoTable = true;
  return config;
}

/** The checks that span `watch`'s options. */
function watchOptions(values: Record<string, unknown>, maxWaitOption: string): WatchOptions {
  const options = values as unknown as WatchOptions;
  if (options.maxWaitMs > 0 && options.maxWaitMs < options.coalesceMs) {
    throw new UsageError(
      maxWaitOption,
      `${options.maxWaitMs} is shorter than --coalesce ${options.coalesceMs}`,
    );
  }
  return options;
}
