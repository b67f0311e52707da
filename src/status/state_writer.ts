/**
 * {@linkcode StateWriter}: the daemon's state file written in the background, one write at a
 * time, always ending with the latest document. A write in flight is never raced by another; a
 * document saved meanwhile replaces any other still waiting, so a burst of saves costs at most two
 * writes. {@linkcode StateWriter.settle} waits for the last one (before the file is removed).
 *
 * @module
 */

import { type DaemonState, writeStateAsync } from "./state_file.ts";

/**
 * Writes state documents to one path in the background.
 *
 * @example
 * ```ts ignore
 * import { StateWriter } from "./state_writer.ts";
 * const writer = new StateWriter("/run/linkmirror/table-51820.json", (e) => console.error(e));
 * writer.save(state);
 * await writer.settle();
 * ```
 */
export class StateWriter {
  /** The file written. */
  readonly path: string;
  readonly #onError: (error: unknown) => void;
  readonly #write: (state: DaemonState, path: string) => Promise<void>;
  #next: DaemonState | undefined;
  #running: Promise<void> | undefined;

  /**
   * Writes to `path`; `onError` hears of each failed write (the next save tries again). `write`
   * is the writing function (tests pass a fake).
   */
  constructor(
    path: string,
    onError: (error: unknown) => void,
    write: (state: DaemonState, path: string) => Promise<void> = writeStateAsync,
  ) {
    this.path = path;
    this.#onError = onError;
    this.#write = write;
  }

  /** Schedules `state` to be written; returns at once. */
  save(state: DaemonState): void {
    this.#next = state;
    this.#running ??= this.#drain();
  }

  async #drain(): Promise<void> {
    while (this.#next !== undefined) {
      const state = this.#next;
      this.#next = undefined;
      try {
        await this.#write(state, this.path);
      } catch (e) {
        this.#onError(e);
      }
    }
    this.#running = undefined;
  }

  /** Resolves once every saved document is written (or failed). */
  async settle(): Promise<void> {
    while (this.#running) await this.#running;
  }
}
