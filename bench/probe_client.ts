/**
 * The benchmark's side of the probe ({@linkcode ./probe.ts}): starts it inside a namespace and
 * sends it commands.
 *
 * @example
 * ```ts ignore
 * import { ProbeClient } from "./probe_client.ts";
 * const probe = await ProbeClient.start(ns, "539098368");
 * const { add } = await probe.latency({ samples: 10, gapMs: 60, dev: "lk0", timeoutMs: 1000 });
 * ```
 *
 * @module
 */

import type { BenchNetns, BenchProcess } from "./netns.ts";
import type { ConvergeCommand, ConvergeReply, LatencyCommand, LatencyReply } from "./probe.ts";

const PROBE = new URL("./probe.ts", import.meta.url).pathname;

/** A running probe. */
export class ProbeClient {
  readonly #process: BenchProcess;
  #read = 0;

  private constructor(process: BenchProcess) {
    this.#process = process;
  }

  /** Starts the probe in `ns`, watching `table`; resolves once it is listening. */
  static async start(ns: BenchNetns, table: string): Promise<ProbeClient> {
    const process = ns.spawn([Deno.execPath(), "run", "-A", PROBE, "--table", table], {
      captureStdout: true,
      stdin: true,
    });
    const client = new ProbeClient(process);
    await client.#reply(30_000);
    return client;
  }

  async #reply<T>(timeoutMs: number): Promise<T> {
    const line = await this.#process.nextStdoutLine(this.#read, timeoutMs);
    this.#read++;
    const value = JSON.parse(line);
    if (value.error) throw new Error(`Probe: ${value.error}`);
    return value as T;
  }

  async #send<T>(command: object, timeoutMs: number): Promise<T> {
    await this.#process.writeLine(JSON.stringify(command));
    return this.#reply<T>(timeoutMs);
  }

  /** See {@linkcode ConvergeCommand}. */
  converge(command: Omit<ConvergeCommand, "cmd">): Promise<ConvergeReply> {
    return this.#send({ cmd: "converge", ...command }, command.timeoutMs + 30_000);
  }

  /** See {@linkcode LatencyCommand}. */
  latency(command: Omit<LatencyCommand, "cmd">): Promise<LatencyReply> {
    const gap = Math.max(command.gapMs, command.maxGapMs ?? 0);
    const budget = command.samples * 2 * (gap + command.timeoutMs) + 30_000;
    return this.#send({ cmd: "latency", ...command }, budget);
  }

  /** Stops the probe. */
  async close(): Promise<void> {
    try {
      await this.#process.writeLine(JSON.stringify({ cmd: "quit" }));
    } catch {
      // It is gone already.
    }
    await this.#process.stop(2000);
  }
}
