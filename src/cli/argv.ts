/**
 * Reads the command line and the `LINKMIRROR_*` environment into raw option values, by the rows of
 * the option table. The flags are scanned by `mri` (configured from the table); what `mri` is lax
 * about is refused here first, so that every mistake is a {@linkcode UsageError}: an unknown option
 * or command, a value for a switch, a missing or empty value, an option the command does not take.
 * A flag wins over its variable.
 *
 * @module
 */

// @ts-types="npm:mri@1.2.0"
import mri from "mri";
import type { RawOptions, RawValue } from "../options/resolve.ts";
import { type CommandName, COMMANDS, type OptionRow, OPTIONS } from "../options/table.ts";
import { parseEnvFlag, UsageError } from "../options/values.ts";

/** What the command line asks for. */
export interface ParsedArgs extends RawOptions {
  /** The command, if one was named. */
  command?: CommandName;
  /** The arguments after the command. */
  positionals: string[];
  /** `-h`/`--help` was given. */
  help: boolean;
  /** `-V`/`--version` was given. */
  version: boolean;
}

const kebab = (row: OptionRow) => row.flag.slice(2);
const byLong = new Map(OPTIONS.map((row) => [kebab(row), row]));
const byShort = new Map(
  OPTIONS.filter((row) => row.short).map((row) => [row.short!.slice(1), row]),
);

/** Refuses what mri would take loosely; splits `-t51820` into `-t 51820`. */
function normalise(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") {
      out.push(...args.slice(i));
      break;
    }
    if (!arg.startsWith("-") || arg === "-") {
      out.push(arg);
      continue;
    }
    const long = /^--([^=]*)(=(.*))?$/s.exec(arg);
    if (long) {
      const [, name, withValue, value] = long;
      const row = byLong.get(name);
      if (!row && !(name === "help" || name === "version")) {
        throw new UsageError("", `unknown option ${arg.split("=")[0]}`);
      }
      if (withValue !== undefined && (!row || row.value === undefined)) {
        throw new UsageError(`--${name}`, "takes no value");
      }
      if (withValue !== undefined && value.trim() === "") {
        throw new UsageError(`--${name}`, "needs a value, not an empty one");
      }
      if (withValue === undefined && row?.value !== undefined) {
        out.push(withNextValue(row, args[++i]));
        continue;
      }
      out.push(arg);
      continue;
    }
    // Short flags become long ones: mri keeps `-t a --table b` apart and then drops one.
    const letter = arg[1];
    const row = byShort.get(letter);
    const asLong = row ? row.flag : letter === "h" ? "--help" : letter === "V" ? "--version" : "";
    if (!asLong || (arg.length > 2 && row?.value === undefined)) {
      throw new UsageError("", `unknown option ${arg}`);
    }
    if (row?.value !== undefined && arg.length === 2) {
      out.push(withNextValue(row, args[++i]));
      continue;
    }
    out.push(asLong);
    if (arg.length > 2) out.push(arg.slice(arg[2] === "=" ? 3 : 2));
  }
  return out;
}

/**
 * `--flag=VALUE` for a flag that takes a value and the argument after it, which is its value even
 * when it starts with a dash (`--table -1` is a bad table, not an unknown option `-1`).
 */
function withNextValue(row: OptionRow, value: string | undefined): string {
  if (value === undefined) throw new UsageError(row.flag, "needs a value");
  if (value.trim() === "") throw new UsageError(row.flag, "needs a value, not an empty one");
  return `${row.flag}=${value}`;
}

/** The last of repeated switches, the list of repeated values. */
function rawOf(row: OptionRow, value: unknown): RawValue {
  if (row.value === undefined) {
    return Array.isArray(value) ? value[value.length - 1] : value as boolean;
  }
  if (Array.isArray(value)) return value.map((v) => v === true ? "" : String(v));
  return value === true ? "" : String(value);
}

/**
 * Parses `args` (without the program name), reading each option not given as a flag from its
 * variable through `env`. Throws {@linkcode UsageError}.
 *
 * @example
 * ```ts
 * import { parseArgv } from "./argv.ts";
 * const parsed = parseArgv(["sync", "-t", "51820"], () => undefined);
 * parsed.command; // "sync"
 * parsed.values.table; // ["51820"]
 * ```
 */
export function parseArgv(
  args: readonly string[],
  env: (name: string) => string | undefined,
): ParsedArgs {
  const alias: Record<string, string[]> = { help: [], version: [] };
  for (const row of OPTIONS) alias[kebab(row)] = [];
  const scanned = mri(normalise(args), {
    alias,
    string: OPTIONS.filter((row) => row.value !== undefined).map(kebab),
    boolean: [...OPTIONS.filter((row) => row.value === undefined).map(kebab), "help", "version"],
    unknown: (flag: string) => {
      throw new UsageError("", `unknown option ${flag}`);
    },
  });
  const help = scanned.help === true || Array.isArray(scanned.help);
  const version = scanned.version === true || Array.isArray(scanned.version);
  const [name, ...positionals] = (scanned._ as unknown[]).map(String);
  const command = COMMANDS.find((c) => c.name === name)?.name;
  if (name !== undefined && command === undefined && !help) {
    throw new UsageError(
      "",
      `unknown command ${name} (commands: ${COMMANDS.map((c) => c.name).join(", ")})`,
    );
  }
  const values: Record<string, RawValue> = {};
  const from: Record<string, string> = {};
  for (const row of OPTIONS) {
    const given = scanned[kebab(row)];
    if (given === undefined || given === false && row.value === undefined) continue;
    if (command && !row.commands.includes(command)) {
      throw new UsageError(row.flag, `not an option of ${command}`);
    }
    values[row.name] = rawOf(row, given);
    from[row.name] = row.flag;
  }
  for (const row of OPTIONS) {
    if (!row.env || values[row.name] !== undefined) continue;
    if (command && !row.commands.includes(command)) continue;
    const text = env(row.env);
    if (text === undefined) continue;
    if (row.value !== undefined) {
      values[row.name] = text;
    } else if (text.trim() === "") {
      throw new UsageError(row.env, "needs a value, not an empty one");
    } else {
      values[row.name] = parseEnvFlag(row.env, text);
    }
    from[row.name] = row.env;
  }
  return { command, positionals, values, from, help, version };
}
