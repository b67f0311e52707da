/**
 * The command line: commander definitions of every command and option (each option also read from
 * a `LINKMIRROR_*` environment variable), mapped onto the command handlers. Parses and validates;
 * the work is done by the handlers in `src/cli/commands/`.
 *
 * @module
 */

import { Command, CommanderError, Option } from "@commander-js/extra-typings";
import { LOG_LEVELS, type LogFormat, type LogLevelName, setupLogging } from "../log.ts";
import { loadRtTables } from "../rt_tables.ts";
import { EXIT } from "./exit_codes.ts";
import type { MirrorConfig } from "../engine/config.ts";
import {
  parseEnvFlag,
  parseIntOption,
  type RawMirrorOptions,
  resolveMirrorConfig,
  UsageError,
} from "./options.ts";
import { VERSION } from "../version.ts";
import { InvalidAddressError, parseIp } from "../netlink/ip.ts";

/** What a command handler gets: the validated configuration and where to print. */
export interface CommandContext {
  /** Validated mirroring options. */
  config: MirrorConfig;
  /** Table names from rt_tables, for display. */
  tableNames: ReadonlyMap<string, number>;
  /** Writes to stdout. */
  print: (text: string) => void;
}

/** The handlers the program dispatches to; injected so the CLI can be tested without a kernel. */
export interface Handlers {
  /** `linkmirror sync`. */
  sync(ctx: CommandContext): Promise<number>;
  /** `linkmirror plan`. */
  plan(ctx: CommandContext, opts: { json: boolean }): Promise<number>;
  /** `linkmirror flush`. */
  flush(ctx: CommandContext): Promise<number>;
  /** `linkmirror watch`. */
  watch(ctx: CommandContext, opts: WatchOptions): Promise<number>;
  /** `linkmirror detect`. */
  detect(ctx: CommandContext, opts: { json: boolean }): Promise<number>;
  /** `linkmirror status`. */
  status(ctx: CommandContext, opts: StatusOptions): Promise<number>;
  /** `linkmirror explain ADDRESS`. */
  explain(ctx: CommandContext, opts: ExplainOptions): Promise<number>;
}

/** The options `status` adds to the mirroring options. */
export interface StatusOptions {
  /** Print one JSON document (`--json`). */
  json: boolean;
  /** The daemon's state file (`--state-file`); undefined: the default. */
  stateFile?: string;
  /**
   * Whether any mirroring option was given (command line or environment). Without one, `status`
   * reports on the configuration of the running daemon, read from its state file.
   */
  configGiven: boolean;
}

/** The options of `explain`. */
export interface ExplainOptions {
  /** The destination to explain, validated (IPv4 or IPv6). */
  address: string;
  /** Print one JSON document (`--json`). */
  json: boolean;
}

/** The options `watch` adds to the mirroring options. */
export interface WatchOptions {
  /** Quiet time in ms that separates bursts (`--coalesce`). */
  coalesceMs: number;
  /** Longest time in ms a pending change waits (`--max-wait`). */
  maxWaitMs: number;
  /** Seconds between full resyncs, 0 = off (`--resync-interval`). */
  resyncIntervalS: number;
  /** Delete our copies before exiting (`--flush-on-exit`). */
  flushOnExit: boolean;
  /** Receive buffer of the event socket in bytes (`--receive-buffer`). */
  receiveBufferBytes: number;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

function env(name: string): string {
  return `LINKMIRROR_${name}`;
}

/** Adds the options shared by every mirroring command to `cmd`. */
function mirrorOptions<T extends Command>(cmd: T) {
  return cmd
    .addOption(
      new Option(
        "-t, --table <id|name>",
        "target table or `auto` (see detect), repeatable (default: 539098368, Firezone)",
      )
        .argParser(collect).default([] as string[]).env(env("TABLE")),
    )
    .addOption(
      new Option("-s, --source <id|name>", "table to copy on-link routes from (default: main)")
        .env(env("SOURCE")),
    )
    .addOption(
      new Option("-p, --protocol <n>", "rtm_protocol that marks linkmirror's copies (default: 77)")
        .env(env("PROTOCOL")),
    )
    .addOption(
      new Option("-f, --family <inet|inet6|all>", "address families to mirror (default: all)")
        .env(env("FAMILY")),
    )
    .addOption(
      new Option("-x, --exclude <cidr>", "never mirror routes overlapping this prefix, repeatable")
        .argParser(collect).default([] as string[]).env(env("EXCLUDE")),
    )
    .addOption(
      new Option("-X, --exclude-dev <name>", "never mirror routes on this interface, repeatable")
        .argParser(collect).default([] as string[]).env(env("EXCLUDE_DEV")),
    )
    .addOption(
      new Option(
        "--include-gateway-routes",
        "also mirror routes via a gateway on a mirrored LAN (see README: TunnelVision)",
      ).env(env("INCLUDE_GATEWAY_ROUTES")),
    );
}

/** The attribute names of the mirroring options, to tell whether any was given. */
const MIRROR_OPTION_KEYS = [
  "table",
  "source",
  "protocol",
  "family",
  "exclude",
  "excludeDev",
  "includeGatewayRoutes",
] as const;

/** Options of the CLI run itself. */
export interface RunOptions {
  /** Command handlers. */
  handlers: Handlers;
  /** Writes to stdout; default Deno.stdout. */
  print?: (text: string) => void;
  /** Writes one error line to stderr; default Deno.stderr. */
  printError?: (text: string) => void;
  /** Table names; default read from rt_tables. */
  tableNames?: ReadonlyMap<string, number>;
  /** Set up logging; default true (tests turn it off). */
  configureLogging?: boolean;
}

function writeTo(stream: { writeSync(p: Uint8Array): number }): (text: string) => void {
  const enc = new TextEncoder();
  return (text) => {
    const bytes = enc.encode(text);
    let off = 0;
    while (off < bytes.length) off += stream.writeSync(bytes.subarray(off));
  };
}

/**
 * Runs the CLI on `args` (without the program name) and resolves to the exit code:
 * 0 success, 1 failure, 2 bad usage.
 */
export async function runCli(args: readonly string[], options: RunOptions): Promise<number> {
  const print = options.print ?? writeTo(Deno.stdout);
  const printError = options.printError ?? writeTo(Deno.stderr);
  let exitCode: number = EXIT.OK;

  const program = new Command("linkmirror")
    .description(
      "Keeps LAN routes working under a full-tunnel VPN: mirrors on-link routes of main into the VPN's table.",
    )
    .version(VERSION, "-V, --version")
    .addOption(
      new Option(
        "--log-format <json|pretty>",
        "log format (default: pretty on a terminal, else json)",
      )
        .choices(["json", "pretty"] as const).env(env("LOG_FORMAT")),
    )
    .addOption(
      new Option("--log-level <level>", "lowest level logged (default: info)")
        .choices(LOG_LEVELS).env(env("LOG_LEVEL")),
    )
    .exitOverride()
    .showHelpAfterError(false)
    .configureOutput({ writeOut: print, writeErr: printError })
    // commander turns a flag on when its variable is set at all, even to "0": read the value.
    .hook("preAction", (_program, command) => {
      for (const option of command.options) {
        const key = option.attributeName();
        if (!option.isBoolean() || !option.envVar) continue;
        if (command.getOptionValueSource(key) !== "env") continue;
        const value = parseEnvFlag(option.envVar, Deno.env.get(option.envVar) ?? "");
        command.setOptionValueWithSource(key, value, "env");
      }
    });

  const context = (raw: RawMirrorOptions): CommandContext => {
    const globals = program.opts();
    if (options.configureLogging !== false) {
      setupLogging({
        format: globals.logFormat as LogFormat | undefined,
        level: globals.logLevel as LogLevelName | undefined,
      });
    }
    const tableNames = options.tableNames ?? loadRtTables();
    return { config: resolveMirrorConfig(raw, tableNames), tableNames, print };
  };

  mirrorOptions(
    program.command("sync").description("Reconcile the target tables once and print what changed."),
  ).action(async (opts) => {
    exitCode = await options.handlers.sync(context(opts));
  });

  mirrorOptions(
    program.command("plan").description("Print what sync would change; change nothing."),
  )
    .option("--json", "print the plan as one JSON document")
    .action(async (opts) => {
      exitCode = await options.handlers.plan(context(opts), { json: opts.json === true });
    });

  mirrorOptions(
    program.command("flush").description(
      "Delete every route linkmirror owns in the target tables.",
    ),
  ).action(async (opts) => {
    exitCode = await options.handlers.flush(context(opts));
  });

  mirrorOptions(
    program.command("watch").description(
      "Keep the target tables exact as networks change (daemon).",
    ),
  )
    .addOption(
      new Option("--coalesce <ms>", "quiet time that ends a burst of changes").default("50")
        .env(env("COALESCE")),
    )
    .addOption(
      new Option("--max-wait <ms>", "longest time a change waits to be applied").default("500")
        .env(env("MAX_WAIT")),
    )
    .addOption(
      new Option("--resync-interval <s>", "seconds between full resyncs, 0 = off").default("300")
        .env(env("RESYNC_INTERVAL")),
    )
    .addOption(
      new Option("--flush-on-exit", "delete linkmirror's copies before exiting")
        .env(env("FLUSH_ON_EXIT")),
    )
    .addOption(
      new Option("--receive-buffer <bytes>", "receive buffer of the event socket")
        .default(String(32 << 20)).env(env("RECEIVE_BUFFER")),
    )
    .action(async (opts) => {
      const ctx = context(opts);
      const coalesceMs = parseIntOption("--coalesce", opts.coalesce, 0, 60_000);
      const maxWaitMs = parseIntOption("--max-wait", opts.maxWait, 1, 600_000);
      if (maxWaitMs < coalesceMs) {
        throw new UsageError("--max-wait", `${maxWaitMs} is shorter than --coalesce ${coalesceMs}`);
      }
      const resyncIntervalS = parseIntOption("--resync-interval", opts.resyncInterval, 0, 86_400);
      const receiveBufferBytes = parseIntOption(
        "--receive-buffer",
        opts.receiveBuffer,
        1024,
        2 ** 31 - 1,
      );
      exitCode = await options.handlers.watch(ctx, {
        coalesceMs,
        maxWaitMs,
        resyncIntervalS,
        flushOnExit: opts.flushOnExit === true,
        receiveBufferBytes,
      });
    });

  program.command("detect").description(
    "Find the tables that capture traffic ahead of main (the VPN's table), for --table auto.",
  )
    .option("--json", "print one JSON document")
    .action(async (opts) => {
      exitCode = await options.handlers.detect(context({}), { json: opts.json === true });
    });

  mirrorOptions(
    program.command("status").description(
      "Show each target table's copies, missing and stale ones, conflicts, exclusions, and the daemon.",
    ),
  )
    .option("--json", "print one JSON document")
    .addOption(
      new Option(
        "--state-file <path>",
        "the daemon's state file (default: /run/linkmirror/state.json)",
      )
        .env(env("STATE_FILE")),
    )
    .action(async (opts, cmd) => {
      const source = (key: string) => cmd.getOptionValueSource(key);
      const configGiven = MIRROR_OPTION_KEYS.some((key) =>
        source(key) === "cli" || source(key) === "env"
      );
      exitCode = await options.handlers.status(context(opts), {
        json: opts.json === true,
        stateFile: opts.stateFile,
        configGiven,
      });
    });

  mirrorOptions(
    program.command("explain").description(
      "Explain which rule, table and route the kernel picks for ADDRESS, and linkmirror's part in it.",
    ),
  )
    .argument("<address>", "destination address (IPv4 or IPv6)")
    .option("--json", "print one JSON document")
    .action(async (address, opts) => {
      const ctx = context(opts);
      try {
        parseIp(address);
      } catch (e) {
        if (e instanceof InvalidAddressError) throw new UsageError("ADDRESS", e.message);
        throw e;
      }
      exitCode = await options.handlers.explain(ctx, { address, json: opts.json === true });
    });

  try {
    await program.parseAsync(args as string[], { from: "user" });
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === "commander.helpDisplayed" || e.code === "commander.version") return EXIT.OK;
      // commander has already printed its one-line message.
      return EXIT.USAGE;
    }
    if (e instanceof UsageError) {
      printError(`linkmirror: ${e.message}\n`);
      return EXIT.USAGE;
    }
    throw e;
  }
  return exitCode;
}
