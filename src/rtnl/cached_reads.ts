/**
 * {@linkcode CachedReads}: a {@linkcode RouteStore} that reads each thing from the kernel once.
 * A one-shot command reads the same tables twice within milliseconds: the VPN detection (for
 * `--table auto` and the "gets no traffic" warning) dumps the routes of every table a rule points
 * at — the target tables among them, with all their copies — and the plan dumps the target
 * tables again. Through this store the second read is answered from the first: the plan is the
 * one a read at the time of the first would give. A write ({@linkcode CachedReads.apply})
 * forgets everything read before it.
 *
 * @module
 */

import type { Address } from "../netlink/address.ts";
import type { Link } from "../netlink/link.ts";
import type { NexthopObject } from "../netlink/nexthop.ts";
import type { Route } from "../netlink/route.ts";
import type { Rule } from "../netlink/rule.ts";
import type { ChangeResult, RouteChange, RouteFilter, RouteStore } from "./client.ts";

/**
 * What {@linkcode CachedReads} wraps: a route store that also reads policy rules (what a VPN
 * detection reads: `RtnlClient` is one).
 */
export interface ReadSource extends RouteStore {
  /** Every policy rule of `family`. */
  rules(family: number): Rule[];
}

/**
 * Reads of `source`, each made once until the next {@linkcode CachedReads.apply}. Every call
 * returns a new array (callers may sort or extend theirs); the routes, links and addresses in it
 * are shared. Errors are not kept: a read that failed is made again.
 *
 * @example
 * ```ts ignore
 * const store = new CachedReads(RtnlClient.open());
 * const detection = readVpnDetection(store); // dumps the rules, their tables and the links
 * const { plan } = reconcile(store, config); // the target tables and links from memory
 * ```
 */
export class CachedReads implements ReadSource {
  readonly #source: ReadSource;
  readonly #routes = new Map<string, Route[]>();
  readonly #rules = new Map<number, Rule[]>();
  #links: Link[] | undefined;
  #addresses: Address[] | undefined;
  #nexthops: NexthopObject[] | undefined;
  /** Every nexthop object, read once; absent, as the source's, when the source knows none. */
  readonly nexthops?: () => NexthopObject[];

  /** Wraps `source`. */
  constructor(source: ReadSource) {
    this.#source = source;
    const nexthops = source.nexthops?.bind(source);
    if (nexthops !== undefined) this.nexthops = () => (this.#nexthops ??= nexthops()).slice();
  }

  /** Routes matching `filter`: read once per filter (its table, family, protocol, mustExist). */
  routes(filter: RouteFilter): Route[] {
    const key = `${filter.table}/${filter.family}/${filter.protocol}/${filter.mustExist === true}`;
    let routes = this.#routes.get(key);
    if (routes === undefined) {
      routes = this.#source.routes(filter);
      this.#routes.set(key, routes);
    }
    return routes.slice();
  }

  /** Every link, read once. */
  links(): Link[] {
    return (this.#links ??= this.#source.links()).slice();
  }

  /** Every address, read once. */
  addresses(): Address[] {
    return (this.#addresses ??= this.#source.addresses()).slice();
  }

  /** Every policy rule of `family`, read once. */
  rules(family: number): Rule[] {
    let rules = this.#rules.get(family);
    if (rules === undefined) {
      rules = this.#source.rules(family);
      this.#rules.set(family, rules);
    }
    return rules.slice();
  }

  /** Applies `changes` through the source, and forgets what was read. */
  apply(changes: readonly RouteChange[]): ChangeResult[] {
    this.#routes.clear();
    this.#rules.clear();
    this.#links = this.#addresses = this.#nexthops = undefined;
    return this.#source.apply(changes);
  }
}
