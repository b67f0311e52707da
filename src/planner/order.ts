/**
 * A total order on routes, so plans come out sorted and can be printed and compared.
 *
 * @module
 */

import { AF } from "../netlink/constants.ts";
import { InvalidAddressError, ipv4Number, parseIp } from "../netlink/ip.ts";
import type { Route } from "../netlink/route.ts";
import { routeMetric } from "./route_identity.ts";

/**
 * Orders routes by family, table, destination (numerically), prefix length, tos, metric, output
 * interface, preferred source, gateway, protocol, scope and type. Routes equal in all of these
 * compare 0 (`Array.prototype.sort` is stable, so they keep their input order).
 *
 * @example
 * ```ts
 * import { compareRoutes } from "./order.ts";
 * const r = { family: 2, table: 1, dst: "10.0.0.0", dstLen: 8, srcLen: 0, tos: 0, protocol: 77,
 *   scope: 253, type: 1, flags: 0 };
 * [{ ...r, dst: "11.0.0.0" }, r].sort(compareRoutes)[0].dst; // "10.0.0.0"
 * ```
 */
export function compareRoutes(a: Route, b: Route): number {
  return a.family - b.family ||
    a.table - b.table ||
    compareAddresses(a.dst, b.dst) ||
    a.dstLen - b.dstLen ||
    a.tos - b.tos ||
    routeMetric(a) - routeMetric(b) ||
    (a.oif ?? 0) - (b.oif ?? 0) ||
    compareOptionalAddresses(a.prefsrc, b.prefsrc) ||
    compareOptionalAddresses(a.gateway, b.gateway) ||
    a.protocol - b.protocol ||
    a.scope - b.scope ||
    a.type - b.type;
}

/**
 * Sorts `list` in place by `compare`, as `Array.prototype.sort` does (stably), and returns it;
 * a list already in order costs one pass of comparisons and no sort.
 *
 * @example
 * ```ts
 * import { sortInPlace } from "./order.ts";
 * sortInPlace([3, 1, 2], (a, b) => a - b); // [1, 2, 3]
 * ```
 */
export function sortInPlace<T>(list: T[], compare: (a: T, b: T) => number): T[] {
  for (let i = 1; i < list.length; i++) {
    if (compare(list[i - 1], list[i]) > 0) return list.sort(compare);
  }
  return list;
}

/**
 * Watches routes appended to a list one by one and tells whether the list is still in
 * {@linkcode compareRoutes} order, without parsing: the caller gives each IPv4 destination's
 * value (`ipv4Number`), which orders different IPv4 destinations as `compareRoutes` does. It
 * also keeps which runs of one family and table are out of order, so that
 * {@linkcode RouteOrder.sort} sorts only those: the kernel dumps the IPv6 routes of one
 * destination newest first, and a few of those should not cost a sort of the 10k IPv4 routes
 * before them.
 *
 * @example
 * ```ts
 * import { RouteOrder } from "./order.ts";
 * const r = { family: 2, table: 1, dst: "10.0.0.0", dstLen: 8, srcLen: 0, tos: 0, protocol: 77,
 *   scope: 253, type: 1, flags: 0 };
 * const order = new RouteOrder();
 * order.note(r, 0x0a000000);
 * order.note({ ...r, dst: "9.0.0.0" }, 0x09000000);
 * order.sorted; // false
 * ```
 */
export class RouteOrder {
  #last: Route | undefined = undefined;
  #lastIpv4 = -1;
  #count = 0;
  /** Whether the runs of one family and table come in order (else only a whole sort will do). */
  #runsInOrder = true;
  #runStart = 0;
  #runSorted = true;
  /** The closed runs that are out of order, as `[start, end)` pairs. */
  readonly #unsorted: number[] = [];

  /** Whether every route noted so far came in order. */
  get sorted(): boolean {
    return this.#runsInOrder && this.#runSorted && this.#unsorted.length === 0;
  }

  /** Notes the next route of the list; `ipv4` is its IPv4 destination's value, else -1. */
  note(route: Route, ipv4: number): void {
    const index = this.#count++;
    const last = this.#last;
    if (last !== undefined && this.#runsInOrder) {
      const run = last.family - route.family || last.table - route.table;
      if (run > 0) this.#runsInOrder = false;
      else if (run < 0) {
        if (!this.#runSorted) this.#unsorted.push(this.#runStart, index);
        this.#runStart = index;
        this.#runSorted = true;
      } else if (this.#runSorted) {
        // compareRoutes orders different IPv4 destinations by number before any other field.
        const order = this.#lastIpv4 >= 0 && ipv4 >= 0 && this.#lastIpv4 !== ipv4
          ? this.#lastIpv4 - ipv4
          : compareRoutes(last, route);
        if (order > 0) this.#runSorted = false;
      }
    }
    this.#last = route;
    this.#lastIpv4 = ipv4;
  }

  /**
   * Sorts `items`, the list whose routes (`routeOf(item)`) were noted in order, in place by
   * {@linkcode compareRoutes} (stably), and returns it: nothing to do when it came in order,
   * only the runs out of order when its runs of one family and table came in order.
   */
  sort<T>(items: T[], routeOf: (item: T) => Route): T[] {
    if (items.length !== this.#count) {
      throw new RangeError(`${items.length} items to sort, ${this.#count} noted`);
    }
    if (this.sorted) return items;
    if (!this.#runsInOrder) return sortByRoute(items, routeOf, 0, items.length);
    const unsorted = this.#unsorted;
    for (let i = 0; i < unsorted.length; i += 2) {
      sortByRoute(items, routeOf, unsorted[i], unsorted[i + 1]);
    }
    if (!this.#runSorted) sortByRoute(items, routeOf, this.#runStart, items.length);
    return items;
  }
}

/**
 * Sorts `items` in place by {@linkcode compareRoutes} of `routeOf(item)`, as `Array.prototype.sort`
 * does (stably), and returns it. A list already in order (the common case: routes come in the
 * kernel's dump order) costs one pass and no sort; the pass reads each IPv4 destination once.
 * Given the {@linkcode RouteOrder} that watched the list being built, not even that pass; and
 * only the runs of one family and table that are out of order are sorted.
 *
 * @example
 * ```ts
 * import { sortRoutes } from "./order.ts";
 * const r = { family: 2, table: 1, dst: "10.0.0.0", dstLen: 8, srcLen: 0, tos: 0, protocol: 77,
 *   scope: 253, type: 1, flags: 0 };
 * sortRoutes([{ ...r, dst: "11.0.0.0" }, r], (route) => route)[0].dst; // "10.0.0.0"
 * ```
 */
export function sortRoutes<T>(items: T[], routeOf: (item: T) => Route, order?: RouteOrder): T[] {
  if (items.length < 2) return items;
  if (order === undefined) {
    order = new RouteOrder();
    for (let i = 0; i < items.length; i++) {
      const route = routeOf(items[i]);
      order.note(route, route.family === AF.INET ? ipv4Number(route.dst) : -1);
    }
  }
  return order.sort(items, routeOf);
}

/** An item to sort, with its route and the route's IPv4 destination value (else -1). */
interface Keyed<T> {
  item: T;
  route: Route;
  ipv4: number;
}

/**
 * Sorts `items[from, to)` in place by {@linkcode compareRoutes} of `routeOf(item)`, stably,
 * reading each IPv4 destination once instead of at every comparison (a 10k sort compares ~130k
 * times).
 */
function sortByRoute<T>(items: T[], routeOf: (item: T) => Route, from: number, to: number): T[] {
  const keyed: Keyed<T>[] = new Array(to - from);
  for (let i = from; i < to; i++) {
    const route = routeOf(items[i]);
    keyed[i - from] = {
      item: items[i],
      route,
      ipv4: route.family === AF.INET ? ipv4Number(route.dst) : -1,
    };
  }
  keyed.sort((a, b) => {
    const order = a.route.family - b.route.family || a.route.table - b.route.table;
    if (order !== 0) return order;
    // compareRoutes orders different IPv4 destinations by number before any other field.
    return a.ipv4 >= 0 && b.ipv4 >= 0 && a.ipv4 !== b.ipv4
      ? a.ipv4 - b.ipv4
      : compareRoutes(a.route, b.route);
  });
  for (let i = 0; i < keyed.length; i++) items[from + i] = keyed[i].item;
  return items;
}

/**
 * Orders two addresses numerically (`9.0.0.0` before `10.0.0.0`); text that is not an address
 * sorts after addresses, then as text. Returns a negative number, zero or a positive number.
 *
 * @example
 * ```ts
 * import { compareAddresses } from "./order.ts";
 * compareAddresses("9.0.0.0", "10.0.0.0") < 0; // true (a string compare would say > 0)
 * ```
 */
export function compareAddresses(a: string, b: string): number {
  if (a === b) return 0;
  const v4a = ipv4Number(a);
  if (v4a >= 0) {
    const v4b = ipv4Number(b);
    if (v4b >= 0) return v4a - v4b;
  }
  const x = addressBytes(a);
  const y = addressBytes(b);
  if (x && y) {
    for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
    return x.length - y.length;
  }
  if (x) return -1;
  if (y) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Parsed addresses, so that sorting n routes parses each address once, not n log n times. */
const parsed = new Map<string, Uint8Array | null>();
/** Bound of {@linkcode parsed}: it is emptied when full. */
const PARSED_MAX = 1 << 16;

function addressBytes(text: string): Uint8Array | undefined {
  let bytes = parsed.get(text);
  if (bytes === undefined) {
    try {
      bytes = parseIp(text).bytes;
    } catch (error) {
      if (!(error instanceof InvalidAddressError)) throw error;
      bytes = null;
    }
    if (parsed.size >= PARSED_MAX) parsed.clear();
    parsed.set(text, bytes);
  }
  return bytes ?? undefined;
}

function compareOptionalAddresses(a?: string, b?: string): number {
  if (a === b) return 0;
  if (a === undefined) return -1;
  if (b === undefined) return 1;
  return compareAddresses(a, b);
}
