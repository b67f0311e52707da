/**
 * The value parsers the option table is built from: whole numbers in a range, switches, lists,
 * and the one error they throw, {@linkcode UsageError}. Pure: text in, value out.
 *
 * @module
 */

/** Bad command-line or environment input: exit code 2, one line naming the option or variable. */
export class UsageError extends Error {
  /**
   * Creates the error: `option` is the flag or variable as the user wrote it (`--table`,
   * `LINKMIRROR_TABLE`), or empty when the problem names no option (an unknown command).
   */
  constructor(option: string, problem: string) {
    super(option ? `${option}: ${problem}` : problem);
    this.name = "UsageError";
  }
}

/**
 * Splits repeated option values that may also be comma- or space-separated (`--table a,b`,
 * `LINKMIRROR_EXCLUDE="10.0.0.0/8 fd00::/8"`).
 *
 * @example
 * ```ts
 * import { splitList } from "./values.ts";
 * splitList(["a,b", " c  d "]); // ["a", "b", "c", "d"]
 * ```
 */
export function splitList(values: readonly string[] | undefined): string[] {
  return (values ?? []).flatMap((v) => v.split(/[,\s]+/)).filter((v) => v !== "");
}

/**
 * The value of a switch set through the environment: `1`, `true`, `yes`, `on` turn it on; `0`,
 * `false`, `no`, `off` leave it off; anything else is a {@linkcode UsageError} naming the
 * variable.
 *
 * @example
 * ```ts
 * import { parseEnvFlag } from "./values.ts";
 * parseEnvFlag("LINKMIRROR_FLUSH_ON_EXIT", "0"); // false
 * parseEnvFlag("LINKMIRROR_FLUSH_ON_EXIT", "yes"); // true
 * ```
 */
export function parseEnvFlag(name: string, text: string): boolean {
  const value = text.trim().toLowerCase();
  if (["1", "true", "yes", "on"].includes(value)) return true;
  if (["0", "false", "no", "off"].includes(value)) return false;
  throw new UsageError(name, `"${text}" is not a switch value (1/0, true/false, yes/no, on/off)`);
}

/**
 * Parses a whole number within [min, max], or throws {@linkcode UsageError} naming `option`.
 *
 * @example
 * ```ts
 * import { parseIntOption } from "./values.ts";
 * parseIntOption("--coalesce", "50", 0, 60_000); // 50
 * ```
 */
export function parseIntOption(option: string, text: string, min: number, max: number): number {
  if (!/^[0-9]+$/.test(text.trim())) {
    throw new UsageError(option, `"${text}" is not a whole number`);
  }
  const n = Number(text.trim());
  if (n < min || n > max) throw new UsageError(option, `${n} is not between ${min} and ${max}`);
  return n;
}
