/**
 * Work done once per list of prefixes instead of once per plan: the daemon plans at every
 * change with the same `--allow-prefix` and catch-all lists for its whole life, and parsing them
 * again each time was a dozen address parses per change.
 *
 * @example
 * ```ts
 * import { oncePerList } from "./per_list.ts";
 * let calls = 0;
 * const lengths = oncePerList((list: readonly number[]) => (calls++, list.length));
 * const list = [1, 2];
 * lengths(list) + lengths(list); // 4
 * calls; // 1
 * ```
 *
 * @module
 */

/**
 * `make` memoised by the identity of its list argument (weakly: a list no longer used is
 * forgotten). Every empty list shares one result, since callers often pass a fresh `[]` for
 * "none"; `make` must therefore give an empty list's result from its contents alone.
 */
export function oncePerList<L extends readonly unknown[], T>(
  make: (list: L) => T,
): (list: L) => T {
  const byList = new WeakMap<L, T>();
  let ofEmpty: { value: T } | undefined;
  return (list) => {
    if (list.length === 0) return (ofEmpty ??= { value: make(list) }).value;
    if (byList.has(list)) return byList.get(list)!;
    const value = make(list);
    byList.set(list, value);
    return value;
  };
}
