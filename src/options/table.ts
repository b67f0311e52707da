/**
 * The one table of linkmirror's options. Each row says everything about one option: its flag and
 * environment variable, how its text is parsed and checked, its default, its help, which
 * commands take it and whether the daemon's state file records it. The command line
 * (`src/cli/argv.ts`, `src/cli/help.ts`), the environment file the installer ships
 * (`systemd/linkmirror.env`), the options page (`docs/options.md`) and the typed configuration the
 * commands get ({@linkcode resolveOptions} in `./resolve.ts`) are all derived from it: adding an
 * option is adding a row here, plus the code that uses its value.
 *
 * @module
 */

import { AF, RT_TABLE } from "../netlink/constants.ts";
import { type Cidr, formatCidr, parseCidr } from "../netlink/ip.ts";
import { DEFAULT_PROTOCOL } from "../planner/options.ts";
import { DEFAULT_CATCH_ALL, DEFAULT_PRECEDENCE, PRECEDENCES } from "../planner/precedence.ts";
import { RESERVED_TABLES, resolveTable, UnknownTableError } from "../rt_tables.ts";
import { parseIntOption, UsageError } from "./values.ts";

/** The commands of linkmirror. */
export type CommandName = "sync" | "plan" | "flush" | "watch" | "detect" | "status" | "explain";

/**
 * Which object a parsed value lands in: `mirror` → the `MirrorConfig` every mirroring command
 * works on, `watch` → the daemon's `WatchOptions`, `state` → where the daemons' state files are
 * (`StateLocation`), `output` → the `--json` switch, `log` → the logging set-up.
 */
export type OptionGroup = "mirror" | "watch" | "state" | "output" | "log";

/** What a row's parser gets besides the text. */
export interface ParseContext {
  /** The option as the user gave it, for errors: `--table` or `LINKMIRROR_TABLE`. */
  option: string;
  /** Table names from rt_tables. */
  names: ReadonlyMap<string, number>;
}

/** One option. */
export interface OptionRow {
  /** The key of its raw value: the long flag in camelCase (`excludeDev`). */
  name: string;
  /** The field its parsed value lands in, in the object of its {@linkcode group}. */
  key: string;
  /** The object it lands in. */
  group: OptionGroup;
  /** The long flag, e.g. `--exclude-dev`. */
  flag: `--${string}`;
  /** The one-letter flag, e.g. `-X`. */
  short?: `-${string}`;
  /** The environment variable that sets it when the flag is not given. */
  env?: `LINKMIRROR_${string}`;
  /** The value's placeholder in help, e.g. `<name>`; absent for a switch. */
  value?: string;
  /** Repeatable, and each value may hold several, separated by commas or spaces. */
  list?: boolean;
  /** The default, as the user would type it; absent: none (a switch is off). */
  default?: string;
  /** What the default is when it is not a value one could type (help and docs only). */
  defaultNote?: string;
  /** One line for `--help`. */
  help: string;
  /** More, for the environment file and the options page. */
  details?: string;
  /** The environment file's example, when it is not the default (lists, switches). */
  example?: string;
  /** The commands that take it. */
  commands: readonly CommandName[];
  /**
   * How the daemon's state file records it (under `config`, by {@linkcode key}), so that `status`
   * can report on the daemon's configuration; absent: not recorded.
   */
  persist?: Persistence;
  /** Left out of its object when off or empty (optional fields of `MirrorConfig`). */
  optional?: boolean;
  /** Parses and checks the value: a string, a list of strings, or a switch's boolean. */
  parse(value: string | string[] | boolean, context: ParseContext): unknown;
}

/**
 * How a value is written to the state file's JSON and read back: `decode` turns the JSON into the
 * text the row's parser takes (so a state file is checked exactly like the command line), or
 * returns undefined when the JSON is not of the recorded shape.
 */
export interface Persistence {
  /** The value as JSON. */
  encode(value: unknown): unknown;
  /** The JSON back into option text; undefined when it is not of the shape `encode` writes. */
  decode(json: unknown): string | string[] | boolean | undefined;
}

/** A whole number, recorded as a JSON number. */
const AS_NUMBER: Persistence = {
  encode: (value) => value,
  decode: (json) => typeof json === "number" && Number.isInteger(json) ? String(json) : undefined,
};

/**
 * A list of strings, recorded as a JSON array of its items' text. With `absent`, an optional
 * list: recorded empty when absent, and read as `absent` from a state file that lacks it (one
 * written before the option existed).
 */
function asStrings(
  format: (item: never) => string = String,
  options: { absent?: string[] } = {},
): Persistence {
  return {
    encode: (value) => ((value ?? []) as never[]).map(format),
    decode: (json) => {
      if (json === undefined && options.absent !== undefined) return [...options.absent];
      return Array.isArray(json) && json.every((item) => typeof item === "string")
        ? [...json]
        : undefined;
    },
  };
}

/** A switch, recorded as a JSON boolean (false when off). */
const AS_BOOLEAN: Persistence = {
  encode: (value) => value === true,
  decode: (json) => typeof json === "boolean" ? json : undefined,
};

/** One command. */
export interface CommandSpec {
  /** Its name. */
  name: CommandName;
  /** One line for `--help`. */
  summary: string;
  /** Its one positional argument, if it takes one. */
  argument?: { name: string; help: string };
}

/** The commands, in the order `--help` lists them. */
export const COMMANDS: readonly CommandSpec[] = [
  { name: "sync", summary: "Reconcile the target tables once and print what changed." },
  { name: "plan", summary: "Print what sync would change; change nothing." },
  { name: "flush", summary: "Delete every route linkmirror owns in the target tables." },
  { name: "watch", summary: "Keep the target tables exact as networks change (daemon)." },
  {
    name: "detect",
    summary:
      "Find the tables that capture traffic ahead of main (the VPN's table), for --table auto.",
  },
  {
    name: "status",
    summary:
      "Show each target table's copies, missing and stale ones, conflicts, exclusions, and the daemon.",
  },
  {
    name: "explain",
    summary:
      "Explain which rule, table and route the kernel picks for ADDRESS, and linkmirror's part in it.",
    argument: { name: "ADDRESS", help: "destination address (IPv4 or IPv6)" },
  },
];

/** The `--table` value that stands for the table `linkmirror detect` finds (`--table auto`). */
export const AUTO_TABLE = "auto";

/** Firezone's routing table, the default target. */
export const DEFAULT_TABLE = "539098368";

/** The directory of the daemons' state files. */
export const DEFAULT_STATE_DIR = "/run/linkmirror";

/** The log levels `--log-level` accepts, lowest first. */
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;

const MIRRORING: readonly CommandName[] = ["sync", "plan", "flush", "watch", "status", "explain"];

function table(spec: string, context: ParseContext): number {
  try {
    return resolveTable(spec, context.names);
  } catch (e) {
    if (e instanceof UnknownTableError) {
      throw new UsageError(context.option, `unknown table "${spec}" (not an id, not in rt_tables)`);
    }
    throw e;
  }
}

function oneOf<T extends string>(choices: readonly T[], text: string, option: string): T {
  const value = text.toLowerCase() as T;
  if (!choices.includes(value)) {
    throw new UsageError(
      option,
      `"${text}" is not ${choices.join(", ").replace(/, ([^,]*)$/, " or $1")}`,
    );
  }
  return value;
}

function cidrs(texts: readonly string[], context: ParseContext): Cidr[] {
  return texts.map((text) => {
    try {
      return parseCidr(text);
    } catch (e) {
      throw new UsageError(context.option, e instanceof Error ? e.message : String(e));
    }
  });
}

/**
 * The fields a mirroring option of prefixes shares (`<cidr>`, repeatable, recorded in the state
 * file as text). `optional`: left out of `MirrorConfig` when empty, and read as empty from a state
 * file written before the option existed.
 */
function prefixes(
  { optional = false } = {},
): Pick<OptionRow, "group" | "value" | "list" | "commands" | "persist" | "optional" | "parse"> {
  return {
    group: "mirror",
    value: "<cidr>",
    list: true,
    commands: MIRRORING,
    persist: optional ? asStrings(formatCidr, { absent: [] }) : asStrings(formatCidr),
    ...(optional ? { optional } : {}),
    parse: (texts: string[], context: ParseContext): Cidr[] => cidrs(texts, context),
  };
}

/** The fields the options locating state files share: `watch` writes them, `status` reads them. */
const STATE_LOCATION: Pick<OptionRow, "group" | "commands" | "parse"> = {
  group: "state",
  commands: ["watch", "status"],
  parse: (path: string) => path,
};

const FAMILIES: Record<string, number[]> = {
  inet: [AF.INET],
  ipv4: [AF.INET],
  "4": [AF.INET],
  inet6: [AF.INET6],
  ipv6: [AF.INET6],
  "6": [AF.INET6],
  all: [AF.INET, AF.INET6],
};

/** Every option, in the order help, the environment file and the options page list them. */
export const OPTIONS: readonly OptionRow[] = [
  {
    name: "table",
    key: "tables",
    group: "mirror",
    flag: "--table",
    short: "-t",
    env: "LINKMIRROR_TABLE",
    value: "<id|name>",
    list: true,
    default: DEFAULT_TABLE,
    help: "target table (id or name from rt_tables) or `auto` (see detect), repeatable",
    details: "539098368 is Firezone's table; wg-quick uses 51820. Several tables: " +
      '"539098368,51820". `auto`: the one table `linkmirror detect` finds capturing traffic ' +
      "ahead of main.",
    commands: MIRRORING,
    persist: {
      encode: (value) => value,
      decode: (json) =>
        Array.isArray(json) && json.every((id) => Number.isInteger(id))
          ? json.map(String)
          : undefined,
    },
    parse: (specs: string[], context) =>
      specs.map((spec) => {
        if (spec.toLowerCase() === AUTO_TABLE) return AUTO_TABLE;
        const id = table(spec, context);
        const reserved = RESERVED_TABLES.get(id);
        if (reserved !== undefined) {
          throw new UsageError(
            context.option,
            `table ${id} (${reserved}) is reserved and cannot be a target`,
          );
        }
        return id;
      }),
  },
  {
    name: "source",
    key: "source",
    group: "mirror",
    flag: "--source",
    short: "-s",
    env: "LINKMIRROR_SOURCE",
    value: "<id|name>",
    default: "main",
    help: "table to copy on-link routes from",
    commands: MIRRORING,
    persist: AS_NUMBER,
    parse: (spec: string, context) => {
      const id = table(spec, context);
      if (id === RT_TABLE.UNSPEC || id === RT_TABLE.LOCAL) {
        throw new UsageError(context.option, `table ${id} cannot be a source`);
      }
      return id;
    },
  },
  {
    name: "protocol",
    key: "protocol",
    group: "mirror",
    flag: "--protocol",
    short: "-p",
    env: "LINKMIRROR_PROTOCOL",
    value: "<n>",
    default: String(DEFAULT_PROTOCOL),
    help: "rtm_protocol that marks linkmirror's copies (5-255)",
    details: "linkmirror adds and deletes only routes carrying it. 77 is used by no known " +
      "routing daemon; change it only if another program on this host already uses 77 (see " +
      "/etc/iproute2/rt_protos).",
    commands: MIRRORING,
    persist: AS_NUMBER,
    parse: (text: string, context) => {
      const protocol = parseIntOption(context.option, text, 1, 255);
      if (protocol <= 4) {
        throw new UsageError(
          context.option,
          `${protocol} belongs to the kernel (redirect, kernel, boot, static)`,
        );
      }
      return protocol;
    },
  },
  {
    name: "family",
    key: "families",
    group: "mirror",
    flag: "--family",
    short: "-f",
    env: "LINKMIRROR_FAMILY",
    value: "<inet|inet6|all>",
    default: "all",
    help: "address families to mirror",
    commands: MIRRORING,
    persist: {
      encode: (value) => (value as number[]).map((f) => f === AF.INET6 ? "inet6" : "inet"),
      decode: (json) =>
        Array.isArray(json) && json.length > 0 && json.every((f) => f === "inet" || f === "inet6")
          ? (json.length === 1 ? json[0] : "all")
          : undefined,
    },
    parse: (text: string, context) => {
      const families = FAMILIES[text.toLowerCase()];
      if (!families) throw new UsageError(context.option, `"${text}" is not inet, inet6 or all`);
      return [...families];
    },
  },
  {
    name: "exclude",
    key: "exclude",
    flag: "--exclude",
    short: "-x",
    env: "LINKMIRROR_EXCLUDE",
    help: "never mirror routes overlapping this prefix, repeatable",
    example: "10.0.0.0/8 fd00::/8",
    ...prefixes(),
  },
  {
    name: "excludeDev",
    key: "excludeDevices",
    group: "mirror",
    flag: "--exclude-dev",
    short: "-X",
    env: "LINKMIRROR_EXCLUDE_DEV",
    value: "<name>",
    list: true,
    help: "never mirror routes on this interface (e.g. docker0), repeatable",
    example: "docker0",
    commands: MIRRORING,
    persist: asStrings(),
    parse: (names: string[], context) => {
      for (const dev of names) {
        if (dev.length > 15 || dev.includes("/")) {
          throw new UsageError(context.option, `"${dev}" is not an interface name`);
        }
      }
      return names;
    },
  },
  {
    name: "includeGatewayRoutes",
    key: "includeGatewayRoutes",
    group: "mirror",
    flag: "--include-gateway-routes",
    env: "LINKMIRROR_INCLUDE_GATEWAY_ROUTES",
    help: "also mirror routes via a gateway on a mirrored LAN",
    details: "Read docs/mirroring.md (TunnelVision) before turning it on.",
    example: "1",
    commands: MIRRORING,
    persist: AS_BOOLEAN,
    optional: true,
    parse: (on: boolean) => on,
  },
  {
    name: "allowPrefix",
    key: "allowPrefixes",
    flag: "--allow-prefix",
    env: "LINKMIRROR_ALLOW_PREFIX",
    help: "also mirror routes inside this prefix (a public LAN), repeatable",
    details: "By default only local address space is mirrored: 10/8, 172.16/12, 192.168/16, " +
      "169.254/16, fc00::/7, fe80::/10, and IPv6 /64s in which the host holds an address on " +
      "that link. See docs/security.md.",
    example: "198.51.100.0/24",
    ...prefixes({ optional: true }),
  },
  {
    name: "precedence",
    key: "precedence",
    group: "mirror",
    flag: "--precedence",
    env: "LINKMIRROR_PRECEDENCE",
    value: "<vpn|lan>",
    default: DEFAULT_PRECEDENCE,
    help: "vpn: no copy where the VPN routes the prefix with other than a catch-all; " +
      "lan: longest prefix wins",
    details: "Who wins where a route of the VPN and a LAN route cover the same destination. " +
      "See docs/security.md.",
    commands: MIRRORING,
    persist: {
      encode: (value) => value ?? DEFAULT_PRECEDENCE,
      // A state file of a version before the option: the default.
      decode: (json) =>
        json === undefined ? DEFAULT_PRECEDENCE : typeof json === "string" ? json : undefined,
    },
    parse: (text: string, context) => oneOf(PRECEDENCES, text, context.option),
  },
  {
    name: "catchAll",
    key: "catchAll",
    flag: "--catch-all",
    env: "LINKMIRROR_CATCH_ALL",
    defaultNote: DEFAULT_CATCH_ALL.map(formatCidr).join(" "),
    help: "a VPN route prefix that is no resource (--precedence vpn), repeatable; " +
      "replaces the default set",
    details: "A default route always counts as one.",
    example: "0.0.0.0/1 128.0.0.0/1 ::/1 8000::/1 2000::/3",
    ...prefixes({ optional: true }),
  },
  {
    name: "coalesce",
    key: "coalesceMs",
    group: "watch",
    flag: "--coalesce",
    env: "LINKMIRROR_COALESCE",
    value: "<ms>",
    default: "0",
    help: "opt-in: quiet time in milliseconds that ends a burst of changes (0: apply at once, " +
      "and batch only what piles up during an apply)",
    commands: ["watch"],
    parse: (text: string, context) => parseIntOption(context.option, text, 0, 60_000),
  },
  {
    name: "maxWait",
    key: "maxWaitMs",
    group: "watch",
    flag: "--max-wait",
    env: "LINKMIRROR_MAX_WAIT",
    value: "<ms>",
    default: "0",
    help: "opt-in: with --coalesce, the longest time in milliseconds a change waits (0: " +
      "--coalesce; else at least --coalesce)",
    commands: ["watch"],
    parse: (text: string, context) => parseIntOption(context.option, text, 0, 600_000),
  },
  {
    name: "resyncInterval",
    key: "resyncIntervalS",
    group: "watch",
    flag: "--resync-interval",
    env: "LINKMIRROR_RESYNC_INTERVAL",
    value: "<s>",
    default: "300",
    help: "seconds between full resyncs that repair what a lost event missed, 0 = off",
    commands: ["watch"],
    parse: (text: string, context) => parseIntOption(context.option, text, 0, 86_400),
  },
  {
    name: "flushOnExit",
    key: "flushOnExit",
    group: "watch",
    flag: "--flush-on-exit",
    env: "LINKMIRROR_FLUSH_ON_EXIT",
    help: "delete linkmirror's copies before exiting",
    details: "Without it the copies stay, so LAN traffic keeps working across restarts and " +
      "upgrades.",
    example: "1",
    commands: ["watch"],
    parse: (on: boolean) => on,
  },
  {
    name: "receiveBuffer",
    key: "receiveBufferBytes",
    group: "watch",
    flag: "--receive-buffer",
    env: "LINKMIRROR_RECEIVE_BUFFER",
    value: "<bytes>",
    default: String(32 << 20),
    help: "receive buffer of the event socket in bytes (room for bursts of changes)",
    details: "An overflow is noticed and repaired by a full resync.",
    commands: ["watch"],
    parse: (text: string, context) => parseIntOption(context.option, text, 1024, 2 ** 31 - 1),
  },
  {
    name: "stateFile",
    key: "file",
    flag: "--state-file",
    env: "LINKMIRROR_STATE_FILE",
    value: "<path>",
    defaultNote: "table-<id>.json in --state-dir, one per daemon",
    help: "the one state file watch writes and status reads, instead of the per-table ones",
    details: "Keep it under /run/linkmirror: the service may write nowhere else.",
    example: "/run/linkmirror/table-539098368.json",
    ...STATE_LOCATION,
  },
  {
    name: "stateDir",
    key: "dir",
    flag: "--state-dir",
    env: "LINKMIRROR_STATE_DIR",
    value: "<dir>",
    default: DEFAULT_STATE_DIR,
    help: "directory of the daemons' state files (table-<id>.json), which status reads all of",
    details: "The service may write only under /run/linkmirror.",
    ...STATE_LOCATION,
  },
  {
    name: "json",
    key: "json",
    group: "output",
    flag: "--json",
    help: "print one JSON document",
    commands: ["plan", "detect", "status", "explain"],
    parse: (on: boolean) => on,
  },
  {
    name: "logFormat",
    key: "format",
    group: "log",
    flag: "--log-format",
    env: "LINKMIRROR_LOG_FORMAT",
    value: "<json|pretty>",
    defaultNote: "pretty on a terminal, else json",
    help: "log format: one JSON object per line, or a line for people",
    details: "Under systemd the default is json (journalctl -o cat | jq).",
    example: "json",
    commands: ["sync", "plan", "flush", "watch", "detect", "status", "explain"],
    parse: (text: string, context) => oneOf(["json", "pretty"], text, context.option),
  },
  {
    name: "logLevel",
    key: "level",
    group: "log",
    flag: "--log-level",
    env: "LINKMIRROR_LOG_LEVEL",
    value: "<level>",
    default: "info",
    help: "lowest level logged: debug, info, warn or error",
    commands: ["sync", "plan", "flush", "watch", "detect", "status", "explain"],
    parse: (text: string, context) => oneOf(LOG_LEVELS, text, context.option),
  },
];

/** The rows of the options `command` takes. */
export function optionsOf(command: CommandName): OptionRow[] {
  return OPTIONS.filter((row) => row.commands.includes(command));
}
