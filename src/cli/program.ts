/**
 * The command line: reads the arguments and the environment by the option table, prints help or
 * the version, and dispatches to a command handler with the typed configuration. Every usage error
 * is one line, `linkmirror: <what>`, and exit 2; a {@linkcode CommandFailure} is one line and exit
 * 1. The handlers (`src/cli/commands/`) are loaded only for the command that runs.
 *
 * @module
 */

import type { MirrorConfig } from "../engine/config.ts";
import { setupLogging, writeAllTo } from "../log.ts";
import { InvalidAddressError, parseIp } from "../netlink/ip.ts";
import { resolveOptions, type WatchOptions } from "../options/resolve.ts";
import { UsageError } from "../options/values.ts";
import { loadRtTables } from "../rt_tables.ts";
import { VERSION } from "../version.ts";
import { parseArgv } from "./argv.ts";
import type { CommandContext } from "./commands/context.ts";
import type { ExplainOptions } from "./commands/explain.ts";
import type { StatusOptions } from "./commands/status.ts";
import { CommandFailure, EXIT } from "./exit_codes.ts";
import { helpText } from "./help.ts";

export type { CommandContext, ExplainOptions, MirrorConfig, StatusOptions, WatchOptions };

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

/** The positional arguments of `command`: the address of `explain`, nothing for the others. */
function addressOf(command: string, positionals: readonly string[]): string | undefined {
  const wanted = command === "explain" ? 1 : 0;
  if (positionals.length > wanted) {
    throw new UsageError("", `unexpected argument ${positionals[wanted]}`);
  }
  if (positionals.length < wanted) throw new UsageError("", `${command} needs an ADDRESS`);
  if (wanted === 0) return undefined;
  try {
    parseIp(positionals[0]);
  } catch (e) {
    if (e instanceof InvalidAddressError) throw new UsageError("ADDRESS", e.message);
    throw e;
  }
  return positionals[0];
}

/**
 * Runs the CLI on `args` (without the program name) and resolves to the exit code:
 * 0 success, 1 failure, 2 bad usage.
 */
export async function runCli(args: readonly string[], options: RunOptions): Promise<number> {
  const print = options.print ?? writeAllTo(Deno.stdout);
  const printError = options.printError ?? writeAllTo(Deno.stderr);
  try {
    const parsed = parseArgv(args, (name) => Deno.env.get(name));
    if (parsed.help) {
      print(helpText(parsed.command));
      return EXIT.OK;
    }
    if (parsed.version) {
      print(`${VERSION}\n`);
      return EXIT.OK;
    }
    const command = parsed.command;
    if (command === undefined) throw new UsageError("", "no command given (see linkmirror --help)");
    const address = addressOf(command, parsed.positionals);
    const tableNames = options.tableNames ?? loadRtTables();
    const resolved = resolveOptions(command, parsed, tableNames);
    if (options.configureLogging !== false) setupLogging(resolved.log);
    const ctx: CommandContext = {
      config: resolved.mirror,
      state: resolved.state,
      tableNames,
      print,
    };
    const { json } = resolved.output;
    const handlers = options.handlers;
    switch (command) {
      case "sync":
        return await handlers.sync(ctx);
      case "plan":
        return await handlers.plan(ctx, { json });
      case "flush":
        return await handlers.flush(ctx);
      case "watch":
        return await handlers.watch(ctx, resolved.watch);
      case "detect":
        return await handlers.detect(ctx, { json });
      case "status":
        return await handlers.status(ctx, {
          json,
          stateFile: resolved.state.file,
          configGiven: resolved.mirrorGiven,
        });
      case "explain":
        return await handlers.explain(ctx, { address: address!, json });
    }
  } catch (e) {
    if (e instanceof UsageError) {
      printError(`linkmirror: ${e.message}\n`);
      return EXIT.USAGE;
    }
    if (e instanceof CommandFailure) {
      printError(`linkmirror: ${e.message}\n`);
      return EXIT.FAILURE;
    }
    throw e;
  }
}
