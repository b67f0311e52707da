/**
 * Fights with another writer, detected per copy (the caller's key: a copy's kernel identity, so in
 * effect per prefix): a pure state machine over an injected clock.
 *
 * A fight is somebody else undoing linkmirror's copy of one prefix again and again — deleting it,
 * or replacing it with a route of their own — while linkmirror puts it back each time. The daemon
 * reports every undo of a copy by another writer ({@linkcode FightDetector.undone}); the detector
 * counts them per prefix in a sliding window. What is *not* an undo is the daemon's business (see
 * src/daemon/watcher.ts): the kernel's own removals (a link went down, an address went away) are
 * no undo and make the detector forget that copy ({@linkcode FightDetector.forget}), so a back-off
 * never keeps out a copy the kernel removed; a writer flushing the whole table is one undo of the
 * table (a key of its own), not one of every copy.
 *
 * Policy (times in milliseconds of the caller's clock):
 *
 * - **Bursts.** Undos of one key reported with the same `burst` tag within `burstMs` of the
 *   last one counted are one undo: a table flush (the rounds of one `ip route flush`, which dumps
 *   and deletes again until the table stays empty; `ip -4` and `ip -6` flushing one after the
 *   other) is one event. A flusher looping faster still counts once per `burstMs`. Untagged
 *   undos (one copy deleted or replaced) all count.
 * - **Detection.** More than `threshold` undos of one prefix within `windowMs` start an
 *   *episode*: the prefix is *held* — the daemon adds no copy of it — for `initialBackoffMs`.
 *   The undo that starts an episode says so (`started: true`): the daemon logs ONE warning then.
 * - **Back-off.** When a hold ends the prefix is planned again (the copy is repaired). Each
 *   further undo during the episode holds it again for twice as long, capped at `maxBackoffMs`.
 * - **Calm.** An undo that comes more than `calmMs` after the last hold ended (the copy stayed in
 *   place that long) ends the episode first: counting starts over, and a new episode warns again.
 * - **Everything else runs at full speed.** Only held prefixes wait; there is no global limit.
 *
 * @example
 * ```ts
 * import { FightDetector } from "./fight_detector.ts";
 * const fights = new FightDetector({ threshold: 2, windowMs: 1000, initialBackoffMs: 500 });
 * fights.undone("10.0.0.0/24", 0, "deleted").started; // false
 * fights.undone("10.0.0.0/24", 10, "deleted").started; // false
 * fights.undone("10.0.0.0/24", 20, "deleted").started; // true: 3 undos > 2 in 1 s
 * fights.held("10.0.0.0/24", 100); // true
 * fights.nextExpiry(); // 520
 * fights.expire(520); // ["10.0.0.0/24"]: plan it again
 * ```
 *
 * @module
 */

/** Options of {@linkcode FightDetector}. */
export interface FightOptions {
  /** Undos of one prefix tolerated within `windowMs`; one more starts an episode. Default 10. */
  threshold?: number;
  /** The sliding window, ms. Default 5000. */
  windowMs?: number;
  /** The first hold of an episode, ms. Default 1000. */
  initialBackoffMs?: number;
  /** The longest hold, ms. Default 30 000. */
  maxBackoffMs?: number;
  /** A copy left alone this long after its repair ends the episode, ms. Default 10 000. */
  calmMs?: number;
  /** Undos of one key with the same burst tag within this long count once, ms. Default 200. */
  burstMs?: number;
}

/** What an undo meant: whether it started an episode, and the prefix's hold. */
export interface UndoVerdict {
  /** This undo started an episode (log it: once per episode). */
  started: boolean;
  /** The prefix is held until this time (in an episode), else undefined. */
  heldUntil?: number;
  /** Undos counted in the window, this one included. */
  count: number;
  /** The current hold's length, ms (in an episode). */
  backoffMs?: number;
}

/** One episode as reported by {@linkcode FightDetector.episodes}. */
export interface FightEpisode {
  /** The prefix. */
  key: string;
  /** What undid the copy last. */
  cause: string;
  /** Undos since the episode started. */
  undos: number;
  /** Held until (undefined once the hold ended and the copy was repaired). */
  heldUntil?: number;
}

interface PrefixState {
  undos: number[];
  /** The burst tag of the last undo counted, and when. */
  last?: { burst: string | undefined; at: number };
  episode?: { undos: number; backoffMs: number; holdEnd: number; held: boolean; cause: string };
}

/** Detects fights per prefix; see the module documentation. */
export class FightDetector {
  /** Undos tolerated within the window. */
  readonly threshold: number;
  /** The window, ms. */
  readonly windowMs: number;
  /** The first hold, ms. */
  readonly initialBackoffMs: number;
  /** The longest hold, ms. */
  readonly maxBackoffMs: number;
  /** Calm that ends an episode, ms. */
  readonly calmMs: number;
  /** Undos of one key with one burst tag within this long count once, ms. */
  readonly burstMs: number;
  readonly #prefixes = new Map<string, PrefixState>();

  /** Creates a detector; throws `RangeError` for non-positive options. */
  constructor(options: FightOptions = {}) {
    this.threshold = options.threshold ?? 10;
    this.windowMs = options.windowMs ?? 5000;
    this.initialBackoffMs = options.initialBackoffMs ?? 1000;
    this.maxBackoffMs = options.maxBackoffMs ?? 30_000;
    this.calmMs = options.calmMs ?? 10_000;
    this.burstMs = options.burstMs ?? 200;
    for (const [name, v] of Object.entries(this)) {
      if (typeof v === "number" && !(v > 0 && Number.isFinite(v))) {
        throw new RangeError(`Fight detector option ${name} must be a positive number, got ${v}`);
      }
    }
  }

  /**
   * Records that someone else undid the copy of `key` at `now`; `cause` says how. With a `burst`
   * tag, within `burstMs` of the last counted undo of `key` with the same tag this is the same
   * undo: nothing changes.
   */
  undone(key: string, now: number, cause: string, burst?: string): UndoVerdict {
    let state = this.#prefixes.get(key);
    if (!state) this.#prefixes.set(key, state = { undos: [] });
    const last = state.last;
    if (burst !== undefined && last?.burst === burst && now - last.at < this.burstMs) {
      const e = state.episode;
      const count = state.undos.filter((t) => t > now - this.windowMs).length;
      if (!e) return { started: false, count };
      return { started: false, heldUntil: e.held ? e.holdEnd : undefined, count };
    }
    state.last = { burst, at: now };
    const episode = state.episode;
    if (episode && !episode.held && now - episode.holdEnd > this.calmMs) {
      state.episode = undefined;
      state.undos = [];
    }
    state.undos = state.undos.filter((t) => t > now - this.windowMs);
    state.undos.push(now);
    const count = state.undos.length;
    if (state.episode) {
      const e = state.episode;
      e.undos++;
      e.cause = cause;
      if (e.held) return { started: false, heldUntil: e.holdEnd, count, backoffMs: e.backoffMs };
      e.backoffMs = Math.min(e.backoffMs * 2, this.maxBackoffMs);
      e.holdEnd = now + e.backoffMs;
      e.held = true;
      return { started: false, heldUntil: e.holdEnd, count, backoffMs: e.backoffMs };
    }
    if (count <= this.threshold) return { started: false, count };
    const backoffMs = Math.min(this.initialBackoffMs, this.maxBackoffMs);
    state.episode = { undos: count, backoffMs, holdEnd: now + backoffMs, held: true, cause };
    return { started: true, heldUntil: now + backoffMs, count, backoffMs };
  }

  /**
   * Forgets `key`: its undos, its episode and its hold. For a copy the kernel removed by itself
   * (its link went down, its address went away): what happens to it next is a new story, and no
   * back-off may keep it out once it is wanted again.
   */
  forget(key: string): void {
    this.#prefixes.delete(key);
  }

  /** The keys tracked now (recent undos or an episode). */
  keys(): IterableIterator<string> {
    return this.#prefixes.keys();
  }

  /** Whether copies of `key` must not be added at `now`. */
  held(key: string, now: number): boolean {
    const e = this.#prefixes.get(key)?.episode;
    return e !== undefined && e.held && now < e.holdEnd;
  }

  /** Whether the detector still tracks `key` (recent undos or an episode). */
  known(key: string): boolean {
    return this.#prefixes.has(key);
  }

  /** Whether any prefix is held (a cheap check before filtering a plan). */
  get holding(): boolean {
    for (const s of this.#prefixes.values()) if (s.episode?.held) return true;
    return false;
  }

  /** The earliest end of a hold, or undefined when nothing is held. */
  nextExpiry(): number | undefined {
    let next: number | undefined;
    for (const s of this.#prefixes.values()) {
      const e = s.episode;
      if (e?.held && (next === undefined || e.holdEnd < next)) next = e.holdEnd;
    }
    return next;
  }

  /**
   * Ends the holds due at `now` and returns their keys (plan those prefixes again). Forgets
   * prefixes with no recent undo and no episode, so memory follows the fights, not the history.
   */
  expire(now: number): string[] {
    const ended: string[] = [];
    for (const [key, s] of this.#prefixes) {
      const e = s.episode;
      if (e?.held && now >= e.holdEnd) {
        e.held = false;
        ended.push(key);
      }
      if (e && !e.held && now - e.holdEnd > this.calmMs) s.episode = undefined;
      const recent = s.undos.length > 0 && s.undos[s.undos.length - 1] > now - this.windowMs;
      if (!s.episode && !recent) this.#prefixes.delete(key);
    }
    return ended;
  }

  /** The prefixes in an episode now. */
  episodes(): FightEpisode[] {
    const out: FightEpisode[] = [];
    for (const [key, s] of this.#prefixes) {
      const e = s.episode;
      if (!e) continue;
      out.push({ key, cause: e.cause, undos: e.undos, heldUntil: e.held ? e.holdEnd : undefined });
    }
    return out;
  }
}
