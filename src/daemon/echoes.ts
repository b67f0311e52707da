/**
 * Recognises the daemon's own writes when the kernel notifies them back, so that they do not
 * count as news and schedule another apply.
 *
 * @module
 */

import type { Route } from "../netlink/route.ts";
import type { ChangeResult } from "../rtnl/client.ts";
import { routeKey } from "../planner/route_identity.ts";

/**
 * The notifications an apply is expected to cause: one `RTM_NEWROUTE` per successful add or
 * replace and one `RTM_DELROUTE` per successful delete, matched by route identity and consumed
 * once.
 *
 * @example
 * ```ts
 * import { EchoSet } from "./echoes.ts";
 * const route = { family: 2, table: 51820, dst: "10.0.0.0", dstLen: 24, srcLen: 0, tos: 0,
 *   protocol: 77, scope: 253, type: 1, flags: 0, oif: 2 };
 * const echoes = new EchoSet();
 * echoes.expect([{ change: { op: "add", route }, error: null }]);
 * echoes.take("new", route); // true: our own add coming back
 * echoes.take("new", route); // false: a second one is news
 * ```
 */
export class EchoSet {
  #expected = new Map<string, number>();

  /** Expects the notifications of the successful changes in `results`. */
  expect(results: readonly ChangeResult[]): void {
    for (const { change, error } of results) {
      if (error) continue;
      const key = `${change.op === "delete" ? "del" : "new"} ${routeKey(change.route)}`;
      this.#expected.set(key, (this.#expected.get(key) ?? 0) + 1);
    }
  }

  /** Whether `op` of `route` is an expected echo; if so it is consumed. */
  take(op: "new" | "del", route: Route): boolean {
    const key = `${op} ${routeKey(route)}`;
    const n = this.#expected.get(key);
    if (n === undefined) return false;
    if (n <= 1) this.#expected.delete(key);
    else this.#expected.set(key, n - 1);
    return true;
  }

  /** Forgets every expectation (at the next apply, echoes not seen by then never come). */
  clear(): void {
    this.#expected.clear();
  }

  /** How many echoes are still expected. */
  get size(): number {
    let n = 0;
    for (const v of this.#expected.values()) n += v;
    return n;
  }
}
