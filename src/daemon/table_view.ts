/**
 * The `watch` daemon's in-memory copy of the tables it tracks (the source table and the target
 * tables), plus the links and addresses, kept current from rtnetlink events so that one route
 * event does not need a re-dump of a large `main`.
 *
 * ## What the kernel changes without an `RTM_DELROUTE` (observed on 6.18.44, `uname -r`
 * `6.18.44-fc-v595`, in throw-away network namespaces; oracle: `ip monitor route link address`
 * and `ip -d route show table main|539098368`; sysctls at their defaults unless named)
 *
 * Setup: `veth0` (index 2) with `192.168.50.1/24` and `2001:db8:50::1/64`; main holds the
 * connected routes and `10.9.0.0/16 via 192.168.50.2`; table 539098368 holds
 * `192.168.50.0/24 dev veth0 proto 77 scope link src 192.168.50.1` and `2001:db8:50::/64 dev veth0
 * proto 77`.
 *
 * - (a) `ip link set veth0 down`: events: `RTM_NEWLINK` (no `IFF_UP`), then `RTM_DELROUTE` for
 *   every IPv6 route via veth0 in every table, then `RTM_DELADDR` for its IPv6 addresses
 *   (`keep_addr_on_down=0`). IPv4 routes via veth0 vanish from *all* tables (connected, gateway,
 *   copies) with **no** notification; IPv4 addresses stay. Kept: IPv4 `scope host` routes via the
 *   link. A multipath route with another live next hop stays, its veth0 hops silently flagged
 *   `dead linkdown` (IPv4 and IPv6). With `net.ipv6.route.skip_notify_on_dev_down=1` the IPv6
 *   deletions are silent too.
 * - (b) `ip addr del 192.168.50.1/24`: events: `RTM_DELADDR`, `RTM_DELROUTE` for the connected
 *   route and local/broadcast, and `RTM_DELROUTE` for *main-table* routes whose prefsrc was that
 *   address. If it was the **last IPv4 address** of the link, every IPv4 route via the link in
 *   every table (any scope, with or without prefsrc) also goes, silently (as for a link down).
 *   If other IPv4 addresses remain, routes in *other* tables with that prefsrc stay (with a stale
 *   `src`). With `promote_secondaries=0` the secondaries of the subnet are deleted first, each
 *   with its own `RTM_DELADDR`; with `=1` one is promoted (`RTM_NEWADDR` and a new connected
 *   route).
 * - (c) `ip link del veth0`: `RTM_NEWLINK` (down) and the (a) events, `RTM_DELADDR` for the IPv4
 *   address, then `RTM_DELLINK`. IPv4 routes via the link go silently, including `scope host`
 *   ones and multipath routes with *any* hop on it. IPv6: the hop on the link is removed with a
 *   notification and a two-hop route becomes a single-path route via the other hop.
 * - (d) down, then up: after (a), `RTM_NEWLINK`s and `RTM_NEWROUTE`s for what the kernel recreates:
 *   the IPv4 connected route (the address survived) and `fe80::/64`. Gateway routes, copies in
 *   539098368 and manually added IPv6 addresses (and so their prefix routes) do not come back.
 *   Dead multipath hops revive silently — IPv4 ones also when an IPv4 address is added to the
 *   link again after (b) killed them.
 * - (e) `ip -6 addr del 2001:db8:50::1/64`: `RTM_DELADDR` and `RTM_DELROUTE` for its prefix route
 *   in main; the copy in 539098368 stays. IPv6 routes via the link whose prefsrc was the address
 *   silently lose their `src` (all tables). RA-style `expires` routes are deleted *with*
 *   notification when the GC runs (~30 s after expiry with `gc_interval=30`); until then dumps
 *   still show them, their remaining lifetime counting down between dumps.
 * - (f) adding a route via an admin-down link fails ("Device for nexthop is not up" / IPv6
 *   "Nexthop device is not up"). Via an up link without carrier it succeeds; the notification and
 *   dumps carry `RTNH_F_LINKDOWN`.
 * - (g) carrier loss / return (`IFF_UP` kept, `IFF_LOWER_UP`/`IFF_RUNNING` change): only
 *   `RTM_NEWLINK`; every route via the link in every table silently gains / loses `linkdown`
 *   (multipath: the hop), except IPv4 `scope host` and IPv6 `local` routes.
 * - (h) link MTU change: IPv6 routes via the link with an `mtu` metric silently follow the link MTU
 *   (1400 → 1300 → 1500); IPv4 metrics do not change.
 * - (i) `disable_ipv6=1` on a link deletes its IPv6 routes with notifications, but with
 *   `skip_notify_on_dev_down=1` silently and with **no link event**: not detectable here.
 * - Replace semantics (header flags of the notifications): IPv4 `NLM_F_REPLACE` replaces the first
 *   route of `(table, dst, dstLen, tos, priority)`, `NLM_F_APPEND` adds after, plain `NLM_F_CREATE`
 *   before it (`ip route prepend`); a replace that created a route carries `CREATE|EXCL`, not
 *   `REPLACE`. IPv6 `REPLACE` replaces the first route of the same metric whose ECMP eligibility
 *   (gateway, not RA) matches — not necessarily the same device, which can leave exact duplicates.
 *   Appending a gateway route next to another one merges them into one multipath route; the
 *   notification carries the whole group. Deleting one hop of it notifies that hop alone.
 *
 * This view reproduces (a)–(d), (e)'s prefsrc loss and (g) when it sees the link / address events
 * that cause them. Where it cannot be sure of the kernel's result — an IPv6 replace with several
 * candidates, an IPv6 merge it cannot reconstruct, IPv6 metrics after an MTU change, routes using
 * nexthop objects, a multipath route losing an IPv6 prefsrc — it sets
 * {@linkcode TableView.needsResync}. Not modelled: VRFs (prefsrc flushes use main only),
 * `ignore_routes_with_linkdown` (dumps then also show `dead`), (i). Checked live as well: fed from
 * the repo's socket and codec through ~30 such steps, the view equalled a fresh dump after each.
 *
 * @module
 */

import type { Address } from "../netlink/address.ts";
import {
  AF,
  IFA_F,
  IFF,
  NLM_F,
  RT_SCOPE,
  RT_TABLE,
  RTM_F,
  RTN,
  RTNH_F,
  RTPROT,
} from "../netlink/constants.ts";
import type { Link } from "../netlink/link.ts";
import type { NexthopObject } from "../netlink/nexthop.ts";
import { isPlainRoute, type Nexthop, type Route } from "../netlink/route.ts";
import { sameReplaceGroup, viewKey } from "../planner/route_identity.ts";

/** Whether an event adds/updates (`RTM_NEW*`) or removes (`RTM_DEL*`) an object. */
export type ChangeOp = "new" | "del";

/** Options of {@linkcode TableView}. */
export interface TableViewOptions {
  /** The routing tables to keep (the source table and the target tables). */
  tables: Iterable<number>;
  /**
   * linkmirror's protocol: {@linkcode TableView.foreignRoutes} is every route of another one.
   * Default: none (every route is foreign).
   */
  protocol?: number;
}

const LINK_STATE_FLAGS = RTNH_F.DEAD | RTNH_F.LINKDOWN;

function hasHopOn(route: Route, index: number): boolean {
  if (route.multipath) return route.multipath.some((h) => h.oif === index);
  return route.oif === index;
}

/** Whether IPv6 would make this route an ECMP sibling (`rt6_qualify_for_ecmp`). */
function ecmpCapable(route: Route): boolean {
  if (route.protocol === RTPROT.RA || route.nhId !== undefined) return false;
  return route.gateway !== undefined || (route.multipath?.length ?? 0) > 0;
}

function withFlags(route: Route, flags: number): Route {
  return flags === route.flags ? route : { ...route, flags };
}

function withHops(route: Route, multipath: Nexthop[]): Route {
  const same = multipath.every((h, i) => h === route.multipath?.[i]);
  return same && multipath.length === route.multipath?.length ? route : { ...route, multipath };
}

/** An IPv6 multipath route left with one hop: what the kernel then reports, a single path. */
function collapse(route: Route, hop: Nexthop): Route {
  const { multipath: _multipath, ...rest } = route;
  const single: Route = {
    ...rest,
    oif: hop.oif,
    flags: (route.flags & ~LINK_STATE_FLAGS) | hop.flags,
  };
  if (hop.gateway !== undefined) single.gateway = hop.gateway;
  return single;
}

/**
 * The routes of one table with one destination address (`dst`, any prefix length): one route
 * alone (by far the most common case: no array), or its replace groups
 * ({@linkcode sameReplaceGroup}) in the order they appeared, each in kernel order.
 */
type Slot = Route | Route[][];

function groupsOf(slot: Slot): Route[][] {
  return Array.isArray(slot) ? slot : [[slot]];
}

/** The keys every decoded route starts with, in the decoder's order. */
const HEADER_KEYS = [
  "family",
  "table",
  "dst",
  "dstLen",
  "srcLen",
  "tos",
  "protocol",
  "scope",
  "type",
  "flags",
] as const;

/**
 * `route` as a new object literal with the same keys in the same order (so `JSON.stringify` and
 * every reader see the same route) and `dst` (an equal string), when it is the header (in the
 * decoder's order) and one to three more attributes: the decoder's routes with a preferred source
 * and the planner's copies (`oif`, `prefsrc`, `priority`) get those one by one, so they live in a
 * separate property array; a literal holds them inline (~24 B less a route). The decoder's plain
 * IPv4 routes (`oif`, `priority` then `oif`) and the planner's plain copies (`oif` then
 * `priority`, see `mirrorCopy`) are such literals already, and other routes are kept as they
 * are: `undefined`. (An IPv4 route with no field but the header, `oif` and `priority` is taken
 * for one of those without a look at its keys: were it built field by field instead, it would
 * only cost the bytes compacting saves.)
 */
function compactRoute(route: Route, dst: string): Route | undefined {
  // Most routes are plain IPv4 routes (a device, maybe a metric), and only the plain decoder and
  // mirrorCopy make those: no keys to list (an array, and a copy of it, for each of 10k routes
  // of a burst, was more than half of the view's time).
  if (route.family === AF.INET && isPlainRoute(route)) return undefined;
  const keys = Object.keys(route);
  const extra = keys.length - HEADER_KEYS.length;
  if (extra < 1 || extra > 3) return undefined;
  for (let i = 0; i < HEADER_KEYS.length; i++) if (keys[i] !== HEADER_KEYS[i]) return undefined;
  const [a, b, c] = keys.slice(HEADER_KEYS.length);
  if (
    extra === 1
      ? a === "oif"
      : extra === 2 && (a === "priority" ? b === "oif" : a === "oif" && b === "priority")
  ) return undefined;
  const r = route as unknown as Record<string, unknown>;
  const { family, table, dstLen, srcLen, tos, protocol, scope, type, flags } = route;
  if (extra === 1) {
    return { family, table, dst, dstLen, srcLen, tos, protocol, scope, type, flags, [a]: r[a] };
  }
  if (extra === 2) {
    return {
      family,
      table,
      dst,
      dstLen,
      srcLen,
      tos,
      protocol,
      scope,
      type,
      flags,
      [a]: r[a],
      [b]: r[b],
    };
  }
  return {
    family,
    table,
    dst,
    dstLen,
    srcLen,
    tos,
    protocol,
    scope,
    type,
    flags,
    [a]: r[a],
    [b]: r[b],
    [c]: r[c],
  };
}

/** Equal routes, not counting what changes by itself (`expires`, `cacheinfo`). */
function sameState(a: Route, b: Route): boolean {
  const stable = (r: Route) => {
    const { expires: _expires, cacheinfo: _cacheinfo, ...rest } = r;
    return JSON.stringify(rest);
  };
  return stable(a) === stable(b);
}

/**
 * Address flags that change by themselves (duplicate address detection ending, a preferred
 * lifetime running out) and that nothing reading the view looks at.
 */
const SELF_CHANGING_ADDRESS_FLAGS = IFA_F.TENTATIVE | IFA_F.OPTIMISTIC | IFA_F.DEPRECATED;

/**
 * Equal addresses, not counting what changes by itself: the flags above and the unmodelled
 * attributes (`IFA_CACHEINFO`'s lifetimes and time stamps).
 */
function sameAddress(a: Address, b: Address): boolean {
  return a.family === b.family && a.index === b.index && a.prefixLen === b.prefixLen &&
    a.scope === b.scope && a.local === b.local && a.address === b.address &&
    a.label === b.label && ((a.flags ^ b.flags) & ~SELF_CHANGING_ADDRESS_FLAGS) === 0;
}

function addressLocal(address: Address): string | undefined {
  return address.local ?? address.address;
}

function addressKey(address: Address): string {
  return `${address.family}|${address.index}|${addressLocal(address) ?? ""}/${address.prefixLen}|${
    address.address ?? ""
  }`;
}

/**
 * A nexthop object whose unmodelled attributes (encapsulation: eligibility reads it) are copies,
 * not views into the received datagram.
 */
function leanNexthop(nexthop: NexthopObject): NexthopObject {
  if (nexthop.other === undefined) return nexthop;
  return { ...nexthop, other: nexthop.other.map((a) => ({ ...a, data: a.data.slice() })) };
}

function sameNexthop(a: NexthopObject, b: NexthopObject): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function sameLink(a: Link, b: Link): boolean {
  return a.name === b.name && a.flags === b.flags && a.type === b.type && a.mtu === b.mtu &&
    a.operstate === b.operstate && a.kind === b.kind;
}

/**
 * The daemon's view of its tables, links and addresses. Feed it full dumps with
 * {@linkcode TableView.reset} and events with the `apply*` methods; they return whether the view
 * changed. Routes of other tables, other families and cloned routes are ignored.
 *
 * A full resync is `reset("links")`, `reset("addresses")`, then `reset("routes")` — the routes
 * reset clears {@linkcode TableView.needsResync}, so it must come last.
 *
 * @example
 * ```ts
 * import { TableView } from "./table_view.ts";
 * const view = new TableView({ tables: [254, 539098368] });
 * view.reset("links", [{ index: 2, name: "veth0", flags: 0x11043, type: 1 }]);
 * view.reset("routes", [{ family: 2, table: 539098368, dst: "192.168.50.0", dstLen: 24,
 *   srcLen: 0, tos: 0, protocol: 77, scope: 253, type: 1, flags: 0, oif: 2 }]);
 * view.applyLink("new", { index: 2, name: "veth0", flags: 0x1002, type: 1 }); // link down
 * view.routes(539098368).length; // 0: the kernel dropped the IPv4 route without a notification
 * ```
 */
export class TableView {
  /** The tracked routing tables. */
  readonly tables: ReadonlySet<number>;

  /**
   * table → destination address (the route's own `dst` string: no key is built) → its routes.
   * One prefix's routes are found without a scan, and a table of single routes costs one map
   * entry per route.
   */
  #routes = new Map<number, Map<string, Slot>>();
  /** The maps of {@linkcode TableView.#routes}, as a list (see {@linkcode TableView.#compact}). */
  #slotMaps: Map<string, Slot>[] = [];
  #links = new Map<number, Link>();
  #addresses = new Map<string, Address>();
  #nexthops = new Map<number, NexthopObject>();
  #resync: string | undefined;
  readonly #protocol: number | undefined;
  /**
   * table → its foreign routes, while known: dropped whenever a route of another protocol than
   * ours enters, leaves or changes in that table, so that an event on one of our copies (most of
   * them) keeps it.
   */
  readonly #foreign = new Map<number, Route[]>();

  /** Creates an empty view of the given tables. */
  constructor(options: TableViewOptions) {
    this.tables = new Set(options.tables);
    this.#protocol = options.protocol;
    for (const table of this.tables) this.#routes.set(table, new Map());
    this.#slotMaps = [...this.#routes.values()];
  }

  /**
   * Why the view can no longer be trusted and a full resync (see the class documentation) is
   * needed, or `undefined` while it can.
   */
  get needsResync(): string | undefined {
    return this.#resync;
  }

  /** Marks the view untrusted (e.g. after `ENOBUFS` on the event socket). The first reason wins. */
  requestResync(reason: string): void {
    this.#resync ??= reason;
  }

  /** Replaces the links with a full dump. */
  reset(kind: "links", values: readonly Link[]): void;
  /** Replaces the addresses with a full dump. */
  reset(kind: "addresses", values: readonly Address[]): void;
  /**
   * Replaces the routes of the tracked tables with a full dump (in dump order; routes of other
   * tables are dropped) and clears {@linkcode TableView.needsResync}.
   */
  reset(kind: "routes", values: readonly Route[]): void;
  /** Replaces the nexthop objects with a full dump. */
  reset(kind: "nexthops", values: readonly NexthopObject[]): void;
  /** Replaces one kind of object with a full dump. */
  reset(
    kind: "links" | "addresses" | "routes" | "nexthops",
    values: readonly (Link | Address | Route | NexthopObject)[],
  ): void {
    if (kind === "links") {
      this.#links = new Map((values as Link[]).map((l) => [l.index, l]));
    } else if (kind === "nexthops") {
      this.#nexthops = new Map((values as NexthopObject[]).map((n) => [n.id, leanNexthop(n)]));
    } else if (kind === "addresses") {
      this.#addresses = new Map((values as Address[]).map((a) => [addressKey(a), a]));
    } else {
      for (const table of this.tables) this.#routes.set(table, new Map());
      this.#slotMaps = [...this.#routes.values()];
      this.#foreign.clear();
      for (const route of values as Route[]) {
        if (!this.#tracks(route)) continue;
        const lean = this.#compact(route);
        if (this.#storeFirst(lean)) continue;
        const group = this.#group(lean);
        group.push(lean);
        this.#store(lean, group);
      }
      this.#resync = undefined;
    }
  }

  /** The routes of one tracked table (empty for an untracked one), in kernel order per key. */
  routes(table: number): Route[] {
    const out: Route[] = [];
    for (const slot of this.#routes.get(table)?.values() ?? []) {
      if (!Array.isArray(slot)) out.push(slot);
      else for (const group of slot) for (const route of group) out.push(route);
    }
    return out;
  }

  /**
   * The routes of one tracked table whose protocol is not {@linkcode TableViewOptions.protocol}
   * (kernel order per key; do not modify). Kept between calls until such a route changes, so
   * that the daemon's plan of a few prefixes costs no scan of a table full of copies.
   *
   * @example
   * ```ts
   * import { TableView } from "./table_view.ts";
   * const view = new TableView({ tables: [100], protocol: 77 });
   * const r = { family: 2, table: 100, dst: "0.0.0.0", dstLen: 0, srcLen: 0, tos: 0,
   *   protocol: 3, scope: 253, type: 1, flags: 0, oif: 9 };
   * view.reset("routes", [r, { ...r, dst: "10.0.0.0", dstLen: 8, protocol: 77, oif: 2 }]);
   * view.foreignRoutes(100).length; // 1: the default route
   * ```
   */
  foreignRoutes(table: number): readonly Route[] {
    let foreign = this.#foreign.get(table);
    if (foreign === undefined) {
      foreign = this.routes(table).filter((r) => r.protocol !== this.#protocol);
      if (this.#routes.has(table)) this.#foreign.set(table, foreign);
    }
    return foreign;
  }

  /** Forgets the foreign routes of `route`'s table if `route` is one (it is changing). */
  #changing(route: Route): void {
    if (route.protocol !== this.#protocol) this.#foreign.delete(route.table);
  }

  /**
   * The routes of one tracked table with one destination prefix (any metric, tos, source), in
   * kernel order per key; found through an index, without scanning the table.
   *
   * @example
   * ```ts
   * import { TableView } from "./table_view.ts";
   * const view = new TableView({ tables: [254] });
   * const r = { family: 2, table: 254, dst: "10.0.0.0", dstLen: 8, srcLen: 0, tos: 0,
   *   protocol: 2, scope: 253, type: 1, flags: 0, oif: 2 };
   * view.reset("routes", [r, { ...r, dst: "10.1.0.0", dstLen: 16 }]);
   * view.routesWithPrefix({ family: 2, table: 254, dst: "10.0.0.0", dstLen: 8 }).length; // 1
   * ```
   */
  routesWithPrefix(prefix: Pick<Route, "family" | "table" | "dst" | "dstLen">): Route[] {
    const out: Route[] = [];
    this.collectWithPrefix(prefix.table, prefix, out);
    return out;
  }

  /**
   * Appends to `out` what {@linkcode TableView.routesWithPrefix} returns for `prefix` in `table`
   * (only those of `protocol` when given): no array, closure or iterator of its own, for the
   * daemon's plan of every prefix of a burst.
   */
  collectWithPrefix(
    table: number,
    prefix: Pick<Route, "family" | "dst" | "dstLen">,
    out: Route[],
    protocol?: number,
  ): void {
    const slot = this.#routes.get(table)?.get(prefix.dst);
    if (slot === undefined) return;
    const { family, dstLen } = prefix;
    if (!Array.isArray(slot)) {
      if (
        slot.family === family && slot.dstLen === dstLen &&
        (protocol === undefined || slot.protocol === protocol)
      ) out.push(slot);
      return;
    }
    for (let g = 0; g < slot.length; g++) {
      const group = slot[g];
      for (let i = 0; i < group.length; i++) {
        const route = group[i];
        if (
          route.family === family && route.dstLen === dstLen &&
          (protocol === undefined || route.protocol === protocol)
        ) out.push(route);
      }
    }
  }

  /** The links by index (a copy). */
  links(): Map<number, Link> {
    return new Map(this.#links);
  }

  /** The nexthop objects by id (routes with `RTA_NH_ID` refer to them). */
  nexthops(): ReadonlyMap<number, NexthopObject> {
    return this.#nexthops;
  }

  /**
   * Applies an `RTM_NEWNEXTHOP` / `RTM_DELNEXTHOP` event. A deleted object takes the routes using
   * it along (the kernel notifies that for IPv6 routes only). A changed object changes what its
   * routes forward to (the kernel re-notifies IPv4 routes) and whether they are mirrored. Returns
   * whether the view changed.
   *
   * @example
   * ```ts
   * import { TableView } from "./table_view.ts";
   * const view = new TableView({ tables: [254] });
   * const nh = { family: 2, scope: 253, protocol: 0, flags: 0, id: 10, oif: 2 };
   * view.reset("routes", [{ family: 2, table: 254, dst: "10.0.0.0", dstLen: 8, srcLen: 0,
   *   tos: 0, protocol: 4, scope: 0, type: 1, flags: 0, nhId: 10, oif: 2 }]);
   * view.applyNexthop("new", nh); // true
   * view.applyNexthop("del", nh); // true
   * view.routes(254).length; // 0: the route went with its object
   * ```
   */
  applyNexthop(op: ChangeOp, nexthop: NexthopObject): boolean {
    const previous = this.#nexthops.get(nexthop.id);
    if (op === "del") {
      this.#nexthops.delete(nexthop.id);
      const routes = this.#rewriteRoutes((r) => r.nhId === nexthop.id ? null : r);
      return previous !== undefined || routes;
    }
    const next = leanNexthop(nexthop);
    this.#nexthops.set(nexthop.id, next);
    return previous === undefined || !sameNexthop(previous, next);
  }

  /** The addresses, optionally of one link only. */
  addresses(index?: number): Address[] {
    const all = [...this.#addresses.values()];
    return index === undefined ? all : all.filter((a) => a.index === index);
  }

  /**
   * Applies an `RTM_NEWROUTE` / `RTM_DELROUTE` event. `headerFlags` are the event's `nlmsg_flags`
   * (`NLM_F_REPLACE`, `NLM_F_APPEND` decide where a new route goes). Returns whether the view
   * changed. The view may keep a compact copy of `route` (with the same `dst` string: a copy that
   * linkmirror made from a source route shares that route's).
   *
   * @example
   * ```ts
   * import { TableView } from "./table_view.ts";
   * const view = new TableView({ tables: [100] });
   * const r = { family: 2, table: 100, dst: "10.0.0.0", dstLen: 8, srcLen: 0, tos: 0,
   *   protocol: 77, scope: 253, type: 1, flags: 0, oif: 2 };
   * view.applyRoute("new", r, 0x600); // true
   * view.applyRoute("new", { ...r, oif: 3 }, 0x100); // true: NLM_F_REPLACE, oif 2 is gone
   * view.routes(100).map((x) => x.oif); // [3]
   * ```
   */
  applyRoute(op: ChangeOp, route: Route, headerFlags = 0): boolean {
    if (!this.#tracks(route)) return false;
    this.#changing(route);
    if (op === "del") return this.#deleteRoute(route);
    // No search for an equal `dst` string in the other tables, as a dump's routes get: a copy
    // linkmirror makes holds its source's string already, and an event's route seldom has a
    // twin the view holds (a lookup per event was ~8% of a burst's CPU profile).
    return this.#addRoute(compactRoute(route, route.dst) ?? route, headerFlags);
  }

  /**
   * Applies an `RTM_NEWLINK` / `RTM_DELLINK` event, with the route changes the kernel makes without
   * notifications (module documentation, cases a, c, d, g, h). Returns whether the view changed.
   */
  applyLink(op: ChangeOp, link: Link): boolean {
    const index = link.index;
    if (op === "del") {
      const known = this.#links.delete(index);
      let changed = known;
      for (const [key, address] of this.#addresses) {
        if (address.index === index) changed = this.#addresses.delete(key) || changed;
      }
      return this.#rewriteRoutes((r) => this.#onLinkGone(r, index)) || changed;
    }
    const previous = this.#links.get(index);
    this.#links.set(index, link);
    let changed = previous === undefined || !sameLink(previous, link);
    const up = (link.flags & IFF.UP) !== 0;
    if (!up) {
      changed = this.#rewriteRoutes((r) => this.#onLinkDown(r, index, false)) || changed;
    } else {
      const revived = previous !== undefined && (previous.flags & IFF.UP) === 0;
      const carrier = (link.flags & (IFF.RUNNING | IFF.LOWER_UP)) !== 0;
      changed = this.#rewriteRoutes((r) => this.#onLinkState(r, index, revived, carrier)) ||
        changed;
    }
    if (previous?.mtu !== undefined && link.mtu !== previous.mtu && this.#hasV6MetricsVia(index)) {
      this.requestResync(`IPv6 route metrics via link ${index} follow its MTU change`);
    }
    return changed;
  }

  /**
   * Applies an `RTM_NEWADDR` / `RTM_DELADDR` event, with the route changes the kernel makes without
   * notifications (module documentation, cases b and e). Returns whether the view changed; an
   * update that only ends duplicate address detection or deprecates the address, or renews its
   * lifetimes, is kept but is no change (nothing reading the view looks at those).
   */
  applyAddress(op: ChangeOp, address: Address): boolean {
    const key = addressKey(address);
    if (op === "new") {
      const previous = this.#addresses.get(key);
      this.#addresses.set(key, address);
      let changed = previous === undefined || !sameAddress(previous, address);
      const link = this.#links.get(address.index);
      if (address.family === AF.INET && link && (link.flags & IFF.UP) !== 0) {
        // fib_inetaddr_event(NETDEV_UP) → fib_sync_up(RTNH_F_DEAD): dead IPv4 hops revive.
        const carrier = (link.flags & (IFF.RUNNING | IFF.LOWER_UP)) !== 0;
        changed = this.#rewriteRoutes((r) =>
          r.family === AF.INET ? this.#onLinkState(r, address.index, true, carrier) : r
        ) || changed;
      }
      return changed;
    }
    let changed = this.#addresses.delete(key);
    const local = addressLocal(address);
    if (local === undefined) return changed;
    if (address.family === AF.INET) {
      const stillThere = [...this.#addresses.values()].some((a) =>
        a.family === AF.INET && addressLocal(a) === local
      );
      if (!stillThere) {
        // fib_sync_down_addr: main-table routes with this prefsrc (VRFs not modelled).
        changed = this.#rewriteRoutes((r) =>
          r.family === AF.INET && r.table === RT_TABLE.MAIN && r.prefsrc === local ? null : r
        ) || changed;
      }
      const lastOnLink = !this.addresses(address.index).some((a) => a.family === AF.INET);
      if (lastOnLink) {
        // fib_disable_ip(force): every IPv4 route via the link, whatever its scope.
        changed = this.#rewriteRoutes((r) =>
          r.family === AF.INET ? this.#onLinkDown(r, address.index, true) : r
        ) || changed;
      }
    } else if (address.family === AF.INET6) {
      changed = this.#rewriteRoutes((r) => {
        if (r.family !== AF.INET6 || r.prefsrc !== local || !hasHopOn(r, address.index)) return r;
        if (r.multipath) {
          this.requestResync(`IPv6 multipath route ${r.dst}/${r.dstLen} lost prefsrc ${local}`);
          return r;
        }
        const { prefsrc: _prefsrc, ...rest } = r;
        return rest;
      }) || changed;
    }
    return changed;
  }

  /**
   * `route` as it is stored: compact ({@linkcode compactRoute}) where that saves memory, and with
   * the `dst` string of another table's routes to the same address when there are any (a copy
   * shares its source's; `route.dst` is set to that equal string). For the routes of a dump,
   * whose strings are all new; an event's route needs no search (see
   * {@linkcode TableView.applyRoute}).
   */
  #compact(route: Route): Route {
    let twin: Route | undefined;
    const own = this.#routes.get(route.table);
    // An indexed loop over a list: an iterator of the map would be an object per route.
    const maps = this.#slotMaps;
    for (let i = 0; i < maps.length; i++) {
      const slots = maps[i];
      if (slots === own) continue;
      const slot = slots.get(route.dst);
      if (slot === undefined) continue;
      twin = Array.isArray(slot) ? slot[0][0] : slot;
      break;
    }
    const compact = compactRoute(route, twin?.dst ?? route.dst);
    if (compact !== undefined) return compact;
    // Strings compare by value: this keeps one of two equal strings, not a different address.
    if (twin !== undefined) route.dst = twin.dst;
    return route;
  }

  #tracks(route: Route): boolean {
    return (route.family === AF.INET || route.family === AF.INET6) &&
      this.tables.has(route.table) && (route.flags & RTM_F.CLONED) === 0;
  }

  /**
   * The routes of `route`'s replace group, as a new array (empty when it has none): change it,
   * then write it back with {@linkcode TableView.#store}.
   */
  #group(route: Route): Route[] {
    const slots = this.#routes.get(route.table);
    if (!slots) throw new Error(`Table ${route.table} is not tracked`);
    const slot = slots.get(route.dst);
    if (slot === undefined) return [];
    if (!Array.isArray(slot)) return sameReplaceGroup(slot, route) ? [slot] : [];
    const group = slot.find((g) => sameReplaceGroup(g[0], route));
    return group ? [...group] : [];
  }

  /**
   * Writes back the routes of `route`'s replace group (empty: the group is gone). A new group
   * comes after the other groups of its destination; a destination whose last route goes is
   * forgotten.
   */
  #store(route: Route, group: Route[]): void {
    const slots = this.#routes.get(route.table)!;
    const slot = slots.get(route.dst);
    if (slot === undefined) {
      if (group.length === 1) slots.set(route.dst, group[0]);
      else if (group.length > 1) slots.set(route.dst, [group]);
      return;
    }
    const groups = groupsOf(slot);
    const at = groups.findIndex((g) => sameReplaceGroup(g[0], route));
    if (at < 0) {
      if (group.length > 0) groups.push(group);
    } else if (group.length > 0) groups[at] = group;
    else groups.splice(at, 1);
    this.#setSlot(slots, route.dst, groups);
  }

  /** Stores a destination's groups in their most compact form (none: the entry goes). */
  #setSlot(slots: Map<string, Slot>, dst: string, groups: Route[][]): void {
    if (groups.length === 0) slots.delete(dst);
    else if (groups.length === 1 && groups[0].length === 1) slots.set(dst, groups[0][0]);
    else slots.set(dst, groups);
  }

  /**
   * Stores `route` as its destination's slot when its table has none for that destination yet
   * (most routes of a dump and most adds of a burst: whatever the flags say, the route is then
   * alone there), with no group array to make and drop; returns whether it did.
   */
  #storeFirst(route: Route): boolean {
    const slots = this.#routes.get(route.table);
    if (slots === undefined || slots.has(route.dst)) return false;
    slots.set(route.dst, route);
    return true;
  }

  #addRoute(route: Route, headerFlags: number): boolean {
    if (this.#storeFirst(route)) return true;
    const group = this.#group(route);
    const changed = this.#addTo(group, route, headerFlags);
    this.#store(route, group);
    return changed;
  }

  /** {@linkcode TableView.#addRoute} on `group`, the new route's replace group. */
  #addTo(group: Route[], route: Route, headerFlags: number): boolean {
    const replace = (headerFlags & NLM_F.REPLACE) !== 0;
    if (route.family === AF.INET) {
      if (replace && group.length > 0) {
        // fib_table_insert replaces the first alias of (tos, priority).
        return this.#overwrite(group, 0, route);
      }
      const same = this.#find(group, route);
      if (same >= 0) return this.#overwrite(group, same, route);
      if (headerFlags & NLM_F.APPEND) group.push(route);
      else group.unshift(route);
      return true;
    }
    // IPv6.
    const capable = ecmpCapable(route);
    if (replace) {
      const candidates = group.filter((r) => ecmpCapable(r) === capable);
      if (candidates.length > 1) {
        this.requestResync(
          `IPv6 replace of ${route.dst}/${route.dstLen} in table ${route.table} is ambiguous`,
        );
      }
      if (candidates.length > 0) {
        this.#changing(candidates[0]);
        group[group.indexOf(candidates[0])] = route;
        return true;
      }
      group.push(route);
      return true;
    }
    const same = this.#find(group, route);
    if (same >= 0) return this.#overwrite(group, same, route);
    const sibling = capable ? group.findIndex((r) => ecmpCapable(r)) : -1;
    if (sibling >= 0) {
      // The kernel merged the new route into an ECMP group; its notification lists the group.
      const old = group[sibling];
      const oldHops = old.multipath ?? [{ oif: old.oif ?? 0, gateway: old.gateway, hops: 0 }];
      const newHops = new Set((route.multipath ?? []).map((h) => `${h.oif}/${h.gateway ?? ""}`));
      if (oldHops.every((h) => newHops.has(`${h.oif}/${h.gateway ?? ""}`))) {
        this.#changing(old);
        group[sibling] = route;
        return true;
      }
      this.requestResync(
        `IPv6 route ${route.dst}/${route.dstLen} in table ${route.table} joined an ECMP group`,
      );
    }
    group.push(route);
    return true;
  }

  /**
   * Where `route`'s identity ({@linkcode viewKey}) is in `group`, or -1; a new group (most adds
   * in a burst) costs no key.
   */
  #find(group: readonly Route[], route: Route): number {
    if (group.length === 0) return -1;
    const key = viewKey(route);
    return group.findIndex((r) => viewKey(r) === key);
  }

  #overwrite(group: Route[], at: number, route: Route): boolean {
    this.#changing(group[at]);
    const changed = !sameState(group[at], route);
    group[at] = route;
    return changed;
  }

  #deleteRoute(route: Route): boolean {
    const group = this.#group(route);
    const changed = this.#deleteFrom(group, route);
    if (changed) this.#store(route, group);
    return changed;
  }

  /** {@linkcode TableView.#deleteRoute} on `group`, the deleted route's replace group. */
  #deleteFrom(group: Route[], route: Route): boolean {
    const at = this.#find(group, route);
    if (at >= 0) {
      this.#changing(group[at]);
      group.splice(at, 1);
      return true;
    }
    if (route.family !== AF.INET6 || route.multipath || route.oif === undefined) return false;
    // One hop of an IPv6 multipath route, notified alone.
    for (let i = 0; i < group.length; i++) {
      const r = group[i];
      if (!r.multipath || r.protocol !== route.protocol || r.type !== route.type) continue;
      const hop = r.multipath.findIndex((h) =>
        h.oif === route.oif && (h.gateway ?? "") === (route.gateway ?? "")
      );
      if (hop < 0) continue;
      const rest = r.multipath.filter((_, j) => j !== hop);
      this.#changing(r);
      group[i] = rest.length === 1 ? collapse(r, rest[0]) : withHops(r, rest);
      return true;
    }
    return false;
  }

  /**
   * Rewrites every tracked route: `f` returns the route unchanged, a new route, or `null` to drop
   * it. Returns whether anything changed.
   */
  #rewriteRoutes(f: (route: Route) => Route | null): boolean {
    let changed = false;
    for (const slots of this.#routes.values()) {
      for (const [dst, slot] of slots) {
        if (!Array.isArray(slot)) {
          const next = f(slot);
          if (next === slot) continue;
          changed = true;
          this.#changing(slot);
          if (next === null) slots.delete(dst);
          else slots.set(dst, next);
          continue;
        }
        let touched = false;
        for (const group of slot) {
          for (let i = group.length - 1; i >= 0; i--) {
            const next = f(group[i]);
            if (next === group[i]) continue;
            touched = true;
            this.#changing(group[i]);
            if (next === null) group.splice(i, 1);
            else group[i] = next;
          }
        }
        if (!touched) continue;
        changed = true;
        this.#setSlot(slots, dst, slot.filter((g) => g.length > 0));
      }
    }
    return changed;
  }

  #needsNexthopObjects(route: Route, index: number): boolean {
    if (route.nhId === undefined) return false;
    if (route.oif === undefined || route.oif === index) {
      this.requestResync(`route ${route.dst}/${route.dstLen} uses nexthop object ${route.nhId}`);
    }
    return true;
  }

  /**
   * Link `index` went admin down (`force` false: `fib_sync_down_dev(NETDEV_DOWN)` and IPv6
   * `fib6_ifdown`) or lost its last IPv4 address (`force` true, IPv4 only: scope is ignored).
   */
  #onLinkDown(route: Route, index: number, force: boolean): Route | null {
    if (!hasHopOn(route, index) || this.#needsNexthopObjects(route, index)) return route;
    if (!route.multipath) {
      if (route.family === AF.INET && !force && route.scope === RT_SCOPE.HOST) return route;
      return null;
    }
    const hops = route.multipath.map((h) =>
      h.oif === index && (h.flags & LINK_STATE_FLAGS) !== LINK_STATE_FLAGS
        ? { ...h, flags: h.flags | LINK_STATE_FLAGS }
        : h
    );
    // fib_sync_down_dev counts hops that were dead already: when none is left alive, the route
    // itself is dead and flushed (IPv6: rt6_multipath_dead_count does the same).
    if (hops.every((h) => (h.flags & RTNH_F.DEAD) !== 0)) return null;
    return withHops(route, hops);
  }

  /** Link `index` is gone (`NETDEV_UNREGISTER`). */
  #onLinkGone(route: Route, index: number): Route | null {
    if (!hasHopOn(route, index) || this.#needsNexthopObjects(route, index)) return route;
    if (!route.multipath || route.family === AF.INET) return null;
    const rest = route.multipath.filter((h) => h.oif !== index);
    if (rest.length === 0) return null;
    return rest.length === 1 ? collapse(route, rest[0]) : withHops(route, rest);
  }

  /** Link `index` is up: revive dead hops if it just came up, and mirror its carrier. */
  #onLinkState(route: Route, index: number, revived: boolean, carrier: boolean): Route {
    if (!hasHopOn(route, index) || this.#needsNexthopObjects(route, index)) return route;
    const linkdown = carrier ? 0 : RTNH_F.LINKDOWN;
    if (!route.multipath) {
      // Never flagged: IPv4 scope-host next hops (nh scope NOWHERE) and IPv6 local routes.
      if (route.family === AF.INET && route.scope === RT_SCOPE.HOST) return route;
      if (route.family === AF.INET6 && route.type === RTN.LOCAL) return route;
      return withFlags(route, (route.flags & ~RTNH_F.LINKDOWN) | linkdown);
    }
    return withHops(
      route,
      route.multipath.map((h) => {
        if (h.oif !== index) return h;
        let flags = h.flags;
        if (revived) flags &= ~RTNH_F.DEAD;
        if (!(flags & RTNH_F.DEAD)) flags = (flags & ~RTNH_F.LINKDOWN) | linkdown;
        return flags === h.flags ? h : { ...h, flags };
      }),
    );
  }

  #hasV6MetricsVia(index: number): boolean {
    for (const table of this.tables) {
      for (const r of this.routes(table)) {
        if (r.family === AF.INET6 && hasHopOn(r, index) && r.metrics !== undefined) return true;
      }
    }
    return false;
  }
}
