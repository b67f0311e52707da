/**
 * `--help`, rendered from the option table: each option once, with its default and its
 * environment variable.
 *
 * @module
 */

import {
  type CommandName,
  COMMANDS,
  type OptionRow,
  OPTIONS,
  optionsOf,
} from "../options/table.ts";

const WIDTH = 100;
const DESCRIPTION =
  "Keeps LAN routes working under a full-tunnel VPN: mirrors on-link routes of main into the VPN's table.";

/** Wraps `text` to {@linkcode WIDTH} columns, continuation lines indented by `indent`. */
function wrap(text: string, indent: number): string {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line && line.length + 1 + word.length > WIDTH - indent) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  lines.push(line);
  return lines.join("\n" + " ".repeat(indent));
}

/** `-t, --table <id|name>`. */
export function flagsOf(row: OptionRow): string {
  const flags = row.short ? `${row.short}, ${row.flag}` : `    ${row.flag}`;
  return row.value ? `${flags} ${row.value}` : flags;
}

/** The help line's note: `(default: 50; env: LINKMIRROR_COALESCE)`. */
function note(row: OptionRow): string {
  const parts: string[] = [];
  const shown = row.default ?? row.defaultNote;
  if (shown !== undefined) parts.push(`default: ${shown}`);
  if (row.env) parts.push(`env: ${row.env}`);
  return parts.length ? ` (${parts.join("; ")})` : "";
}

function table(entries: [string, string][]): string {
  const width = Math.max(...entries.map(([left]) => left.length)) + 2;
  return entries
    .map(([left, right]) => `  ${left.padEnd(width)}${wrap(right, width + 2)}`)
    .join("\n");
}

const EVERY_COMMAND = (row: OptionRow) => COMMANDS.every((c) => row.commands.includes(c.name));

/** The text of `linkmirror --help`, or of `linkmirror COMMAND --help`. */
export function helpText(command?: CommandName): string {
  if (command === undefined) {
    const global = OPTIONS.filter(EVERY_COMMAND);
    return [
      "Usage: linkmirror <command> [options]",
      "",
      wrap(DESCRIPTION, 0),
      "",
      "Commands:",
      table(COMMANDS.map((c) => [c.name, c.summary])),
      "",
      "Options:",
      table([
        ...global.map((row): [string, string] => [flagsOf(row), row.help + note(row)]),
        ["-V, --version", "print the version"],
        ["-h, --help", "print this help; `linkmirror <command> --help`: the command's options"],
      ]),
      "",
    ].join("\n");
  }
  const spec = COMMANDS.find((c) => c.name === command)!;
  const argument = spec.argument ? ` <${spec.argument.name}>` : "";
  const rows = optionsOf(command);
  return [
    `Usage: linkmirror ${command} [options]${argument}`,
    "",
    wrap(spec.summary, 0),
    "",
    ...(spec.argument ? ["Arguments:", table([[spec.argument.name, spec.argument.help]]), ""] : []),
    "Options:",
    table([
      ...rows.map((row): [string, string] => [flagsOf(row), row.help + note(row)]),
      ["-h, --help", "print this help"],
    ]),
    "",
  ].join("\n");
}
