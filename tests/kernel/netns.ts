/**
 * The network-namespace fixture of every kernel test. A test gets a fresh namespace
 * (`ip netns add lmt-<random>`) from {@linkcode kernelTest} and reaches it only through
 * {@linkcode Netns}: `ip -n NAME ...`, `ip netns exec NAME ...`. Nothing here runs a command in
 * the host namespace, so a kernel test cannot change the host's links, addresses or routes by
 * accident. Commands run inside get `LMT_NETNS` (the namespace's name) and
 * `LMT_HOST_NETNS_INODE` (the test runner's namespace), which
 * `tests/kernel/scripts/guard.ts` checks before a script touches anything.
 *
 * Nothing outlives the test run: {@linkcode Netns.dispose} kills every process left in a namespace
 * before deleting it, and a namespace's name carries the run's id (`lmt-<pid>-<tag>-<random>`,
 * one tag per test module), which the reaper of tests/_fixtures/netns_reaper.ts watches: when
 * the test runner ends in any way (Ctrl-C, SIGTERM, SIGKILL, a crash), it kills the processes
 * left in the run's namespaces and deletes them.
 *
 * @example
 * ```ts ignore
 * import { kernelTest, waitFor } from "./netns.ts";
 * kernelTest("a route shows up", async (ns) => {
 *   await ns.ip("link", "add", "v0", "type", "veth", "peer", "name", "v1");
 *   await ns.ip("link", "set", "v0", "up");
 *   await ns.ip("route", "add", "10.1.0.0/24", "dev", "v0");
 *   await waitFor(async () => (await ns.ipJson<unknown[]>("route")).length > 0);
 * });
 * ```
 *
 * @module
 */

import { skipUnless } from "../_fixtures/skip.ts";
import { killNamespaceProcesses, startReaper } from "../_fixtures/netns_reaper.ts";

/** Prefix of the names of the namespaces tests create (`ip netns list | grep lmt-`). */
export const NETNS_PREFIX = "lmt-";

/**
 * This module instance's run id: every namespace it creates is named `lmt-<RUN_ID>-<random>`.
 * The process id tells runs apart; the tag tells the test modules of one `deno test --parallel`
 * process apart (each has its own reaper, which must not touch another module's namespaces).
 */
export const RUN_ID = `${Deno.pid}-${crypto.randomUUID().slice(0, 4)}`;

/** What {@linkcode Netns.exec} returns. */
export interface ExecResult {
  /** Exit code (128 + signal number when killed by a signal). */
  code: number;
  /** Whether the exit code is 0. */
  success: boolean;
  /** Standard output, as text. */
  stdout: string;
  /** Standard error, as text. */
  stderr: string;
  /** Whether the command was killed for running past `timeoutMs`. */
  timedOut: boolean;
}

/** Options of {@linkcode Netns.exec} and {@linkcode Netns.spawn}. */
export interface ExecOptions {
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** Working directory. */
  cwd?: string;
  /** Text written to standard input (exec only), which is then closed. */
  stdin?: string;
  /** Kill the command (SIGKILL) after this long. Default 60 s for exec; none for spawn. */
  timeoutMs?: number;
}

/** Options of {@linkcode waitFor}. */
export interface WaitForOptions {
  /** Give up after this long. Default 5000 ms. */
  timeoutMs?: number;
  /** Pause between attempts. Default 20 ms. */
  intervalMs?: number;
  /** What was awaited, for the timeout error. */
  message?: string;
}

/** {@linkcode waitFor} ran out of time. */
export class WaitTimeoutError extends Error {
  /** Creates the error for `what`, awaited for `timeoutMs`. */
  constructor(what: string, timeoutMs: number, lastError?: unknown) {
    super(
      `Timed out after ${timeoutMs} ms waiting for ${what}` +
        (lastError === undefined ? "" : ` (last error: ${lastError})`),
    );
    this.name = "WaitTimeoutError";
  }
}

/** A command run by {@linkcode Netns.ip} failed. */
export class CommandError extends Error {
  /** The command line. */
  readonly command: string[];
  /** Its exit code. */
  readonly code: number;
  /** Its standard error. */
  readonly stderr: string;
  /** Creates the error for `command`. */
  constructor(command: string[], code: number, stderr: string) {
    super(`Command failed with exit code ${code}: ${command.join(" ")}\n${stderr.trim()}`);
    this.name = "CommandError";
    this.command = command;
    this.code = code;
    this.stderr = stderr;
  }
}

/**
 * Calls `predicate` until it returns a truthy value (which is returned) or `timeoutMs` passed
 * (throws {@linkcode WaitTimeoutError}). A predicate that throws counts as "not yet"; the last
 * error is reported on timeout.
 *
 * @example
 * ```ts ignore
 * const route = await waitFor(async () => (await ns.ipJson<Route[]>("route")).find(isMine),
 *   { timeoutMs: 2000, message: "the copied route" });
 * ```
 */
export async function waitFor<T>(
  predicate: () => T | Promise<T>,
  options: WaitForOptions = {},
): Promise<NonNullable<T>> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const intervalMs = options.intervalMs ?? 20;
  const deadline = performance.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await predicate();
      if (value) return value as NonNullable<T>;
      lastError = undefined;
    } catch (e) {
      lastError = e;
    }
    if (performance.now() >= deadline) {
      throw new WaitTimeoutError(options.message ?? "a condition", timeoutMs, lastError);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

function hostNetnsInode(): string {
  return String(Deno.statSync("/proc/self/ns/net").ino);
}

async function run(command: string[], options: ExecOptions = {}): Promise<ExecResult> {
  const child = new Deno.Command(command[0], {
    args: command.slice(1),
    env: options.env,
    cwd: options.cwd,
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.stdin));
    await writer.close();
  }
  let timedOut = false;
  const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => {
    timedOut = true;
    try {
      child.kill("SIGKILL");
    } catch {
      // Already exited.
    }
  }, options.timeoutMs);
  try {
    const out = await child.output();
    const decoder = new TextDecoder();
    return {
      code: out.code,
      success: out.success && !timedOut,
      stdout: decoder.decode(out.stdout),
      stderr: decoder.decode(out.stderr),
      timedOut,
    };
  } finally {
    clearTimeout(timer);
  }
}

/** A long-running process inside a namespace, started by {@linkcode Netns.spawn}. */
export class NetnsProcess {
  /** The command line. */
  readonly command: string[];
  /** Standard output lines so far. */
  readonly stdoutLines: string[] = [];
  /** Standard error lines so far (e.g. the daemon's log). */
  readonly stderrLines: string[] = [];
  /** Resolves with the exit status once the process exited and its output was read. */
  readonly status: Promise<Deno.CommandStatus>;
  #child: Deno.ChildProcess;
  #exited: Deno.CommandStatus | undefined;

  /** Starts `command` (already wrapped in `ip netns exec`). */
  constructor(command: string[], options: ExecOptions) {
    this.command = command;
    this.#child = new Deno.Command(command[0], {
      args: command.slice(1),
      env: options.env,
      cwd: options.cwd,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const reading = Promise.all([
      NetnsProcess.#collect(this.#child.stdout, this.stdoutLines),
      NetnsProcess.#collect(this.#child.stderr, this.stderrLines),
    ]);
    this.status = Promise.all([this.#child.status, reading]).then(([status]) => {
      this.#exited = status;
      return status;
    });
  }

  static async #collect(stream: ReadableStream<Uint8Array>, lines: string[]): Promise<void> {
    let rest = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      const parts = (rest + chunk).split("\n");
      rest = parts.pop() ?? "";
      lines.push(...parts);
    }
    if (rest) lines.push(rest);
  }

  /** The process id (of the command itself: `ip netns exec` execs it). */
  get pid(): number {
    return this.#child.pid;
  }

  /** The exit status, once known. */
  get exited(): Deno.CommandStatus | undefined {
    return this.#exited;
  }

  /** Sends a signal (default SIGTERM); does nothing once the process exited. */
  kill(signal: Deno.Signal = "SIGTERM"): void {
    if (this.#exited) return;
    try {
      this.#child.kill(signal);
    } catch {
      // It exited in between.
    }
  }

  /**
   * Waits for a standard-error line matching `match` and returns it; fails early, with the
   * output so far, if the process exits first.
   */
  async waitForLine(
    match: RegExp | ((line: string) => boolean),
    options: WaitForOptions = {},
  ): Promise<string> {
    const test = typeof match === "function" ? match : (line: string) => match.test(line);
    const timeoutMs = options.timeoutMs ?? 5000;
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const found = this.stderrLines.find(test);
      if (found !== undefined) return found;
      const what = options.message ?? `a line matching ${match}`;
      if (this.#exited) {
        throw new Error(
          `${
            this.command.join(" ")
          } exited (code ${this.#exited.code}) before printing ${what}:\n` +
            this.output(),
        );
      }
      if (performance.now() >= deadline) {
        throw new Error(
          `${new WaitTimeoutError(what, timeoutMs).message}; output so far:\n${this.output()}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 20));
    }
  }

  /** Standard output and error so far, as text (for failure messages). */
  output(): string {
    return [...this.stdoutLines, ...this.stderrLines].join("\n");
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit status. */
  async stop(graceMs = 5000): Promise<Deno.CommandStatus> {
    this.kill("SIGTERM");
    const timer = setTimeout(() => this.kill("SIGKILL"), graceMs);
    try {
      return await this.status;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Options of {@linkcode Netns.connectPeer}. */
export interface PeerOptions {
  /** Name of the veth end in this namespace. Default `"veth-peer"`. */
  localIf?: string;
  /** Name of the veth end in the peer namespace. Default `"veth-peer"`. */
  peerIf?: string;
  /** Address (with prefix length) for the local end, e.g. `"192.0.2.1/24"`. */
  localAddress?: string;
  /** Address (with prefix length) for the peer end, e.g. `"192.0.2.2/24"`. */
  peerAddress?: string;
}

/**
 * A network namespace of its own, created for a test and deleted by {@linkcode dispose}
 * (which also stops the processes spawned in it and disposes its peers).
 */
export class Netns {
  /** The namespace's name, `lmt-<random>`. */
  readonly name: string;
  readonly #processes: NetnsProcess[] = [];
  readonly #peers: Netns[] = [];
  readonly #hostInode: string;
  #disposed = false;

  private constructor(name: string, hostInode: string) {
    this.name = name;
    this.#hostInode = hostInode;
  }

  /** Creates a namespace `lmt-<random>` and sets its loopback up. */
  static async create(): Promise<Netns> {
    startReaper(`${NETNS_PREFIX}${RUN_ID}-`);
    const name = `${NETNS_PREFIX}${RUN_ID}-${crypto.randomUUID().slice(0, 6)}`;
    const added = await run(["ip", "netns", "add", name]);
    if (!added.success) {
      throw new CommandError(["ip", "netns", "add", name], added.code, added.stderr);
    }
    const ns = new Netns(name, hostNetnsInode());
    try {
      await ns.ip("link", "set", "lo", "up");
    } catch (e) {
      await ns.dispose();
      throw e;
    }
    return ns;
  }

  #assertLive(): void {
    if (this.#disposed) throw new Error(`Network namespace ${this.name} was disposed`);
  }

  #env(extra?: Record<string, string>): Record<string, string> {
    return { ...extra, LMT_NETNS: this.name, LMT_HOST_NETNS_INODE: this.#hostInode };
  }

  /** Runs `ip -n NAME ...args` and returns its standard output; throws {@linkcode CommandError}. */
  async ip(...args: string[]): Promise<string> {
    this.#assertLive();
    const command = ["ip", "-n", this.name, ...args];
    const result = await run(command, { timeoutMs: 60_000 });
    if (!result.success) throw new CommandError(command, result.code, result.stderr);
    return result.stdout;
  }

  /** Runs `ip -j -n NAME ...args` and returns the parsed JSON (`[]` for no output). */
  async ipJson<T = unknown>(...args: string[]): Promise<T> {
    this.#assertLive();
    const command = ["ip", "-j", "-n", this.name, ...args];
    const result = await run(command, { timeoutMs: 60_000 });
    if (!result.success) throw new CommandError(command, result.code, result.stderr);
    const text = result.stdout.trim();
    return (text === "" ? [] : JSON.parse(text)) as T;
  }

  /** Runs `command` inside the namespace (`ip netns exec NAME ...`) and collects its output. */
  exec(command: string[], options: ExecOptions = {}): Promise<ExecResult> {
    this.#assertLive();
    return run(["ip", "netns", "exec", this.name, ...command], {
      ...options,
      env: this.#env(options.env),
      timeoutMs: options.timeoutMs ?? 60_000,
    });
  }

  /**
   * Runs a Deno script inside the namespace with `deno run -A` (the same `deno` as the test's).
   *
   * @example
   * ```ts ignore
   * const out = await ns.deno(new URL("./scripts/dump.ts", import.meta.url), ["--routes"]);
   * ```
   */
  deno(script: URL | string, args: string[] = [], options: ExecOptions = {}): Promise<ExecResult> {
    const path = script instanceof URL ? script.pathname : script;
    return this.exec([Deno.execPath(), "run", "-A", path, ...args], options);
  }

  /** Starts a long-running command inside the namespace; {@linkcode dispose} stops it. */
  spawn(command: string[], options: ExecOptions = {}): NetnsProcess {
    this.#assertLive();
    const process = new NetnsProcess(["ip", "netns", "exec", this.name, ...command], {
      ...options,
      env: this.#env(options.env),
    });
    this.#processes.push(process);
    if (options.timeoutMs !== undefined) {
      const timer = setTimeout(() => process.kill("SIGKILL"), options.timeoutMs);
      process.status.finally(() => clearTimeout(timer));
    }
    return process;
  }

  /**
   * Creates a second namespace connected to this one by a veth pair (both ends up, addresses
   * optional). The peer is disposed with this namespace.
   */
  async connectPeer(options: PeerOptions = {}): Promise<Netns> {
    this.#assertLive();
    const localIf = options.localIf ?? "veth-peer";
    const peerIf = options.peerIf ?? "veth-peer";
    const peer = await Netns.create();
    this.#peers.push(peer);
    await this.ip(
      "link",
      "add",
      localIf,
      "type",
      "veth",
      "peer",
      "name",
      peerIf,
      "netns",
      peer.name,
    );
    await this.ip("link", "set", localIf, "up");
    await peer.ip("link", "set", peerIf, "up");
    if (options.localAddress) await this.ip("address", "add", options.localAddress, "dev", localIf);
    if (options.peerAddress) await peer.ip("address", "add", options.peerAddress, "dev", peerIf);
    return peer;
  }

  /**
   * Stops spawned processes, disposes peers, kills whatever else still runs inside (a command
   * whose test gave up on it) and deletes the namespace. Idempotent.
   */
  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    await Promise.all(this.#processes.map((p) => p.stop(2000)));
    await Promise.all(this.#peers.map((p) => p.dispose()));
    await killNamespaceProcesses(this.name);
    const deleted = await run(["ip", "netns", "del", this.name]);
    if (!deleted.success) {
      throw new CommandError(["ip", "netns", "del", this.name], deleted.code, deleted.stderr);
    }
  }

  /** Same as {@linkcode dispose}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.dispose();
  }
}

let skipReason: string | null | undefined;

/** Why kernel tests cannot run here (not root, no `ip netns`, missing permissions), or `null`. */
export function kernelTestSkipReason(): string | null {
  if (skipReason !== undefined) return skipReason;
  try {
    if (Deno.uid() !== 0) return (skipReason = "needs root");
    const probe = new Deno.Command("ip", {
      args: ["netns", "list"],
      stdout: "null",
      stderr: "null",
    })
      .outputSync();
    skipReason = probe.success ? null : "`ip netns` is unavailable";
  } catch (e) {
    skipReason = e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied
      ? "needs --allow-all (run, sys, read, ffi)"
      : `\`ip netns\` is unavailable (${e instanceof Error ? e.message : e})`;
  }
  return skipReason;
}

/** Options of {@linkcode kernelTest}. */
export interface KernelTestOptions {
  /** Fail the test if it runs longer than this. Default 60 s. */
  timeoutMs?: number;
}

/**
 * Registers a test that runs `fn` with a fresh namespace, deleted afterwards whatever happens.
 * Skipped (ignored, with the reason in its name) when not root or without `ip netns`.
 *
 * The resource and op sanitizers are off: the fixture itself owns the subprocesses and pipes it
 * starts and reaps them in {@linkcode Netns.dispose}, which would otherwise be reported as leaks
 * of the test body.
 */
export function kernelTest(
  name: string,
  fn: (ns: Netns) => Promise<void>,
  options: KernelTestOptions = {},
): void {
  const skip = kernelTestSkipReason();
  const timeoutMs = options.timeoutMs ?? 60_000;
  Deno.test({
    ...skipUnless(name, skip),
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      const ns = await Netns.create();
      let timer: ReturnType<typeof setTimeout> | undefined;
      try {
        await Promise.race([
          fn(ns),
          new Promise<never>((_, reject) => {
            timer = setTimeout(
              () => reject(new Error(`Kernel test timed out after ${timeoutMs} ms`)),
              timeoutMs,
            );
          }),
        ]);
      } finally {
        clearTimeout(timer);
        await ns.dispose();
      }
    },
  });
}
