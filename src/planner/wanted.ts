/**
 * The copies wanted in one target table, as the candidates whose copies they are, and the
 * lookup of the wanted candidate that a route of the table belongs to (same
 * {@linkcode routeKey}): at most one, since a candidate whose copy would take a slot already
 * taken is a duplicate and not wanted.
 *
 * Built for the common case at no cost: source routes come in the kernel's dump order and so do
 * their copies in the table. An IPv4 candidate wanted after every earlier one in destination
 * order cannot share a slot with them, so it needs no index entry; a route of the table is first
 * tried against the candidate after the one the previous route matched. Only when these shortcuts
 * fail are the IPv4 candidates indexed (once per table); other destinations always are.
 *
 * @example
 * ```ts
 * import { Candidate } from "./candidate.ts";
 * import { mirrorCopy } from "./route_copy.ts";
 * import { WantedCopies } from "./wanted.ts";
 * const lan = { family: 2, table: 254, dst: "192.168.1.0", dstLen: 24, srcLen: 0, tos: 0,
 *   protocol: 2, scope: 253, type: 1, flags: 0, oif: 2 };
 * const target = { table: 100, protocol: 77 };
 * const candidates = [new Candidate(lan, new Map())];
 * const wanted = new WantedCopies(candidates, target);
 * wanted.add(candidates[0]); // true
 * wanted.add(candidates[0]); // false: its slot is taken
 * wanted.find(mirrorCopy(lan, target)) === candidates[0]; // true
 * wanted.exact; // true: that route is exactly the copy
 * ```
 *
 * @module
 */

import type { Route } from "../netlink/route.ts";
import { type Candidate, dstKey } from "./candidate.ts";
import type { CopyTarget } from "./route_copy.ts";

/** The wanted copies of one target table (see the module documentation). */
export class WantedCopies {
  readonly #candidates: readonly Candidate[];
  readonly #target: CopyTarget;
  /** Wanted IPv4 candidates by destination value, once needed (`#ipv4Index`). */
  #byIpv4: Map<number, Candidate> | undefined = undefined;
  /** Wanted candidates of other destinations, by destination text. */
  readonly #byText = new Map<string, Candidate>();
  /** The largest IPv4 destination wanted so far, while `#byIpv4` is not built. */
  #maxIpv4 = -1;
  /** The position of the candidate to try first for the next route of the table. */
  #cursor = 0;
  /** Whether the route last given to {@linkcode WantedCopies.find} is exactly the copy found. */
  exact = false;

  /**
   * No copy wanted yet in the table of `target`: each of `candidates` (all of them, in order)
   * starts the table (`startTable`) not wanted.
   */
  constructor(candidates: readonly Candidate[], target: CopyTarget) {
    this.#candidates = candidates;
    this.#target = target;
    for (let i = 0; i < candidates.length; i++) candidates[i].startTable(i);
  }

  /**
   * Makes the copy of `candidate` wanted and returns true, unless the copy of a candidate wanted
   * earlier takes its slot: then returns false (a duplicate).
   */
  add(candidate: Candidate): boolean {
    const { key } = candidate;
    let first: Candidate | undefined;
    if (typeof key === "number") {
      if (this.#byIpv4 === undefined && candidate.ipv4 > this.#maxIpv4) {
        // After every earlier IPv4 destination: no earlier copy can have its slot.
        this.#maxIpv4 = candidate.ipv4;
        candidate.wanted = true;
        return true;
      }
      const byIpv4 = this.#ipv4Index();
      first = byIpv4.get(key);
      if (first !== undefined && this.#isDuplicate(candidate, first)) return false;
      byIpv4.set(key, candidate);
    } else {
      first = this.#byText.get(key);
      if (first !== undefined && this.#isDuplicate(candidate, first)) return false;
      this.#byText.set(key, candidate);
    }
    candidate.next = first;
    candidate.wanted = true;
    return true;
  }

  /**
   * The wanted candidate whose copy has the {@linkcode routeKey} of `route` (a route of the
   * table), if any; {@linkcode WantedCopies.exact} then tells whether `route` is exactly that
   * copy (`isCopy`).
   */
  find(route: Route): Candidate | undefined {
    const target = this.#target;
    const guess = this.#candidates[this.#cursor];
    let found: Candidate | undefined;
    let exact = false;
    if (guess !== undefined && guess.wanted && guess.isCopyInSlot(route, target)) {
      found = guess;
      exact = true;
    } else if (guess !== undefined && guess.wanted && guess.hasCopyKey(route, target)) {
      // (Not the copy, so not exactly it.)
      found = guess;
    } else {
      const key = dstKey(route);
      let c = typeof key === "number" ? this.#ipv4Index().get(key) : this.#byText.get(key);
      while (c !== undefined && !c.hasCopyKey(route, target)) c = c.next;
      found = c;
      exact = c !== undefined && c.isCopy(route, target);
    }
    if (found !== undefined) this.#cursor = found.position + 1;
    this.exact = exact;
    return found;
  }

  /** The wanted IPv4 candidates by destination value (chained by `next`), built once. */
  #ipv4Index(): Map<number, Candidate> {
    if (this.#byIpv4 !== undefined) return this.#byIpv4;
    const byIpv4 = this.#byIpv4 = new Map<number, Candidate>();
    const candidates = this.#candidates;
    for (let i = 0; i < candidates.length; i++) {
      const candidate = candidates[i];
      if (!candidate.wanted || typeof candidate.key !== "number") continue;
      candidate.next = byIpv4.get(candidate.key);
      byIpv4.set(candidate.key, candidate);
    }
    return byIpv4;
  }

  /** Whether the copy of `candidate` takes the slot of `first` or of one chained after it. */
  #isDuplicate(candidate: Candidate, first: Candidate): boolean {
    const copy = candidate.copyFor(this.#target);
    for (let c: Candidate | undefined = first; c !== undefined; c = c.next) {
      if (c.hasCopyKey(copy, this.#target)) return true;
    }
    return false;
  }
}
