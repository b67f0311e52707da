/**
 * Network namespaces and processes of the benchmark. Every namespace is `lmb-<pid>-<random>`, with
 * the benchmark's own process id (so that a killed run's leftovers can be told from the test
 * suite's `lmt-*` ones and from another benchmark's that still runs, and removed), every
 * command that changes links or routes runs inside one (`ip -n NAME`, `ip netns exec NAME`), and
 * every namespace and process is registered so that {@linkcode cleanupAll} removes them whatever
 * happened: main.ts calls it in `finally` and on SIGINT/SIGTERM. Deleting a namespace first kills
 * whatever still runs inside (a daemon that forked away from its registered process), and a
 * reaper (tests/_fixtures/netns_reaper.ts) removes the run's namespaces even when the benchmark
 * is killed with SIGKILL.
 *
 * @example
 * ```ts ignore
 * import { BenchNetns, cleanupAll } from "./netns.ts";
 * try {
 *   const ns = await BenchNetns.create();
 *   await ns.batch(["route add 10.0.0.1/32 dev lo"]);
 * } finally {
 *   await cleanupAll();
 * }
 * ```
 *
 * @module
 */

import { killNamespaceProcesses, startReaper } from "../tests/_fixtures/netns_reaper.ts";

/** Prefix of the benchmark's namespaces. */
export const BENCH_NETNS_PREFIX = "lmb-";

/** A command run by the benchmark failed. */
export class BenchCommandError extends Error {
  /** Creates the error for `command`, which exited with `code` and printed `stderr`. */
  constructor(command: readonly string[], code: number, stderr: string) {
    super(`Command failed with exit code ${code}: ${command.join(" ")}\n${stderr.trim()}`);
    this.name = "BenchCommandError";
  }
}

/** What {@linkcode runCommand} returns. */
export interface CommandOutput {
  /** Exit code. */
  code: number;
  /** Standard output. */
  stdout: string;
  /** Standard error. */
  stderr: string;
}

/** Runs `command` to completion; `stdin` is written to its standard input when given. */
export async function runCommand(
  command: readonly string[],
  stdin?: string,
): Promise<CommandOutput> {
  const child = new Deno.Command(command[0], {
    args: command.slice(1),
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(stdin));
    await writer.close();
  }
  const out = await child.output();
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}

/** Runs `command` and returns its standard output; throws {@linkcode BenchCommandError}. */
export async function mustRun(command: readonly string[], stdin?: string): Promise<string> {
  const out = await runCommand(command, stdin);
  if (out.code !== 0) throw new BenchCommandError(command, out.code, out.stderr);
  return out.stdout;
}

/** Options of {@linkcode BenchProcess}. */
export interface SpawnOptions {
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** Keep standard output lines (default: discard them). */
  captureStdout?: boolean;
  /** Give the process a standard input to write to ({@linkcode BenchProcess.writeLine}). */
  stdin?: boolean;
  /**
   * The command starts a session of its own (`setsid`, see {@linkcode BenchNetns.spawn}): signals
   * go to its whole process group, children included.
   */
  killGroup?: boolean;
}

/** A long-running process the benchmark started (a contender or the probe). */
export class BenchProcess {
  /** The command line. */
  readonly command: readonly string[];
  /** Standard error lines so far. */
  readonly stderrLines: string[] = [];
  /** Standard output lines so far (when captured). */
  readonly stdoutLines: string[] = [];
  /** Resolves with the exit status once the process exited and its output was read. */
  readonly status: Promise<Deno.CommandStatus>;
  /** `performance.timeOrigin + performance.now()` just before the spawn. */
  readonly spawnedAt: number;
  readonly #child: Deno.ChildProcess;
  readonly #killGroup: boolean;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array> | undefined;
  #exited: Deno.CommandStatus | undefined;
  #lineWaiters: (() => void)[] = [];

  /** Starts `command`. */
  constructor(command: readonly string[], options: SpawnOptions = {}) {
    this.#killGroup = options.killGroup === true;
    this.command = command;
    this.spawnedAt = performance.timeOrigin + performance.now();
    this.#child = new Deno.Command(this.command[0], {
      args: this.command.slice(1),
      env: options.env,
      stdin: options.stdin ? "piped" : "null",
      stdout: options.captureStdout ? "piped" : "null",
      stderr: "piped",
    }).spawn();
    this.#stdin = options.stdin ? this.#child.stdin.getWriter() : undefined;
    const reading = [this.#collect(this.#child.stderr, this.stderrLines)];
    if (options.captureStdout) reading.push(this.#collect(this.#child.stdout, this.stdoutLines));
    this.status = Promise.all([this.#child.status, ...reading]).then(([status]) => {
      this.#exited = status;
      this.#notify();
      return status;
    });
    processes.add(this);
    this.status.finally(() => processes.delete(this));
  }

  async #collect(stream: ReadableStream<Uint8Array>, lines: string[]): Promise<void> {
    let rest = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      const parts = (rest + chunk).split("\n");
      rest = parts.pop() ?? "";
      if (parts.length > 0) {
        lines.push(...parts);
        this.#notify();
      }
    }
    if (rest) lines.push(rest);
  }

  #notify(): void {
    const waiters = this.#lineWaiters;
    this.#lineWaiters = [];
    for (const w of waiters) w();
  }

  /** Writes `line` and a newline to the process's standard input. */
  async writeLine(line: string): Promise<void> {
    if (!this.#stdin) throw new Error("The process was started without a standard input");
    await this.#stdin.write(new TextEncoder().encode(line + "\n"));
  }

  /**
   * Waits for the next standard-output line after the first `seen` ones and returns it; fails if
   * the process exits first or after `timeoutMs`.
   */
  async nextStdoutLine(seen: number, timeoutMs: number): Promise<string> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      if (this.stdoutLines.length > seen) return this.stdoutLines[seen];
      if (this.#exited) {
        throw new Error(
          `${this.command.join(" ")} exited (code ${this.#exited.code}):\n` +
            this.stderrLines.slice(-20).join("\n"),
        );
      }
      const remaining = deadline - performance.now();
      if (remaining <= 0) throw new Error(`Timed out waiting for output of ${this.command[0]}`);
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#lineWaiters.push(resolve);
        timer = setTimeout(resolve, remaining);
      });
      clearTimeout(timer);
    }
  }

  /** The process id (`ip netns exec` and `setsid` exec the command, so it is the command's). */
  get pid(): number {
    return this.#child.pid;
  }

  /** The exit status, once known. */
  get exited(): Deno.CommandStatus | undefined {
    return this.#exited;
  }

  /**
   * Waits for a standard-error line matching `match`, resolving with it and the time it was read
   * (`performance.timeOrigin + performance.now()`); fails if the process exits first or after
   * `timeoutMs`.
   */
  async waitForLine(match: RegExp, timeoutMs = 15_000): Promise<{ line: string; at: number }> {
    const deadline = performance.now() + timeoutMs;
    let checked = 0;
    for (;;) {
      for (; checked < this.stderrLines.length; checked++) {
        const line = this.stderrLines[checked];
        if (match.test(line)) return { line, at: performance.timeOrigin + performance.now() };
      }
      if (this.#exited) {
        throw new Error(
          `${
            this.command.join(" ")
          } exited (code ${this.#exited.code}) before printing ${match}:\n` +
            this.stderrLines.slice(-20).join("\n"),
        );
      }
      const remaining = deadline - performance.now();
      if (remaining <= 0) {
        throw new Error(`Timed out waiting for ${match} from ${this.command.join(" ")}`);
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#lineWaiters.push(resolve);
        timer = setTimeout(resolve, remaining);
      });
      clearTimeout(timer);
    }
  }

  /** Sends `signal` to the process (its whole process group with `killGroup`). */
  kill(signal: Deno.Signal = "SIGTERM"): void {
    if (this.#exited) return;
    try {
      if (this.#killGroup) Deno.kill(-this.pid, signal);
      else this.#child.kill(signal);
    } catch {
      // It exited in between.
    }
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit status. */
  async stop(graceMs = 3000): Promise<Deno.CommandStatus> {
    try {
      await this.#stdin?.close();
    } catch {
      // Already closed.
    }
    this.kill("SIGTERM");
    const timer = setTimeout(() => this.kill("SIGKILL"), graceMs);
    try {
      return await this.status;
    } finally {
      clearTimeout(timer);
    }
  }
}

const processes = new Set<BenchProcess>();
const namespaces = new Set<BenchNetns>();
const cleanups = new Set<() => Promise<void> | void>();

/** Registers a clean-up step (a temporary directory, ...) that {@linkcode cleanupAll} runs. */
export function onCleanup(step: () => Promise<void> | void): () => void {
  cleanups.add(step);
  return () => cleanups.delete(step);
}

/** A network namespace of the benchmark. */
export class BenchNetns {
  /** Its name, `lmb-<pid>-<random>`. */
  readonly name: string;
  #disposed = false;

  private constructor(name: string) {
    this.name = name;
  }

  /** Creates `lmb-<pid>-<random>` with its loopback up. */
  static async create(): Promise<BenchNetns> {
    startReaper(`${BENCH_NETNS_PREFIX}${Deno.pid}-`);
    const name = `${BENCH_NETNS_PREFIX}${Deno.pid}-${crypto.randomUUID().slice(0, 6)}`;
    await mustRun(["ip", "netns", "add", name]);
    const ns = new BenchNetns(name);
    namespaces.add(ns);
    await ns.ip("link", "set", "lo", "up");
    return ns;
  }

  /** `ip -n NAME ARGS`; returns standard output. */
  ip(...args: string[]): Promise<string> {
    return mustRun(["ip", "-n", this.name, ...args]);
  }

  /** `ip -j -n NAME ARGS`, parsed. */
  async ipJson<T>(...args: string[]): Promise<T> {
    const text = (await mustRun(["ip", "-j", "-n", this.name, ...args])).trim();
    return (text === "" ? [] : JSON.parse(text)) as T;
  }

  /** Feeds `lines` (ip commands without the leading `ip`) to `ip -n NAME -batch -`. */
  async batch(lines: readonly string[]): Promise<void> {
    if (lines.length === 0) return;
    await mustRun(["ip", "-n", this.name, "-batch", "-"], lines.join("\n") + "\n");
  }

  /** The command line that runs `command` inside the namespace. */
  wrap(command: readonly string[]): string[] {
    return ["ip", "netns", "exec", this.name, ...command];
  }

  /**
   * Starts a long-running `command` inside the namespace; with `killGroup` it runs under
   * `setsid`, so that stopping it also stops its children (a shell pipeline).
   */
  spawn(command: readonly string[], options: SpawnOptions = {}): BenchProcess {
    if (this.#disposed) throw new Error(`Namespace ${this.name} was disposed`);
    const inner = options.killGroup ? ["setsid", ...command] : [...command];
    return new BenchProcess(this.wrap(inner), options);
  }

  /** Deletes the namespace. Idempotent. */
  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    namespaces.delete(this);
    await killNamespaceProcesses(this.name);
    await runCommand(["ip", "netns", "del", this.name]);
  }
}

/** Stops every process still running and deletes every namespace; runs the clean-up steps. */
export async function cleanupAll(): Promise<void> {
  await Promise.all([...processes].map((p) => p.stop(2000).catch(() => undefined)));
  for (const step of [...cleanups]) {
    try {
      await step();
    } catch {
      // Best effort.
    }
  }
  cleanups.clear();
  await Promise.all([...namespaces].map((ns) => ns.dispose()));
}

/** Whether process `pid` still runs. */
function alive(pid: number): boolean {
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
}

/** The `lmb-*` namespaces whose benchmark process is gone (a run that was killed). */
export async function leftoverNamespaces(): Promise<string[]> {
  const out = await runCommand(["ip", "netns", "list"]);
  return out.stdout.split("\n").map((l) => l.split(" ")[0]).filter((name) => {
    if (!name.startsWith(BENCH_NETNS_PREFIX)) return false;
    const owner = Number(name.slice(BENCH_NETNS_PREFIX.length).split("-")[0]);
    return !Number.isInteger(owner) || owner <= 0 || !alive(owner);
  });
}

/** Deletes the namespaces of {@linkcode leftoverNamespaces}; returns their names. */
export async function removeLeftoverNamespaces(): Promise<string[]> {
  const names = await leftoverNamespaces();
  for (const name of names) await runCommand(["ip", "netns", "del", name]);
  return names;
}
