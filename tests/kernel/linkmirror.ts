/**
 * Runs linkmirror inside a test namespace: `main.ts` through the test's own `deno`, or the built
 * artifact named by `LINKMIRROR_BIN` (so the same kernel tests can exercise the shipped build).
 *
 * @module
 */

import type { ExecOptions, ExecResult, Netns, NetnsProcess } from "./netns.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

/** The command line that starts linkmirror with `args`. */
export function linkmirrorCommand(args: string[]): string[] {
  const bin = Deno.env.get("LINKMIRROR_BIN");
  return bin ? [bin, ...args] : [Deno.execPath(), "run", "-A", MAIN, ...args];
}

/** Runs `linkmirror ARGS` to completion inside `ns`, logging JSON so tests can parse it. */
export function linkmirror(
  ns: Netns,
  args: string[],
  options: ExecOptions = {},
): Promise<ExecResult> {
  return ns.exec(linkmirrorCommand(args), {
    ...options,
    env: { LINKMIRROR_LOG_FORMAT: "json", NO_COLOR: "1", ...options.env },
  });
}

/** Starts a long-running `linkmirror ARGS` (e.g. `watch`) inside `ns`. */
export function spawnLinkmirror(
  ns: Netns,
  args: string[],
  options: ExecOptions = {},
): NetnsProcess {
  return ns.spawn(linkmirrorCommand(args), {
    ...options,
    env: { LINKMIRROR_LOG_FORMAT: "json", NO_COLOR: "1", ...options.env },
  });
}

/** Parses the JSON log lines of a run. */
export function logLines(stderr: string | string[]): Record<string, unknown>[] {
  const lines = typeof stderr === "string" ? stderr.split("\n") : stderr;
  return lines.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
}
