/**
 * A sliding-window limit on applies, so that the daemon never fights another writer in a tight
 * loop: at most `limit` applies in any `windowMs`; past that, the next apply waits until the
 * oldest one leaves the window.
 *
 * @module
 */

/**
 * Counts applies in a sliding window over an injected clock.
 *
 * @example
 * ```ts
 * import { ApplyBudget } from "./apply_budget.ts";
 * const budget = new ApplyBudget({ limit: 2, windowMs: 1000 });
 * budget.record(0);
 * budget.record(10);
 * budget.nextAllowed(20); // 1000: the third apply must wait for the first to age out
 * ```
 */
export class ApplyBudget {
  /** Most applies in one window. */
  readonly limit: number;
  /** The window, in milliseconds. */
  readonly windowMs: number;
  #times: number[] = [];

  /** Creates a budget of `limit` applies per `windowMs`. */
  constructor(options: { limit: number; windowMs: number }) {
    if (!(options.limit >= 1) || !(options.windowMs > 0)) {
      throw new RangeError(`An apply budget needs limit ≥ 1 and windowMs > 0`);
    }
    this.limit = options.limit;
    this.windowMs = options.windowMs;
  }

  #prune(now: number): void {
    while (this.#times.length && this.#times[0] <= now - this.windowMs) this.#times.shift();
  }

  /** Records an apply at `now`. */
  record(now: number): void {
    this.#prune(now);
    this.#times.push(now);
  }

  /** The earliest time an apply may start: `now` while under the limit. */
  nextAllowed(now: number): number {
    this.#prune(now);
    if (this.#times.length < this.limit) return now;
    return this.#times[this.#times.length - this.limit] + this.windowMs;
  }

  /** Applies recorded in the window ending at `now`. */
  count(now: number): number {
    this.#prune(now);
    return this.#times.length;
  }
}
