/**
 * When the `watch` daemon applies: group commit, as a pure state machine over an injected clock.
 * It owns no timers; the daemon asks it for the next deadline and sleeps in the kernel until the
 * socket is readable or that deadline passes.
 *
 * Policy by default (`coalesceMs` 0, times in milliseconds of the caller's clock):
 *
 * - **Idle → at once.** An event that arrives when no apply is in flight is due immediately. The
 *   daemon drains everything already queued on the socket before it asks
 *   {@linkcode Coalescer.due}, so that apply sees the whole burst that was waiting.
 * - **Busy → one batch.** Events that arrive while an apply is in flight are due the moment it
 *   ends, all in one apply. A storm thus gets back-to-back applies, each covering everything that
 *   piled up during the one before — few writes, and no timer ever delays an event.
 * - **Echoes are not events.** The daemon's own writes come back as notifications. The caller
 *   passes `{ echo: true }` for them (see {@linkcode EventOptions}) and they schedule nothing. A
 *   missed echo costs one apply whose plan is empty and which writes nothing, so it cannot loop.
 * - **Idle → no deadline.** With nothing pending {@linkcode Coalescer.nextDeadline} is
 *   `undefined`, so the daemon blocks on the socket alone.
 *
 * Opt-in batching (`--coalesce`, `--max-wait`): with `coalesceMs` > 0 a batch is due once no
 * event has arrived for `coalesceMs` (and at least `coalesceMs` after the last apply ended), but
 * never later than `maxWaitMs` after its first event (`maxWaitMs` 0: `coalesceMs`). The first
 * event after a quiet period (no apply for `coalesceMs`) is still due at once.
 *
 * @example
 * ```ts
 * import { Coalescer } from "./coalescer.ts";
 * const c = new Coalescer({ coalesceMs: 50, maxWaitMs: 500 });
 * c.onEvent(1000); // "apply": the first event after a quiet period
 * c.onApplyStart(1000);
 * c.onApplyEnd(1010);
 * c.onEvent(1020); // "wait": within 50 ms of the apply's end
 * c.nextDeadline(); // 1070
 * c.due(1070); // true
 * ```
 *
 * @module
 */

/** Default quiet gap that closes a batch, in milliseconds: none, group commit alone. */
export const DEFAULT_COALESCE_MS = 0;
/** Default upper bound on how long a batched event waits, in milliseconds: 0, `coalesceMs`. */
export const DEFAULT_MAX_WAIT_MS = 0;

/** Options of {@linkcode Coalescer}. */
export interface CoalescerOptions {
  /** Quiet gap, after the last event and after the last apply's end, that makes a batch due. */
  coalesceMs?: number;
  /**
   * A batch is due at the latest this long after its first event: 0 (the default) for
   * `coalesceMs`, else at least `coalesceMs`.
   */
  maxWaitMs?: number;
}

/** Per-event options of {@linkcode Coalescer.onEvent}. */
export interface EventOptions {
  /** The event is the echo of linkmirror's own write: it schedules nothing. */
  echo?: boolean;
}

/**
 * What an event means for scheduling: `"apply"` — an apply is due now (after draining the
 * socket); `"wait"` — the event is batched, see {@linkcode Coalescer.nextDeadline}; `"ignore"` —
 * an echo, nothing scheduled.
 */
export type Decision = "apply" | "wait" | "ignore";

/** Thrown by the {@linkcode Coalescer} constructor for unusable options. */
export class CoalescerOptionsError extends Error {
  /** Creates the error with a sentence-case message. */
  constructor(message: string) {
    super(message);
    this.name = "CoalescerOptionsError";
  }
}

/** Thrown when the apply lifecycle is misused (an apply started twice, or ended unstarted). */
export class ApplyStateError extends Error {
  /** Creates the error with a sentence-case message. */
  constructor(message: string) {
    super(message);
    this.name = "ApplyStateError";
  }
}

/**
 * Batches events into applies; see the module documentation for the policy. All methods take the
 * current time from the caller and are pure state transitions.
 */
export class Coalescer {
  /** Quiet gap that makes a batch due, in milliseconds. */
  readonly coalesceMs: number;
  /** Longest wait of a batched event, in milliseconds. */
  readonly maxWaitMs: number;

  #inFlight = false;
  #lastApplyEnd: number | undefined;
  /** Time of the first event not yet covered by an apply. */
  #pendingSince: number | undefined;
  /** Time of the latest event not yet covered by an apply. */
  #lastEvent: number | undefined;
  /** The pending batch began in a quiet period: due at once. */
  #immediate = false;

  /** Creates a coalescer; throws {@linkcode CoalescerOptionsError} on negative or crossed bounds. */
  constructor(options: CoalescerOptions = {}) {
    const coalesceMs = options.coalesceMs ?? DEFAULT_COALESCE_MS;
    const maxWaitMs = options.maxWaitMs || DEFAULT_MAX_WAIT_MS || coalesceMs;
    if (!Number.isFinite(coalesceMs) || coalesceMs < 0) {
      throw new CoalescerOptionsError(
        `Coalesce window must be a finite number ≥ 0, got ${coalesceMs}`,
      );
    }
    if (!Number.isFinite(maxWaitMs) || maxWaitMs < coalesceMs) {
      throw new CoalescerOptionsError(
        `Maximum wait must be a finite number ≥ the coalesce window (${coalesceMs}), got ${maxWaitMs}`,
      );
    }
    this.coalesceMs = coalesceMs;
    this.maxWaitMs = maxWaitMs;
  }

  /** Whether an apply is in flight (between {@linkcode onApplyStart} and {@linkcode onApplyEnd}). */
  get applying(): boolean {
    return this.#inFlight;
  }

  /** Whether events are waiting for an apply. */
  get pending(): boolean {
    return this.#pendingSince !== undefined;
  }

  /**
   * Records one event at `now` and says what it means for scheduling.
   *
   * @example
   * ```ts
   * import { Coalescer } from "./coalescer.ts";
   * const c = new Coalescer();
   * c.onEvent(0, { echo: true }); // "ignore"
   * c.onEvent(0); // "apply"
   * ```
   */
  onEvent(now: number, options: EventOptions = {}): Decision {
    if (options.echo) return "ignore";
    if (this.#pendingSince === undefined) {
      this.#pendingSince = now;
      this.#immediate = !this.#inFlight && this.#quietAt(now);
    }
    this.#lastEvent = Math.max(this.#lastEvent ?? now, now);
    return this.due(now) ? "apply" : "wait";
  }

  /**
   * Records that an apply starts at `now`. The apply plans from the daemon's current view, so it
   * covers every event seen so far: the pending batch is cleared.
   */
  onApplyStart(now: number): void {
    if (this.#inFlight) throw new ApplyStateError(`An apply is already in flight (at ${now})`);
    this.#inFlight = true;
    this.#pendingSince = undefined;
    this.#lastEvent = undefined;
    this.#immediate = false;
  }

  /** Records that the apply in flight ended at `now`. */
  onApplyEnd(now: number): void {
    if (!this.#inFlight) throw new ApplyStateError(`No apply is in flight (at ${now})`);
    this.#inFlight = false;
    this.#lastApplyEnd = now;
  }

  /**
   * When the daemon should wake up to apply if no further event arrives: `undefined` when nothing
   * is pending or an apply is in flight (its end is the next point of interest).
   *
   * @example
   * ```ts
   * import { Coalescer } from "./coalescer.ts";
   * new Coalescer().nextDeadline(); // undefined: idle, sleep on the socket alone
   * ```
   */
  nextDeadline(): number | undefined {
    if (this.#inFlight || this.#pendingSince === undefined || this.#lastEvent === undefined) {
      return undefined;
    }
    if (this.#immediate) return this.#pendingSince;
    const settled = Math.max(this.#lastEvent, this.#lastApplyEnd ?? -Infinity) + this.coalesceMs;
    return Math.min(settled, this.#pendingSince + this.maxWaitMs);
  }

  /** Whether an apply should start at `now`. */
  due(now: number): boolean {
    const deadline = this.nextDeadline();
    return deadline !== undefined && now >= deadline;
  }

  #quietAt(now: number): boolean {
    return this.#lastApplyEnd === undefined || now - this.#lastApplyEnd >= this.coalesceMs;
  }
}
