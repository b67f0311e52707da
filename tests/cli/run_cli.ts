/**
 * The CLI tests' harness: {@linkcode runCli} with fake command handlers that record what they are
 * called with, the environment set for the run only, and the printed text collected.
 *
 * @module
 */

import { type CommandContext, type Handlers, runCli } from "../../src/cli/program.ts";

/** One call of a fake handler: the command, its context and its options. */
export interface Call {
  /** The command's name. */
  command: string;
  /** The context runCli built. */
  ctx: CommandContext;
  /** The command's own options, when it has any. */
  extra?: unknown;
}

/** What a run did: the exit code, the handlers' calls, stdout and stderr. */
export interface CliRun {
  /** The exit code runCli returned. */
  code: number;
  /** The handlers' calls, in order. */
  calls: Call[];
  /** Everything printed to stdout. */
  out: string;
  /** Everything printed to stderr. */
  err: string;
}

/** Fake handlers recording into `calls`; each returns 0 (`flush`: 1, to see the code passed on). */
function fakeHandlers(calls: Call[]): Handlers {
  const record = (command: string, code = 0) => (ctx: CommandContext, extra?: unknown) => {
    calls.push(extra === undefined ? { command, ctx } : { command, ctx, extra });
    return Promise.resolve(code);
  };
  return {
    sync: record("sync"),
    plan: record("plan"),
    flush: record("flush", 1),
    watch: record("watch"),
    detect: record("detect"),
    status: record("status"),
    explain: record("explain"),
  };
}

/**
 * Runs the CLI on `args` with `env` set for the run (restored afterwards), fake handlers and
 * the table name `firezone` = 539098368.
 */
export async function runWith(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  const calls: Call[] = [];
  const out: string[] = [];
  const err: string[] = [];
  const saved = Object.keys(env).map((k) => [k, Deno.env.get(k)] as const);
  for (const [k, v] of Object.entries(env)) Deno.env.set(k, v);
  try {
    const code = await runCli(args, {
      handlers: fakeHandlers(calls),
      print: (t) => out.push(t),
      printError: (t) => err.push(t),
      tableNames: new Map([["firezone", 539098368]]),
      configureLogging: false,
    });
    return { code, calls, out: out.join(""), err: err.join("") };
  } finally {
    for (const [k, v] of saved) v === undefined ? Deno.env.delete(k) : Deno.env.set(k, v);
  }
}
