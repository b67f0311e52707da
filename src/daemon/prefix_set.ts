/**
 * {@linkcode PrefixSet}: a set of destination prefixes (family, destination, prefix length) that
 * builds no key per member: the daemon adds one per route event of a burst. Members are found by
 * their destination text (the decoded route's own string) and then compared field by field.
 *
 * @example
 * ```ts
 * import { PrefixSet } from "./prefix_set.ts";
 * const dirty = new PrefixSet();
 * dirty.add({ family: 2, dst: "10.0.0.0", dstLen: 24 });
 * dirty.add({ family: 2, dst: "10.0.0.0", dstLen: 24 });
 * dirty.add({ family: 2, dst: "10.0.0.0", dstLen: 16 });
 * dirty.size; // 2
 * dirty.has({ family: 2, dst: "10.0.0.0", dstLen: 16 }); // true
 * ```
 *
 * @module
 */

import type { Route } from "../netlink/route.ts";

/** A destination prefix: what one route event can touch. */
export type Prefix = Pick<Route, "family" | "dst" | "dstLen">;

function same(a: Prefix, b: Prefix): boolean {
  return a.dstLen === b.dstLen && a.family === b.family;
}

/** A set of prefixes in insertion order; see the module documentation. */
export class PrefixSet {
  /** destination text → the member(s) with it (several: other lengths or families). */
  readonly #byDst = new Map<string, Prefix | Prefix[]>();
  readonly #members: Prefix[] = [];

  /** Members. */
  get size(): number {
    return this.#members.length;
  }

  /** Adds `prefix` (the object itself is kept, not copied) unless an equal one is a member. */
  add(prefix: Prefix): void {
    const found = this.#byDst.get(prefix.dst);
    if (found === undefined) this.#byDst.set(prefix.dst, prefix);
    else if (Array.isArray(found)) {
      if (found.some((p) => same(p, prefix))) return;
      found.push(prefix);
    } else {
      if (same(found, prefix)) return;
      this.#byDst.set(prefix.dst, [found, prefix]);
    }
    this.#members.push(prefix);
  }

  /** Whether a prefix equal to `prefix` is a member. */
  has(prefix: Prefix): boolean {
    const found = this.#byDst.get(prefix.dst);
    if (found === undefined) return false;
    return Array.isArray(found) ? found.some((p) => same(p, prefix)) : same(found, prefix);
  }

  /** The members in the order they were added, as the set's own list (read, never change). */
  get members(): readonly Prefix[] {
    return this.#members;
  }
}
