/**
 * {@linkcode RtnlClient}: the typed operations linkmirror needs from the kernel — dump routes of a
 * table, links, addresses and rules; add and delete routes in batches — on top of
 * {@linkcode Conn} and the codec. The only place where route changes become netlink requests.
 *
 * @module
 */

import { ownIpv4RouteFilter } from "./own_route_filter.ts";
import { type Address, decodeAddress, IFADDRMSG_LEN } from "../netlink/address.ts";
import { AttributeEncoder } from "../netlink/attributes.ts";
import { AF, NLM_F, NLMSG_HDRLEN, RTA, RTM, RTM_F } from "../netlink/constants.ts";
import { Conn, type MessageDecoder } from "../netlink/conn.ts";
import { ERRNO, NetlinkError } from "../netlink/errors.ts";
import { formatCidr, parseIp } from "../netlink/ip.ts";
import { decodeLink, IFINFOMSG_LEN, type Link } from "../netlink/link.ts";
import { decodeNexthop, type NexthopObject, NHMSG_LEN } from "../netlink/nexthop.ts";
import {
  decodeRoute,
  decodeRouteAt,
  encodeRouteInto,
  type Route,
  RTMSG_LEN,
} from "../netlink/route.ts";
import { RequestBatch } from "../netlink/request_batch.ts";
import { decodeRule, FIB_RULE_HDR_LEN, type Rule } from "../netlink/rule.ts";
import { ATTACH_FILTER_OP, NetlinkSocket, type NetlinkSocketOptions } from "../netlink/socket.ts";
import type { Transport } from "../netlink/transport.ts";
import { ConnSubscription, type Subscription } from "./subscription.ts";

/** Options of {@linkcode RtnlClient.subscribe}. */
export interface SubscribeOptions {
  /** Receive buffer to ask for, in bytes (see {@linkcode NetlinkSocketOptions.receiveBuffer}). */
  receiveBuffer?: number;
  /**
   * Drop the notifications of this client's own IPv4 route changes in the kernel
   * ({@linkcode ownIpv4RouteFilter}): the subscriber applies what it changed itself.
   */
  dropOwnIpv4Routes?: boolean;
}

/** Opens the socket of a subscription: joined to `groups`, with the given receive buffer. */
export type OpenEventTransport = (options: NetlinkSocketOptions) => Transport;

/** One change to a routing table. */
export interface RouteChange {
  /**
   * Add a copy, replace ours of the same slot atomically (`NLM_F_REPLACE`), or delete one of
   * ours.
   */
  op: "add" | "replace" | "delete";
  /** The route, with its table set. */
  route: Route;
}

/** The outcome of one {@linkcode RouteChange}: `error` is null when the kernel acknowledged it. */
export interface ChangeResult {
  /** The change. */
  change: RouteChange;
  /** The kernel's refusal, if any. */
  error: NetlinkError | null;
}

/** What to dump: one family or both, one table or all. */
export interface RouteFilter {
  /** `AF_INET`, `AF_INET6`, or undefined for both. */
  family?: number;
  /** A table id, or undefined for every table. */
  table?: number;
  /** Only routes of this `rtm_protocol` (filtered by the kernel). */
  protocol?: number;
  /**
   * The table must exist in at least one of the families: otherwise {@linkcode MissingTableError}
   * instead of an empty list (for a source table, where "empty" would delete every copy).
   */
  mustExist?: boolean;
}

/** A table that a dump required to exist is in no family the kernel knows. */
export class MissingTableError extends Error {
  /** The table id. */
  readonly table: number;
  /** Creates the error for `table`. */
  constructor(table: number) {
    super(`table ${table} does not exist (it holds no route of any family)`);
    this.name = "MissingTableError";
    this.table = table;
  }
}

/** A route lookup, as `ip route get` makes it (`RTM_GETROUTE` without `NLM_F_DUMP`). */
export interface RouteGetRequest {
  /** The destination address (IPv4 or IPv6); the family follows from it. */
  dst: string;
  /** `RTA_MARK`: look up as a packet carrying this fwmark (`ip route get ... mark M`). */
  mark?: number;
  /**
   * `RTM_F_FIB_MATCH`: answer with the routing-table entry that matched (with its table,
   * protocol, prefix) instead of the resolved destination (`ip route get fibmatch ...`).
   */
  fibMatch?: boolean;
  /** `RTA_SRC`: the source address. */
  src?: string;
  /** `RTA_OIF`: the output interface index. */
  oif?: number;
  /** `RTA_IIF`: look up as if the packet arrived on this interface index. */
  iif?: number;
  /** `RTA_UID`: look up as this user (default: the caller's). */
  uid?: number;
}

/**
 * The request payload of a route lookup: `rtmsg` with a host prefix, `RTM_F_LOOKUP_TABLE` (IPv4)
 * and `RTM_F_FIB_MATCH` (when asked), and the given attributes — what `ip route get` sends.
 */
export function routeGetPayload(request: RouteGetRequest): Uint8Array {
  const dst = parseIp(request.dst);
  const bits = dst.bytes.length * 8;
  const attrs = new AttributeEncoder();
  attrs.raw({ type: RTA.DST, data: dst.bytes });
  let srcLen = 0;
  if (request.src !== undefined) {
    const src = parseIp(request.src);
    if (src.family !== dst.family) {
      throw new NetlinkError("route get", ERRNO.EINVAL, "source and destination families differ");
    }
    attrs.raw({ type: RTA.SRC, data: src.bytes });
    srcLen = bits;
  }
  if (request.iif !== undefined) attrs.u32(RTA.IIF, request.iif);
  if (request.oif !== undefined) attrs.u32(RTA.OIF, request.oif);
  if (request.mark !== undefined) attrs.u32(RTA.MARK, request.mark);
  if (request.uid !== undefined) attrs.u32(RTA.UID, request.uid);
  const body = attrs.finish();
  const out = new Uint8Array(RTMSG_LEN + body.length);
  out[0] = dst.family;
  out[1] = bits;
  out[2] = srcLen;
  // RTM_F_LOOKUP_TABLE: without it, IPv4 answers name table main whichever table matched. IPv6
  // always names the table, and its strict checks refuse any flag but RTM_F_FIB_MATCH.
  const lookupTable = dst.family === AF.INET ? RTM_F.LOOKUP_TABLE : 0;
  const flags = lookupTable | (request.fibMatch ? RTM_F.FIB_MATCH : 0);
  new DataView(out.buffer).setUint32(8, flags, true);
  out.set(body, RTMSG_LEN);
  return out;
}

/** The kernel operations the engine uses; {@linkcode RtnlClient} is the real one. */
export interface RouteStore {
  /** Routes matching `filter`, in the kernel's dump order. */
  routes(filter: RouteFilter): Route[];
  /** Every link. */
  links(): Link[];
  /** Every address of both families. */
  addresses(): Address[];
  /** Applies `changes` in order, in as few datagrams as possible; one result per change. */
  apply(changes: readonly RouteChange[]): ChangeResult[];
  /** Every nexthop object of the namespace (absent: the store knows none). */
  nexthops?(): NexthopObject[];
}

/** A route in `ip route` words, for error messages: `192.168.1.0/24 table 539098368`. */
export function describeRoute(route: Route): string {
  const dst = formatCidr({ family: route.family, address: route.dst, prefixLen: route.dstLen });
  return `${dst}${route.oif !== undefined ? ` oif ${route.oif}` : ""} table ${route.table}`;
}

/** The request payload of a route dump: an empty `rtmsg` with the kernel-side filters set. */
function routeDumpPayload(filter: RouteFilter): Uint8Array {
  const attrs = new AttributeEncoder();
  if (filter.table !== undefined) attrs.u32(RTA.TABLE, filter.table);
  const body = attrs.finish();
  const out = new Uint8Array(RTMSG_LEN + body.length);
  out[0] = filter.family ?? AF.UNSPEC;
  out[4] = filter.table !== undefined && filter.table < 256 ? filter.table : 0;
  out[5] = filter.protocol ?? 0;
  out.set(body, RTMSG_LEN);
  return out;
}

/**
 * The route a delete request is encoded from, reused: {@linkcode encodeDeleteInto} fills it, so
 * that deleting 10k copies allocates no route per delete.
 */
const DELETE_ROUTE: Route = {
  family: 0,
  table: 0,
  dst: "",
  dstLen: 0,
  src: undefined,
  srcLen: 0,
  tos: 0,
  protocol: 0,
  scope: 0,
  type: 0,
  flags: 0,
  oif: undefined,
  gateway: undefined,
  priority: undefined,
  prefsrc: undefined,
  nhId: undefined,
};

/**
 * Writes the payload of a request that deletes `route` (a `PayloadWriter`): its
 * identity fields and our protocol, `flags` 0, without the attributes a dump adds (cache info,
 * metrics, expiry, realms, preference, next hops, other attributes) that a request must not
 * carry.
 */
function encodeDeleteInto(route: Route, out: Uint8Array, off: number): number {
  const d = DELETE_ROUTE;
  d.family = route.family;
  d.table = route.table;
  d.dst = route.dst;
  d.dstLen = route.dstLen;
  d.src = route.src;
  d.srcLen = route.srcLen;
  d.tos = route.tos;
  d.protocol = route.protocol;
  d.scope = route.scope;
  d.type = route.type;
  d.priority = route.priority;
  d.prefsrc = route.prefsrc;
  d.nhId = route.nhId;
  // The kernel refuses a device or gateway next to a nexthop id; a dump reports the object's.
  d.oif = route.nhId === undefined ? route.oif : undefined;
  d.gateway = route.nhId === undefined ? route.gateway : undefined;
  return encodeRouteInto(d, out, off);
}

/** A route as an add or replace request carries it: without what only dumps report. */
function addable(route: Route): Route {
  if (route.cacheinfo === undefined) return route;
  const { cacheinfo: _c, ...rest } = route;
  return rest;
}

/**
 * Appends the request of `change` to `batch`, its route encoded in place: `RTM_NEWROUTE` with
 * `NLM_F_CREATE` (and `NLM_F_EXCL` for IPv4) to add, with `NLM_F_CREATE | NLM_F_REPLACE` to
 * replace, `RTM_DELROUTE` to delete.
 */
function appendChange(batch: RequestBatch, change: RouteChange): void {
  const { route } = change;
  if (change.op === "add") {
    // IPv6 keeps several routes with one prefix and metric on different devices; NLM_F_EXCL
    // would refuse a second `fe80::/64`. IPv4 identity has no device: EXCL refuses a clash.
    const flags = NLM_F.CREATE | (route.family === AF.INET ? NLM_F.EXCL : 0);
    batch.add(RTM.NEWROUTE, flags, encodeRouteInto, addable(route));
  } else if (change.op === "replace") {
    // One atomic swap of the route in the slot (`ip route replace`); CREATE if it vanished.
    batch.add(RTM.NEWROUTE, NLM_F.CREATE | NLM_F.REPLACE, encodeRouteInto, addable(route));
  } else {
    batch.add(RTM.DELROUTE, 0, encodeDeleteInto, route);
  }
}

/** What a change does, for its error message: `add route 192.168.1.0/24 oif 3 table 100`. */
function changeOp(change: RouteChange): string {
  return `${change.op} route ${describeRoute(change.route)}`;
}

/** A dump's `RTM_NEWROUTE` message decoded in place; other messages are skipped. */
const decodeDumpedRoute: MessageDecoder<Route> = (data, view, offset, length) =>
  view.getUint16(offset + 4, true) === RTM.NEWROUTE
    ? decodeRouteAt(data, view, offset + NLMSG_HDRLEN, offset + length)
    : undefined;

/**
 * A decoder of a dump's routes of `table` and `protocol` (each when given) that skips the others
 * as it decodes: older kernels ignore the dump's filters. One pass, no second walk of the list.
 */
function dumpedRouteDecoder(
  table: number | undefined,
  protocol: number | undefined,
): MessageDecoder<Route> {
  if (table === undefined && protocol === undefined) return decodeDumpedRoute;
  return (data, view, offset, length) => {
    const route = decodeDumpedRoute(data, view, offset, length);
    if (route === undefined) return undefined;
    if (table !== undefined && route.table !== table) return undefined;
    if (protocol !== undefined && route.protocol !== protocol) return undefined;
    return route;
  };
}

/** The real {@linkcode RouteStore}: rtnetlink over a {@linkcode Conn}. */
export class RtnlClient implements RouteStore {
  /** The connection requests go over. */
  readonly conn: Conn;

  readonly #openEvents: OpenEventTransport;

  /**
   * Wraps an open connection. `openEvents` opens the sockets of {@linkcode RtnlClient.subscribe}
   * (default: a real netlink socket; tests pass a fake kernel's).
   */
  constructor(conn: Conn, options: { openEvents?: OpenEventTransport } = {}) {
    this.conn = conn;
    this.#openEvents = options.openEvents ?? ((o) => NetlinkSocket.open(o));
  }

  /**
   * The request socket's netlink port id. The kernel's notification of a change this client
   * made carries it as the sender (`nlmsg_pid`): `rtm_to_fib_config` / `rtm_to_fib6_config` take
   * it from the request, `fib_dump_info` / `rt6_fill_node` write it into the header.
   */
  get port(): number {
    return this.conn.transport.pid;
  }

  /**
   * Subscribes to the multicast `groups` (`RTNLGRP_*`) on a socket of its own: from now on the
   * kernel's notifications queue up for {@linkcode Subscription.drain}, decoded. Subscribe
   * before dumping, so that no change between the dump and the subscription is lost.
   *
   * @example
   * ```ts ignore
   * import { RtnlClient } from "./client.ts";
   * import { RTNLGRP } from "../netlink/constants.ts";
   * const client = RtnlClient.open();
   * const events = client.subscribe([RTNLGRP.IPV4_ROUTE], { receiveBuffer: 4 << 20 });
   * const routes = client.routes({ table: 254 });
   * while ((await events.wait()) === "readable") {
   *   for (const e of events.drain().events) if (e.kind === "route") console.log(e.op, e.route);
   * }
   * ```
   */
  subscribe(groups: readonly number[], options: SubscribeOptions = {}): Subscription {
    let drop = (options.dropOwnIpv4Routes ?? false) && this.port !== 0;
    const socket = { groups, receiveBuffer: options.receiveBuffer };
    let transport: Transport;
    try {
      transport = this.#openEvents(
        drop ? { ...socket, filter: ownIpv4RouteFilter(this.port) } : socket,
      );
    } catch (e) {
      // A kernel or sandbox refusing socket filters: the notifications come, as without one.
      if (!drop || !(e instanceof NetlinkError) || e.op !== ATTACH_FILTER_OP) throw e;
      drop = false;
      transport = this.#openEvents(socket);
    }
    return new ConnSubscription(new Conn(transport), { ownIpv4RoutesDropped: drop });
  }

  /** Opens a request socket (not subscribed to events) and wraps it. */
  static open(options: NetlinkSocketOptions = {}): RtnlClient {
    return new RtnlClient(new Conn(NetlinkSocket.open(options)));
  }

  /**
   * Routes matching `filter`. A table that does not exist yet (the kernel answers `ENOENT` to a
   * dump filtered on it) is empty, unless `filter.mustExist`.
   */
  routes(filter: RouteFilter): Route[] {
    const families = filter.family !== undefined ? [filter.family] : [AF.INET, AF.INET6];
    const { table, protocol } = filter;
    const decode = dumpedRouteDecoder(table, protocol);
    let out: Route[] | undefined;
    let missing = 0;
    for (const family of families) {
      let routes: Route[];
      try {
        routes = this.conn.dumpDecoded(
          RTM.GETROUTE,
          routeDumpPayload({ ...filter, family }),
          decode,
        );
      } catch (e) {
        if (e instanceof NetlinkError && e.errno === ERRNO.ENOENT) {
          missing++;
          continue;
        }
        throw e;
      }
      if (out === undefined) out = routes;
      else for (let i = 0; i < routes.length; i++) out.push(routes[i]);
    }
    if (filter.mustExist && table !== undefined && missing === families.length) {
      throw new MissingTableError(table);
    }
    return out ?? [];
  }

  /**
   * Whether the kernel lets this socket change routes: sends an `RTM_DELROUTE` it cannot act on
   * (family `AF_UNSPEC`, no route). rtnetlink checks `CAP_NET_ADMIN` — in the user namespace that
   * owns the network namespace, which the capability set does not tell — before it looks for a
   * handler, so the answer is `EPERM` without the capability and `EOPNOTSUPP` with it. Changes
   * nothing.
   */
  canChangeRoutes(): boolean {
    try {
      this.conn.request(RTM.DELROUTE, new Uint8Array(RTMSG_LEN), 0, "probe route changes");
      return true;
    } catch (e) {
      if (e instanceof NetlinkError) return e.errno !== ERRNO.EPERM && e.errno !== ERRNO.EACCES;
      throw e;
    }
  }

  /** Every link. */
  links(): Link[] {
    return this.conn.dumpDecoded(
      RTM.GETLINK,
      new Uint8Array(IFINFOMSG_LEN),
      (data, view, offset, length) =>
        view.getUint16(offset + 4, true) === RTM.NEWLINK
          ? decodeLink(data.subarray(offset + NLMSG_HDRLEN, offset + length))
          : undefined,
    );
  }

  /** Every address of `family` (both when undefined). */
  addresses(family?: number): Address[] {
    const payload = new Uint8Array(IFADDRMSG_LEN);
    payload[0] = family ?? AF.UNSPEC;
    return this.conn.dumpDecoded(
      RTM.GETADDR,
      payload,
      (data, view, offset, length) =>
        view.getUint16(offset + 4, true) === RTM.NEWADDR
          ? decodeAddress(data.subarray(offset + NLMSG_HDRLEN, offset + length))
          : undefined,
    );
  }

  /**
   * Every nexthop object of the namespace (`ip nexthop show`). A kernel built without nexthop
   * objects (`EOPNOTSUPP`) has none.
   */
  nexthops(): NexthopObject[] {
    try {
      return this.conn.dump(RTM.GETNEXTHOP, new Uint8Array(NHMSG_LEN))
        .filter((m) => m.header.type === RTM.NEWNEXTHOP)
        .map((m) => decodeNexthop(m.payload));
    } catch (e) {
      if (e instanceof NetlinkError && e.errno === ERRNO.EOPNOTSUPP) return [];
      throw e;
    }
  }

  /** Every policy rule of `family`. */
  rules(family: number): Rule[] {
    const payload = new Uint8Array(FIB_RULE_HDR_LEN);
    payload[0] = family;
    return this.conn.dump(RTM.GETRULE, payload)
      .filter((m) => m.header.type === RTM.NEWRULE)
      .map((m) => decodeRule(m.payload));
  }

  /**
   * Looks a destination up the way the kernel routes a locally sent packet (`ip route get`),
   * through the policy rules. Returns the kernel's answer as a {@linkcode Route}: with
   * `fibMatch`, the table entry that matched (its `table`, `protocol`, prefix, `oif`...);
   * without, the resolved destination (host prefix, `oif`, `gateway`, `prefsrc`, the `table` the
   * route came from, `RTM_F_CLONED`). Throws {@linkcode NetlinkError} when the kernel finds no
   * route (`ENETUNREACH`) or the lookup ends in a rule or route that refuses the packet
   * (`EHOSTUNREACH`, `EACCES`, `EINVAL`).
   *
   * @example
   * ```ts ignore
   * const client = RtnlClient.open();
   * client.routeGet({ dst: "192.168.188.1", fibMatch: true }).table; // 539098368
   * client.routeGet({ dst: "192.168.188.1", mark: 0xfd002021 }).oif; // 2
   * ```
   */
  routeGet(request: RouteGetRequest): Route {
    const payload = routeGetPayload(request);
    const op = `route get ${request.dst}${
      request.mark !== undefined ? ` mark ${request.mark}` : ""
    }`;
    const replies = this.conn.request(RTM.GETROUTE, payload, 0, op);
    const reply = replies.find((m) => m.header.type === RTM.NEWROUTE);
    if (reply === undefined) throw new NetlinkError(op, ERRNO.ENOENT, "no route in the reply");
    return decodeRoute(reply.payload);
  }

  /** Applies `changes` in order, batched; one result per change. */
  apply(changes: readonly RouteChange[]): ChangeResult[] {
    if (changes.length === 0) return [];
    // Every request encoded straight into one buffer that the datagrams are cut from.
    const batch = new RequestBatch(changes.length * 96 + 256); // At most one full segment.
    for (const change of changes) appendChange(batch, change);
    const errors = this.conn.executeBatch(batch, (i) => changeOp(changes[i]));
    const results: ChangeResult[] = new Array(changes.length);
    for (let i = 0; i < changes.length; i++) results[i] = { change: changes[i], error: errors[i] };
    return results;
  }

  /** Closes the socket. */
  close(): void {
    this.conn.transport.close();
  }
}
