/**
 * The two documents derived from the option table: `docs/options.md` (the reference table) and
 * `systemd/linkmirror.env` (the environment file `install.sh` installs as /etc/default/linkmirror).
 * `deno task generate` writes them; tests/options/docs.test.ts fails when they differ from what
 * the table says. Pure: text out.
 *
 * @module
 */

import { COMMANDS, type OptionRow, OPTIONS } from "./table.ts";

const WIDTH = 100;

/** Wraps `text` into lines of at most {@linkcode WIDTH} columns, each starting with `prefix`. */
function wrapLines(text: string, prefix: string): string[] {
  const lines: string[] = [];
  let line = prefix;
  for (const word of text.split(/\s+/).filter((w) => w !== "")) {
    if (line !== prefix && line.length + 1 + word.length > WIDTH) {
      lines.push(line);
      line = prefix + word;
    } else {
      line = line === prefix ? prefix + word : `${line} ${word}`;
    }
  }
  if (line !== prefix) lines.push(line);
  return lines;
}

/** Capitalises the first letter (not of an identifier such as `rtm_protocol`). */
function capital(text: string): string {
  return /^[a-z]+\b(?!_)/.test(text) ? text.charAt(0).toUpperCase() + text.slice(1) : text;
}

/** A help line as a sentence. */
function sentence(text: string): string {
  return /[.!?]$/.test(text) ? capital(text) : `${capital(text)}.`;
}

/** Which commands take `row`, in words. */
function commandsOf(row: OptionRow): string {
  const missing = COMMANDS.filter((c) => !row.commands.includes(c.name)).map((c) => c.name);
  if (missing.length === 0) return "all";
  if (missing.length === 1) return `all but ${missing[0]}`;
  return row.commands.join(", ");
}

/** The default as the docs show it. */
function defaultOf(row: OptionRow): string {
  if (row.default !== undefined) return `\`${row.default}\``;
  if (row.defaultNote !== undefined) return row.defaultNote;
  return row.value === undefined ? "off" : "none";
}

/** A Markdown table, aligned the way `deno fmt` aligns it. */
function markdownTable(header: string[], rows: string[][]): string {
  const cells = [header, ...rows].map((row) => row.map((cell) => cell.replaceAll("|", "\\|")));
  const widths = header.map((_, i) => Math.max(3, ...cells.map((row) => row[i].length)));
  const line = (row: string[]) => `| ${row.map((cell, i) => cell.padEnd(widths[i])).join(" | ")} |`;
  return [
    line(cells[0]),
    `| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`,
    ...cells.slice(1).map(line),
  ].join("\n");
}

/**
 * The text of `docs/options.md`.
 *
 * @example
 * ```ts
 * import { optionsMarkdown } from "./docs.ts";
 * optionsMarkdown().startsWith("# Options"); // true
 * ```
 */
export function optionsMarkdown(): string {
  const rows = OPTIONS.map((row) => {
    const flags = row.short ? `${row.short}, ${row.flag}` : row.flag;
    const option = row.value ? `\`${flags} ${row.value}\`` : `\`${flags}\``;
    const meaning = row.details ? `${sentence(row.help)} ${row.details}` : sentence(row.help);
    return [
      option,
      row.env ? `\`${row.env}\`` : "—",
      defaultOf(row),
      commandsOf(row),
      row.persist ? "yes" : "no",
      meaning,
    ];
  });
  return [
    "# Options",
    "",
    "<!-- Generated from src/options/table.ts by `deno task generate`; tests/options/docs.test.ts",
    "     keeps it equal. Edit the table, not this file. -->",
    "",
    "Every option of every command, from the one option table (`src/options/table.ts`) that also",
    "drives `--help`, the environment file `/etc/default/linkmirror` and the daemon's state file.",
    "",
    "- Each option can also be set through the environment variable beside it; the command line",
    "  wins.",
    "- A list option may be repeated, and each value may hold several items separated by commas or",
    '  spaces (`-t 539098368,51820`, `LINKMIRROR_EXCLUDE="10.0.0.0/8 fd00::/8"`).',
    "- A switch set through the environment takes `1`/`true`/`yes`/`on` or `0`/`false`/`no`/`off`.",
    "- An empty value (`-t ''`, `LINKMIRROR_STATE_FILE=`) is refused like any bad value: one line,",
    "  `linkmirror: <option>: <what>`, exit 2.",
    '- "State file": whether the daemon records the option in its state file, so that `status`',
    "  without options reports on the daemon's configuration.",
    "",
    markdownTable(
      ["option", "environment", "default", "commands", "state file", "meaning"],
      rows,
    ),
    "",
  ].join("\n");
}

/**
 * The text of `systemd/linkmirror.env`: every variable as a commented-out example (the default,
 * or a typical value for lists and switches), with its help.
 */
export function envFileText(): string {
  const out = [
    "# /etc/default/linkmirror: settings of the linkmirror service (systemctl restart linkmirror after",
    "# a change). Each LINKMIRROR_* variable is the command-line option of the same name; a command-line",
    "# option wins over the variable. Lines starting with # are ignored: uncomment a line to set it.",
    "# install.sh writes this file once and never overwrites it; `install.sh --uninstall` removes it.",
    "# Generated from src/options/table.ts (`deno task generate`); docs/options.md has the same table.",
    "#",
    "# To see what a setting would do before restarting the service:",
    "#   sudo sh -c 'set -a; . /etc/default/linkmirror; exec linkmirror plan'",
    "#",
    "# Lists (tables, prefixes, interfaces) are separated by commas or spaces; quote them. An empty",
    "# value (LINKMIRROR_X=) is an error: comment the line out instead.",
  ];
  for (const row of OPTIONS) {
    if (!row.env) continue;
    const parts = [`${capital(row.help)} (${row.flag}).`];
    if (row.details) parts.push(row.details);
    if (row.value === undefined) {
      parts.push("Off by default; 1/true/yes/on turn it on, 0/false/no/off leave it off.");
    } else if (row.default !== undefined) {
      parts.push(`Default: ${row.default}.`);
    } else if (row.defaultNote !== undefined) {
      parts.push(`Default: ${row.defaultNote}.`);
    }
    const example = row.example ?? row.default ?? "";
    const quoted = /[\s,]/.test(example) ? `"${example}"` : example;
    out.push("", ...wrapLines(parts.join(" "), "# "), `#${row.env}=${quoted}`);
  }
  return out.join("\n") + "\n";
}
