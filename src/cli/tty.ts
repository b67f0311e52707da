/**
 * Output for people on a terminal: whether stdout may be coloured (a terminal, and `NO_COLOR`
 * unset or empty — https://no-color.org), a {@linkcode Palette} that colours only then, and
 * {@linkcode alignTable}, which lays rows out in aligned columns. Pure except
 * {@linkcode stdoutWantsColor}.
 *
 * @module
 */

/** What {@linkcode stdoutWantsColor} looks at; tests pass their own. */
export interface ColorProbe {
  /** Whether stdout is a terminal. */
  isTerminal(): boolean;
  /** An environment variable's value. */
  env(name: string): string | undefined;
}

/** The real stdout and environment. */
export const PROCESS_PROBE: ColorProbe = {
  isTerminal: () => Deno.stdout.isTerminal(),
  env: (name) => Deno.env.get(name),
};

/**
 * Whether colour may be used on stdout: a terminal, and `NO_COLOR` unset or empty. Without
 * permission to ask (`--allow-env` missing), no colour.
 *
 * @example
 * ```ts
 * import { stdoutWantsColor } from "./tty.ts";
 * stdoutWantsColor({ isTerminal: () => true, env: () => "1" }); // false: NO_COLOR is set
 * ```
 */
export function stdoutWantsColor(probe: ColorProbe = PROCESS_PROBE): boolean {
  try {
    return probe.isTerminal() && !probe.env("NO_COLOR");
  } catch {
    return false;
  }
}

/** Text styles; each is the identity when colour is off. */
export interface Palette {
  /** Whether the palette colours at all. */
  readonly enabled: boolean;
  /** Headings. */
  bold(text: string): string;
  /** Secondary text. */
  dim(text: string): string;
  /** Good news: in sync, copied. */
  green(text: string): string;
  /** Attention: missing, stale, excluded. */
  yellow(text: string): string;
  /** Trouble: conflicts, failures, unreachable. */
  red(text: string): string;
  /** Names: tables, devices. */
  cyan(text: string): string;
}

const SGR = { bold: 1, dim: 2, red: 31, green: 32, yellow: 33, cyan: 36 } as const;

/**
 * A palette that colours with ANSI escapes when `enabled`, else returns text unchanged.
 *
 * @example
 * ```ts
 * import { palette } from "./tty.ts";
 * palette(false).red("conflict"); // "conflict"
 * palette(true).red("conflict"); // "\x1b[31mconflict\x1b[0m"
 * ```
 */
export function palette(enabled: boolean): Palette {
  const style = (code: number) => (text: string) =>
    enabled && text !== "" ? `\x1b[${code}m${text}\x1b[0m` : text;
  return {
    enabled,
    bold: style(SGR.bold),
    dim: style(SGR.dim),
    red: style(SGR.red),
    green: style(SGR.green),
    yellow: style(SGR.yellow),
    cyan: style(SGR.cyan),
  };
}

// deno-lint-ignore no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g;

/**
 * The width of `text` on a terminal: its length without ANSI colour escapes.
 *
 * @example
 * ```ts
 * import { visibleWidth } from "./tty.ts";
 * visibleWidth("\x1b[31mabc\x1b[0m"); // 3
 * ```
 */
export function visibleWidth(text: string): number {
  return [...text.replace(ANSI, "")].length;
}

/** Options of {@linkcode alignTable}. */
export interface AlignOptions {
  /** Text before every line. Default `""`. */
  indent?: string;
  /** Spaces between columns. Default 2. */
  gap?: number;
}

/**
 * Lays `rows` out as lines whose columns line up (colour escapes do not count towards widths).
 * The last column is not padded, and trailing empty cells leave no trailing spaces.
 *
 * @example
 * ```ts
 * import { alignTable } from "./tty.ts";
 * alignTable([["TABLE", "VPN"], ["539098368", "firezone"], ["52", "tailscale"]]);
 * // "TABLE      VPN\n539098368  firezone\n52         tailscale\n"
 * ```
 */
export function alignTable(rows: readonly (readonly string[])[], options: AlignOptions = {}) {
  const indent = options.indent ?? "";
  const gap = " ".repeat(options.gap ?? 2);
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => widths[i] = Math.max(widths[i] ?? 0, visibleWidth(cell)));
  }
  return rows.map((row) => {
    const cells = row.map((cell, i) =>
      i === row.length - 1 ? cell : cell + " ".repeat(widths[i] - visibleWidth(cell))
    );
    return (indent + cells.join(gap)).trimEnd() + "\n";
  }).join("");
}
