/**
 * Route messages (`struct rtmsg` + `RTA_*` attributes): the typed {@linkcode Route} and its codec.
 *
 * @module
 */

import {
  type Attribute,
  AttributeEncoder,
  attrString,
  attrU32,
  decodeAttributes,
  NLA_HDRLEN,
  NLA_TYPE_MASK,
} from "./attributes.ts";
import { AF, RT_TABLE, RTA, RTAX } from "./constants.ts";
import { DecodeError } from "./errors.ts";
import { inKernelOrder } from "./kernel_order.ts";
import {
  addressLength,
  formatIp,
  InvalidAddressError,
  ipv4Number,
  maxPrefixLen,
  parseIp,
} from "./ip.ts";
import { align } from "./message.ts";

/** One next hop of a multipath route (`struct rtnexthop` + its attributes). */
export interface Nexthop {
  /** Output interface index (`rtnh_ifindex`). */
  oif: number;
  /** `RTNH_F_*` bits. */
  flags: number;
  /** Weight minus one (`rtnh_hops`). */
  hops: number;
  /** `RTA_GATEWAY` of this hop, as text. */
  gateway?: string;
  /** `RTA_FLOW` of this hop (IPv4 realms: to-realm in the low 16 bits, from-realm in the high). */
  flow?: number;
  /** Attributes of the hop that are not modelled, kept for round trips. */
  other?: Attribute[];
}

/**
 * The metrics of a route (`RTA_METRICS`, nested `RTAX_*`), as the kernel stores and dumps them:
 * raw values, in the units of the kernel (`rtt`/`rttvar`/`rtoMin` as `ip` sends them). Only set
 * metrics are present. TCP reads them for connections the host originates (window, rtt, rttvar,
 * ssthresh, cwnd, advmss, reordering, initcwnd, initrwnd, rtoMin, quickack, congctl, features,
 * fastopenNoCookie); `mtu` also limits forwarded packets and `hoplimit` originated ones.
 */
export interface RouteMetrics {
  /** `RTAX_LOCK`: bit `1 << RTAX_x` locks metric x. */
  lock?: number;
  /** `RTAX_MTU`. */
  mtu?: number;
  /** `RTAX_WINDOW`: the TCP window clamp. */
  window?: number;
  /** `RTAX_RTT`. */
  rtt?: number;
  /** `RTAX_RTTVAR`. */
  rttvar?: number;
  /** `RTAX_SSTHRESH`. */
  ssthresh?: number;
  /** `RTAX_CWND`. */
  cwnd?: number;
  /** `RTAX_ADVMSS`. */
  advmss?: number;
  /** `RTAX_REORDERING`. */
  reordering?: number;
  /** `RTAX_HOPLIMIT`. */
  hoplimit?: number;
  /** `RTAX_INITCWND`. */
  initcwnd?: number;
  /** `RTAX_FEATURES` (`RTAX_FEATURE_*` bits). */
  features?: number;
  /** `RTAX_RTO_MIN`. */
  rtoMin?: number;
  /** `RTAX_INITRWND`. */
  initrwnd?: number;
  /** `RTAX_QUICKACK`. */
  quickack?: number;
  /** `RTAX_CC_ALGO`: the congestion control algorithm's name. */
  congctl?: string;
  /** `RTAX_FASTOPEN_NO_COOKIE`. */
  fastopenNoCookie?: number;
  /** Metrics this codec does not know, in order, kept for round trips. */
  other?: Attribute[];
}

/** The numeric metrics of {@linkcode RouteMetrics} (every field but `congctl` and `other`). */
export type NumericMetric = Exclude<keyof RouteMetrics, "congctl" | "other">;

/** `RTAX_*` type of each numeric metric, in the kernel's dump order. */
export const METRIC_TYPES: Readonly<Record<NumericMetric, number>> = Object.freeze({
  lock: RTAX.LOCK,
  mtu: RTAX.MTU,
  window: RTAX.WINDOW,
  rtt: RTAX.RTT,
  rttvar: RTAX.RTTVAR,
  ssthresh: RTAX.SSTHRESH,
  cwnd: RTAX.CWND,
  advmss: RTAX.ADVMSS,
  reordering: RTAX.REORDERING,
  hoplimit: RTAX.HOPLIMIT,
  initcwnd: RTAX.INITCWND,
  features: RTAX.FEATURES,
  rtoMin: RTAX.RTO_MIN,
  initrwnd: RTAX.INITRWND,
  quickack: RTAX.QUICKACK,
  fastopenNoCookie: RTAX.FASTOPEN_NO_COOKIE,
});

const METRIC_BY_TYPE: ReadonlyMap<number, NumericMetric> = new Map(
  (Object.entries(METRIC_TYPES) as [NumericMetric, number][]).map(([k, v]) => [v, k]),
);

/** `struct rta_cacheinfo` (`RTA_CACHEINFO`): what the kernel reports about a route's use. */
export interface RouteCacheInfo {
  /** `rta_clntref`. */
  clntref: number;
  /** `rta_lastuse` (clock ticks). */
  lastuse: number;
  /** `rta_expires`: clock ticks until the route expires, 0 for never (signed). */
  expires: number;
  /** `rta_error`. */
  error: number;
  /** `rta_used` (signed). */
  used: number;
  /** `rta_id`. */
  id: number;
  /** `rta_ts`. */
  ts: number;
  /** `rta_tsage`. */
  tsage: number;
}

/** Size of `struct rta_cacheinfo`. */
const CACHEINFO_LEN = 32;

/**
 * A route as rtnetlink carries it. Addresses are canonical text (`192.168.1.0`, `fe80::`).
 * `table` is the full 32-bit id: `RTA_TABLE` when present, else the 8-bit header field.
 */
export interface Route {
  /** `AF_INET` (2) or `AF_INET6` (10). */
  family: number;
  /** Routing table id (32 bits). */
  table: number;
  /** Destination prefix address; `0.0.0.0` / `::` for a default route. */
  dst: string;
  /** Destination prefix length. */
  dstLen: number;
  /** Source prefix (`RTA_SRC`, IPv6 source routing), if any. */
  src?: string;
  /** Source prefix length. */
  srcLen: number;
  /** Type of service / traffic class. */
  tos: number;
  /** `rtm_protocol`: who installed the route. */
  protocol: number;
  /** `rtm_scope`. */
  scope: number;
  /** `rtm_type` (`RTN_*`). */
  type: number;
  /** `rtm_flags` (`RTM_F_*`, `RTNH_F_*`). */
  flags: number;
  /** `RTA_OIF`: output interface index. */
  oif?: number;
  /** `RTA_GATEWAY`, as text. */
  gateway?: string;
  /** `RTA_PRIORITY`: the metric. */
  priority?: number;
  /** `RTA_PREFSRC`: preferred source address, as text. */
  prefsrc?: string;
  /** `RTA_METRICS`: MTU, advmss, congestion control and the other per-route metrics. */
  metrics?: RouteMetrics;
  /** `RTA_FLOW`: IPv4 realms (to-realm in the low 16 bits, from-realm in the high 16). */
  flow?: number;
  /** `RTA_CACHEINFO`: use counters and the remaining lifetime; see {@linkcode cacheExpires}. */
  cacheinfo?: RouteCacheInfo;
  /** `RTA_PREF`: IPv6 router preference (`ICMPV6_ROUTER_PREF_*`: 0 medium, 1 high, 3 low). */
  pref?: number;
  /**
   * `RTA_EXPIRES`: seconds until an IPv6 route expires, for `RTM_NEWROUTE`. The kernel reports
   * the countdown of existing routes in `RTA_CACHEINFO` instead; see {@linkcode cacheExpires}.
   */
  expires?: number;
  /** `RTA_MULTIPATH`: the next hops of a multipath route. */
  multipath?: Nexthop[];
  /** `RTA_NH_ID`: id of a nexthop object. */
  nhId?: number;
  /** Attributes that are not modelled above (encapsulation, `RTA_VIA`, unknown ones), in order. */
  other?: Attribute[];
}

/** Size of `struct rtmsg`, the fixed part of a route message before its attributes. */
export const RTMSG_LEN = 12;
/** Size of `struct rtnexthop`, the fixed part of each next hop in `RTA_MULTIPATH`. */
export const RTNEXTHOP_LEN = 8;
/** `USER_HZ`: the clock ticks per second of `rta_cacheinfo.rta_expires`. */
const USER_HZ = 100;

/**
 * The order in which the kernel dumps route attributes (`fib_dump_info` for IPv4,
 * `rt6_fill_node` for IPv6). {@linkcode encodeRoute} writes modelled and `other` attributes in this
 * order, so that re-encoding a dumped route reproduces the kernel's bytes; `other` attributes keep
 * their order.
 */
const KERNEL_ORDER: Readonly<Record<number, readonly number[]>> = {
  [AF.INET]: [
    RTA.TABLE,
    RTA.DST,
    RTA.SRC,
    RTA.IIF,
    RTA.PRIORITY,
    RTA.METRICS,
    RTA.PREFSRC,
    RTA.NH_ID,
    RTA.MULTIPATH,
    RTA.GATEWAY,
    RTA.VIA,
    RTA.OIF,
    RTA.ENCAP,
    RTA.ENCAP_TYPE,
    RTA.FLOW,
  ],
  [AF.INET6]: [
    RTA.TABLE,
    RTA.DST,
    RTA.SRC,
    RTA.IIF,
    RTA.PREFSRC,
    RTA.METRICS,
    RTA.PRIORITY,
    RTA.NH_ID,
    RTA.MULTIPATH,
    RTA.GATEWAY,
    RTA.VIA,
    RTA.OIF,
    RTA.ENCAP,
    RTA.ENCAP_TYPE,
    RTA.EXPIRES,
    RTA.CACHEINFO,
    RTA.PREF,
  ],
};

/** The order in which the kernel writes a next hop's attributes (`fib_add_nexthop`). */
const HOP_ORDER: readonly number[] = [RTA.GATEWAY, RTA.VIA, RTA.ENCAP, RTA.ENCAP_TYPE, RTA.FLOW];

/** Offset of `attr` (its header) in `payload`, which must contain it. */
function offsetOf(attr: Attribute, payload: Uint8Array): number {
  return attr.data.byteOffset - payload.byteOffset - NLA_HDRLEN;
}

/** Reads an address attribute of `family`, or throws {@linkcode DecodeError}. */
function ipAttribute(attr: Attribute, family: number, payload: Uint8Array): string {
  const want = addressLength(family);
  if (attr.data.length !== want) {
    throw new DecodeError(
      `route attribute ${attr.type} has ${attr.data.length} bytes, an address of family ` +
        `${family} has ${want}`,
      offsetOf(attr, payload),
    );
  }
  return formatIp(attr.data);
}

function decodeMultipath(attr: Attribute, family: number, payload: Uint8Array): Nexthop[] {
  const data = attr.data;
  const base = offsetOf(attr, payload) + NLA_HDRLEN;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const hops: Nexthop[] = [];
  let off = 0;
  while (off < data.length) {
    const left = data.length - off;
    if (left < RTNEXTHOP_LEN) {
      throw new DecodeError(`truncated rtnexthop: ${left} bytes`, base + off);
    }
    const len = view.getUint16(off, true);
    if (len < RTNEXTHOP_LEN) {
      throw new DecodeError(`rtnexthop length ${len} shorter than its header`, base + off);
    }
    if (len > left) {
      throw new DecodeError(`rtnexthop length ${len} runs past the ${left} bytes left`, base + off);
    }
    const hop: Nexthop = {
      oif: view.getUint32(off + 4, true),
      flags: data[off + 2],
      hops: data[off + 3],
    };
    const attrs = data.subarray(off + RTNEXTHOP_LEN, off + len);
    for (const inner of decodeAttributes(attrs, base + off + RTNEXTHOP_LEN)) {
      if (inner.type === RTA.GATEWAY) hop.gateway = ipAttribute(inner, family, payload);
      else if (inner.type === RTA.FLOW) hop.flow = attrU32(inner, offsetOf(inner, payload));
      else (hop.other ??= []).push(inner);
    }
    hops.push(hop);
    off += align(len);
  }
  return hops;
}

function decodeMetrics(attr: Attribute, payload: Uint8Array): RouteMetrics {
  const metrics: RouteMetrics = {};
  for (const inner of decodeAttributes(attr.data, offsetOf(attr, payload) + NLA_HDRLEN)) {
    const name = METRIC_BY_TYPE.get(inner.type);
    if (name !== undefined) metrics[name] = attrU32(inner, offsetOf(inner, payload));
    else if (inner.type === RTAX.CC_ALGO) metrics.congctl = attrString(inner);
    else (metrics.other ??= []).push(inner);
  }
  return metrics;
}

function cacheinfoAt(view: DataView, at: number): RouteCacheInfo {
  return {
    clntref: view.getUint32(at, true),
    lastuse: view.getUint32(at + 4, true),
    expires: view.getInt32(at + 8, true),
    error: view.getUint32(at + 12, true),
    used: view.getInt32(at + 16, true),
    id: view.getUint32(at + 20, true),
    ts: view.getUint32(at + 24, true),
    tsage: view.getUint32(at + 28, true),
  };
}

/**
 * Decodes the payload of an `RTM_NEWROUTE`/`RTM_DELROUTE` message (the bytes after the
 * `nlmsghdr`): `struct rtmsg`, then attributes. The route holds no view into `payload`: unmodelled
 * attributes are views into a copy of the message. `table` is `RTA_TABLE` when present, else
 * `rtm_table`; `dst` is `0.0.0.0`/`::` when there is no `RTA_DST`. Attributes that are not modelled
 * go to `other`, in order. Throws {@linkcode DecodeError} (offsets relative to `payload`) on a
 * short `rtmsg`, a family other than IPv4/IPv6, a prefix length beyond the family's, malformed
 * attributes or next hops, and addresses of the wrong length.
 *
 * @example
 * ```ts
 * import { decodeRoute, encodeRoute } from "./route.ts";
 * const bytes = encodeRoute({
 *   family: 2, table: 539098368, dst: "192.168.1.0", dstLen: 24, srcLen: 0, tos: 0,
 *   protocol: 77, scope: 253, type: 1, flags: 0, oif: 3,
 * });
 * decodeRoute(bytes).table; // 539098368
 * ```
 */
export function decodeRoute(payload: Uint8Array): Route {
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  return decodeRouteAt(payload, view, 0, payload.length);
}

/**
 * {@linkcode decodeRoute} of the payload that lies at `[start, end)` in `data`, read in place
 * through `view` (a view of all of `data`): how a dump decodes its routes straight from the
 * received datagram. {@linkcode DecodeError} offsets are relative to `start`, as
 * {@linkcode decodeRoute}'s are to its payload; the route holds no view into `data`.
 *
 * @example
 * ```ts
 * import { decodeRouteAt, encodeRoute } from "./route.ts";
 * const payload = encodeRoute({
 *   family: 2, table: 254, dst: "10.0.0.0", dstLen: 8, srcLen: 0, tos: 0,
 *   protocol: 3, scope: 253, type: 1, flags: 0, oif: 2,
 * });
 * const datagram = new Uint8Array(16 + payload.length);
 * datagram.set(payload, 16);
 * decodeRouteAt(datagram, new DataView(datagram.buffer), 16, datagram.length).dst; // "10.0.0.0"
 * ```
 */
export function decodeRouteAt(data: Uint8Array, view: DataView, start: number, end: number): Route {
  return decodePlainRouteAt(data, view, start, end) ?? decodeAnyRouteAt(data, view, start, end);
}

/**
 * Whether `route` has no optional field but `oif` and `priority`: a LAN's plain route, as the
 * plain decoder ({@linkcode decodePlainRouteAt}) makes it, or its copy.
 *
 * @example
 * ```ts
 * import { isPlainRoute } from "./route.ts";
 * const lan = { family: 2, table: 254, dst: "10.0.0.0", dstLen: 8, srcLen: 0, tos: 0,
 *   protocol: 3, scope: 253, type: 1, flags: 0, oif: 2 };
 * isPlainRoute(lan); // true
 * isPlainRoute({ ...lan, prefsrc: "10.0.0.1" }); // false
 * ```
 */
export function isPlainRoute(route: Route): boolean {
  return route.src === undefined && route.gateway === undefined &&
    route.prefsrc === undefined && route.metrics === undefined && route.flow === undefined &&
    route.cacheinfo === undefined && route.pref === undefined && route.expires === undefined &&
    route.multipath === undefined && route.nhId === undefined && route.other === undefined;
}

/**
 * The fast path of {@linkcode decodeRouteAt}: the route when the message is a plain IPv4 route,
 * whose attributes are only `RTA_TABLE`, `RTA_DST`, `RTA_PRIORITY` and `RTA_OIF` (the last two at
 * most once, the metric before the device, as the kernel writes them: the routes of a LAN and
 * their copies), else `undefined`. Its attributes are read into locals and the route is made
 * with all its fields at once, in the order {@linkcode decodeRouteAt} would add them: an object
 * of one shape whose fields lie in it, where adding them one by one gave it a second store for
 * the optional ones. Never throws: a message it does not take is left to the general decoder,
 * which says what is wrong with it.
 *
 * @example
 * ```ts
 * import { decodePlainRouteAt, encodeRoute } from "./route.ts";
 * const payload = encodeRoute({
 *   family: 2, table: 254, dst: "10.0.0.0", dstLen: 8, srcLen: 0, tos: 0,
 *   protocol: 3, scope: 253, type: 1, flags: 0, oif: 2,
 * });
 * decodePlainRouteAt(payload, new DataView(payload.buffer), 0, payload.length)?.oif; // 2
 * ```
 */
export function decodePlainRouteAt(
  data: Uint8Array,
  view: DataView,
  start: number,
  end: number,
): Route | undefined {
  const family = data[start];
  if (end - start < RTMSG_LEN || family !== AF.INET) return undefined;
  const dstLen = data[start + 1];
  const srcLen = data[start + 2];
  if (dstLen > 32 || srcLen > 32) return undefined;
  let table = data[start + 4];
  let dst = "0.0.0.0";
  let oif = -1;
  let priority = -1;
  // Every attribute of a plain route is 8 bytes: a header and a u32 or an IPv4 address.
  for (let off = start + RTMSG_LEN; off + NLA_HDRLEN <= end; off += 8) {
    if (view.getUint16(off, true) !== 8 || end - off < 8) return undefined;
    const type = view.getUint16(off + 2, true);
    if (type === RTA.TABLE) table = view.getUint32(off + NLA_HDRLEN, true);
    else if (type === RTA.DST) dst = ipv4Text(data, off + NLA_HDRLEN);
    else if (type === RTA.OIF && oif === -1) oif = view.getUint32(off + NLA_HDRLEN, true);
    else if (type === RTA.PRIORITY && priority === -1 && oif === -1) {
      priority = view.getUint32(off + NLA_HDRLEN, true);
    } else return undefined;
  }
  const tos = data[start + 3];
  const protocol = data[start + 5];
  const scope = data[start + 6];
  const type = data[start + 7];
  const flags = view.getUint32(start + 8, true);
  if (priority === -1) {
    if (oif === -1) {
      return { family, table, dst, dstLen, srcLen, tos, protocol, scope, type, flags };
    }
    return { family, table, dst, dstLen, srcLen, tos, protocol, scope, type, flags, oif };
  }
  if (oif === -1) {
    return { family, table, dst, dstLen, srcLen, tos, protocol, scope, type, flags, priority };
  }
  return { family, table, dst, dstLen, srcLen, tos, protocol, scope, type, flags, priority, oif };
}

/** {@linkcode decodeRouteAt} of any route message, attribute by attribute. */
function decodeAnyRouteAt(data: Uint8Array, view: DataView, start: number, end: number): Route {
  if (end - start < RTMSG_LEN) {
    throw new DecodeError(
      `route message has ${end - start} bytes, struct rtmsg needs ${RTMSG_LEN}`,
      0,
    );
  }
  const family = data[start];
  if (family !== AF.INET && family !== AF.INET6) {
    throw new DecodeError(`route family ${family} is neither IPv4 nor IPv6`, 0);
  }
  const max = family === AF.INET ? 32 : 128;
  const dstLen = data[start + 1];
  const srcLen = data[start + 2];
  if (dstLen > max) {
    throw new DecodeError(`destination prefix length ${dstLen} exceeds ${max}`, 1);
  }
  if (srcLen > max) {
    throw new DecodeError(`source prefix length ${srcLen} exceeds ${max}`, 2);
  }
  // Attributes are read in place, and only those that are not modelled become `Attribute`
  // objects.
  const route: Route = {
    family,
    table: data[start + 4],
    dst: family === AF.INET ? "0.0.0.0" : "::",
    dstLen,
    srcLen,
    tos: data[start + 3],
    protocol: data[start + 5],
    scope: data[start + 6],
    type: data[start + 7],
    flags: view.getUint32(start + 8, true),
  };
  // A copy of the message for what is kept as views (`other` attributes, also of next hops and
  // metrics), made at the first one: they must not hold the datagram (or the receive arena it
  // lies in) alive. Offsets in it are relative to `start`.
  let own: Uint8Array | undefined;
  let off = start + RTMSG_LEN;
  while (off + NLA_HDRLEN <= end) {
    const len = view.getUint16(off, true);
    const rawType = view.getUint16(off + 2, true);
    const type = rawType & NLA_TYPE_MASK;
    if (len < NLA_HDRLEN) {
      throw new DecodeError(`attribute ${type} length ${len} shorter than its header`, off - start);
    }
    if (len > end - off) {
      throw new DecodeError(
        `attribute ${type} length ${len} runs past the ${end - off} bytes left`,
        off - start,
      );
    }
    switch (type) {
      case RTA.DST:
        route.dst = addressAt(data, off, len, family, start);
        break;
      case RTA.SRC:
        route.src = addressAt(data, off, len, family, start);
        break;
      case RTA.GATEWAY:
        route.gateway = addressAt(data, off, len, family, start);
        break;
      case RTA.PREFSRC:
        route.prefsrc = addressAt(data, off, len, family, start);
        break;
      case RTA.OIF:
        route.oif = u32At(view, off, len, start);
        break;
      case RTA.PRIORITY:
        route.priority = u32At(view, off, len, start);
        break;
      case RTA.TABLE:
        route.table = u32At(view, off, len, start);
        break;
      case RTA.PREF:
        route.pref = u8At(data, off, len, start);
        break;
      case RTA.EXPIRES:
        route.expires = u32At(view, off, len, start);
        break;
      case RTA.NH_ID:
        route.nhId = u32At(view, off, len, start);
        break;
      case RTA.FLOW:
        route.flow = u32At(view, off, len, start);
        break;
      case RTA.CACHEINFO:
        // Another size is not the kernel's struct: kept as it is.
        if (len - NLA_HDRLEN === CACHEINFO_LEN) {
          route.cacheinfo = cacheinfoAt(view, off + NLA_HDRLEN);
        } else {
          own ??= data.slice(start, end);
          (route.other ??= []).push(attributeAt(own, off - start, len, rawType));
        }
        break;
      case RTA.MULTIPATH:
        own ??= data.slice(start, end);
        route.multipath = decodeMultipath(attributeAt(own, off - start, len, rawType), family, own);
        break;
      case RTA.METRICS:
        own ??= data.slice(start, end);
        route.metrics = decodeMetrics(attributeAt(own, off - start, len, rawType), own);
        break;
      default:
        own ??= data.slice(start, end);
        (route.other ??= []).push(attributeAt(own, off - start, len, rawType));
    }
    off += align(len);
  }
  // Fewer than 4 bytes left over can only be padding of the last attribute.
  return route;
}

/** The attribute whose header is at `off` in `payload`, as an {@linkcode Attribute} (a view). */
function attributeAt(payload: Uint8Array, off: number, len: number, rawType: number): Attribute {
  const type = rawType & NLA_TYPE_MASK;
  const attr: Attribute = { type, data: payload.subarray(off + NLA_HDRLEN, off + len) };
  if (rawType !== type) attr.flags = rawType & ~NLA_TYPE_MASK;
  return attr;
}

/**
 * The u32 value of the attribute at `off`, or {@linkcode DecodeError} (its offset counted from
 * `base`) when it is too short.
 */
function u32At(view: DataView, off: number, len: number, base: number): number {
  if (len - NLA_HDRLEN < 4) {
    throw new DecodeError(
      `attribute ${view.getUint16(off + 2, true) & NLA_TYPE_MASK} has ${
        len - NLA_HDRLEN
      } bytes, expected 4`,
      off - base,
    );
  }
  return view.getUint32(off + NLA_HDRLEN, true);
}

/**
 * The u8 value of the attribute at `off`, or {@linkcode DecodeError} (its offset counted from
 * `base`) when it is empty.
 */
function u8At(payload: Uint8Array, off: number, len: number, base: number): number {
  if (len - NLA_HDRLEN < 1) {
    throw new DecodeError(
      `attribute ${(payload[off + 2] | (payload[off + 3] << 8)) & NLA_TYPE_MASK} has 0 bytes, ` +
        `expected 1`,
      off - base,
    );
  }
  return payload[off + NLA_HDRLEN];
}

/** Decimal text of each byte value: IPv4 addresses are formatted without number conversions. */
const OCTETS: readonly string[] = Array.from({ length: 256 }, (_, i) => String(i));
/** {@linkcode OCTETS} with the dot that follows the first three bytes of an address. */
const OCTETS_DOT: readonly string[] = OCTETS.map((octet) => `${octet}.`);
/**
 * The address of the attribute at `off` as canonical text, or {@linkcode DecodeError} (its offset
 * counted from `base`) when its length is not the family's.
 */
function addressAt(
  payload: Uint8Array,
  off: number,
  len: number,
  family: number,
  base: number,
): string {
  const size = len - NLA_HDRLEN;
  const want = family === AF.INET ? 4 : 16;
  if (size !== want) {
    const type = (payload[off + 2] | (payload[off + 3] << 8)) & NLA_TYPE_MASK;
    throw new DecodeError(
      `route attribute ${type} has ${size} bytes, an address of family ${family} has ${want}`,
      off - base,
    );
  }
  const at = off + NLA_HDRLEN;
  if (want === 4) return ipv4Text(payload, at);
  return formatIp(payload.subarray(at, at + 16));
}

/**
 * The canonical text of the IPv4 address at `at` in `bytes`: three joins, where a dot per join
 * made six short strings per address (cold, 10k addresses: 153 → 81 bytes and ~1.9 → ~1.2 ms).
 */
function ipv4Text(bytes: Uint8Array, at: number): string {
  return OCTETS_DOT[bytes[at]] + OCTETS_DOT[bytes[at + 1]] + OCTETS_DOT[bytes[at + 2]] +
    OCTETS[bytes[at + 3]];
}

function u32Bytes(value: number): Uint8Array {
  return Uint8Array.of(value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, value >>> 24);
}

function addressBytes(text: string, family: number, what: string): Uint8Array {
  const ip = parseIp(text);
  if (ip.family !== family) {
    const name = family === AF.INET ? "IPv4" : "IPv6";
    throw new InvalidAddressError(text, `${what} of an ${name} route must be ${name}`);
  }
  return ip.bytes;
}

function checkPrefixLen(len: number, family: number, what: string): void {
  const max = maxPrefixLen(family);
  if (!Number.isInteger(len) || len < 0 || len > max) {
    throw new InvalidAddressError(String(len), `${what} prefix length must be 0-${max}`);
  }
}

function encodeMultipath(hops: readonly Nexthop[], family: number): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const hop of hops) {
    const modelled: Attribute[] = [];
    if (hop.gateway !== undefined) {
      const data = addressBytes(hop.gateway, family, "a next hop's gateway");
      modelled.push({ type: RTA.GATEWAY, data });
    }
    if (hop.flow !== undefined) modelled.push({ type: RTA.FLOW, data: u32Bytes(hop.flow) });
    const attrs = new AttributeEncoder();
    for (const attr of inKernelOrder(modelled, hop.other ?? [], HOP_ORDER)) attrs.raw(attr);
    const body = attrs.finish();
    const part = new Uint8Array(RTNEXTHOP_LEN + body.length);
    const view = new DataView(part.buffer);
    view.setUint16(0, part.length, true);
    part[2] = hop.flags;
    part[3] = hop.hops;
    view.setUint32(4, hop.oif >>> 0, true);
    part.set(body, RTNEXTHOP_LEN);
    parts.push(part);
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const part of parts) {
    out.set(part, off);
    off += part.length;
  }
  return out;
}

/** The metrics in the kernel's order (`rtnetlink_put_metrics`: by `RTAX_*` type). */
function encodeMetrics(metrics: RouteMetrics): Uint8Array {
  const modelled: Attribute[] = [];
  for (const [name, type] of Object.entries(METRIC_TYPES) as [NumericMetric, number][]) {
    const value = metrics[name];
    if (value !== undefined) modelled.push({ type, data: u32Bytes(value) });
  }
  if (metrics.congctl !== undefined) {
    const text = new TextEncoder().encode(metrics.congctl);
    const data = new Uint8Array(text.length + 1);
    data.set(text);
    modelled.push({ type: RTAX.CC_ALGO, data });
  }
  const order = modelled.map((a) => a.type).sort((a, b) => a - b);
  const encoder = new AttributeEncoder();
  for (const attr of inKernelOrder(modelled, metrics.other ?? [], order)) encoder.raw(attr);
  return encoder.finish();
}

function encodeCacheinfo(info: RouteCacheInfo): Uint8Array {
  const out = new Uint8Array(CACHEINFO_LEN);
  const view = new DataView(out.buffer);
  view.setUint32(0, info.clntref >>> 0, true);
  view.setUint32(4, info.lastuse >>> 0, true);
  view.setInt32(8, info.expires | 0, true);
  view.setUint32(12, info.error >>> 0, true);
  view.setInt32(16, info.used | 0, true);
  view.setUint32(20, info.id >>> 0, true);
  view.setUint32(24, info.ts >>> 0, true);
  view.setUint32(28, info.tsage >>> 0, true);
  return out;
}

/** Throws {@linkcode InvalidAddressError} for a family other than IPv4/IPv6 and bad prefix lengths. */
function checkRoute(route: Route): void {
  const { family } = route;
  if (family !== AF.INET && family !== AF.INET6) {
    throw new InvalidAddressError(String(family), "a route's family must be IPv4 (2) or IPv6 (10)");
  }
  checkPrefixLen(route.dstLen, family, "destination");
  checkPrefixLen(route.srcLen, family, "source");
}

/**
 * Encodes a route as the payload of an `RTM_NEWROUTE`/`RTM_DELROUTE` message (`struct rtmsg` then
 * attributes; wrap it with `encodeMessage`). `rtm_table` is `table` below 256, else
 * `RT_TABLE_COMPAT` (252), and `RTA_TABLE` always carries the full id. `RTA_DST` is written when
 * `dstLen > 0` or `dst` is not the zero address; optional fields that are `undefined` are left
 * out. Attributes go out in the kernel's dump order (`other` ones included), so a dumped route
 * re-encodes to the same bytes. `RTA_MULTIPATH` is written without `NLA_F_NESTED`, as the kernel
 * and `ip` do. Throws {@linkcode InvalidAddressError} for an address that does not parse or is of
 * the other family, and a prefix length out of range.
 *
 * @example
 * ```ts
 * import { encodeRoute } from "./route.ts";
 * const payload = encodeRoute({
 *   family: 10, table: 51820, dst: "2001:db8::", dstLen: 32, srcLen: 0, tos: 0,
 *   protocol: 77, scope: 0, type: 1, flags: 0, oif: 4, gateway: "fe80::1",
 * });
 * payload[4]; // 252: the id does not fit the 8-bit rtm_table
 * ```
 */
export function encodeRoute(route: Route): Uint8Array {
  checkRoute(route);
  if (isPlain(route)) {
    const length = encodePlainInto(route, PLAIN_SCRATCH, 0);
    if (length >= 0) return PLAIN_SCRATCH.slice(0, length);
  }
  return encodeGeneral(route);
}

/**
 * Writes {@linkcode encodeRoute}'s bytes of `route` into `out` at `off` and returns their length,
 * or -1 when `out` has no room for them from `off` on (nothing is then known to be written; grow
 * the buffer and call again). A plain route (the fields of a copy or a delete request: addresses,
 * device, metric, scope...) is written in place, without allocations; one with metrics, next hops
 * or other attributes is encoded by {@linkcode encodeRoute} and copied. Throws like
 * {@linkcode encodeRoute}.
 *
 * @example
 * ```ts
 * import { encodeRoute, encodeRouteInto } from "./route.ts";
 * const route = { family: 2, table: 539098368, dst: "192.168.1.0", dstLen: 24, srcLen: 0,
 *   tos: 0, protocol: 77, scope: 253, type: 1, flags: 0, oif: 3 };
 * const out = new Uint8Array(256);
 * const length = encodeRouteInto(route, out, 16);
 * out.slice(16, 16 + length).join() === encodeRoute(route).join(); // true
 * ```
 */
export function encodeRouteInto(route: Route, out: Uint8Array, off: number): number {
  checkRoute(route);
  if (isPlain(route)) {
    if (out.length - off < PLAIN_MAX_LEN) return -1;
    const length = encodePlainInto(route, out, off);
    if (length >= 0) return length;
  }
  const bytes = encodeGeneral(route);
  if (bytes.length > out.length - off) return -1;
  out.set(bytes, off);
  return bytes.length;
}

/** {@linkcode encodeRoute} through attribute objects: every field, `other` attributes included. */
function encodeGeneral(route: Route): Uint8Array {
  const { family } = route;
  const head = new Uint8Array(RTMSG_LEN);
  writeRtmsg(route, head, 0);
  const attrs: Attribute[] = [];
  const put = (type: number, data: Uint8Array) => attrs.push({ type, data });
  put(RTA.TABLE, u32Bytes(route.table));
  const dst = addressBytes(route.dst, family, "the destination");
  if (route.dstLen > 0 || dst.some((b) => b !== 0)) put(RTA.DST, dst);
  if (route.src !== undefined) put(RTA.SRC, addressBytes(route.src, family, "the source"));
  if (route.priority !== undefined) put(RTA.PRIORITY, u32Bytes(route.priority));
  if (route.metrics !== undefined) put(RTA.METRICS, encodeMetrics(route.metrics));
  if (route.prefsrc !== undefined) {
    put(RTA.PREFSRC, addressBytes(route.prefsrc, family, "the preferred source"));
  }
  if (route.nhId !== undefined) put(RTA.NH_ID, u32Bytes(route.nhId));
  if (route.multipath !== undefined) put(RTA.MULTIPATH, encodeMultipath(route.multipath, family));
  if (route.gateway !== undefined) {
    put(RTA.GATEWAY, addressBytes(route.gateway, family, "the gateway"));
  }
  if (route.oif !== undefined) put(RTA.OIF, u32Bytes(route.oif));
  if (route.flow !== undefined) put(RTA.FLOW, u32Bytes(route.flow));
  if (route.cacheinfo !== undefined) put(RTA.CACHEINFO, encodeCacheinfo(route.cacheinfo));
  if (route.expires !== undefined) put(RTA.EXPIRES, u32Bytes(route.expires));
  if (route.pref !== undefined) put(RTA.PREF, Uint8Array.of(route.pref));
  const ordered = route.other?.length
    ? inKernelOrder(attrs, route.other, KERNEL_ORDER[family])
    : inRankOrder(attrs, KERNEL_RANK[family]);
  // One allocation: the size is known before anything is written.
  let size = RTMSG_LEN;
  for (const attr of ordered) size += align(NLA_HDRLEN + attr.data.length);
  const out = new Uint8Array(size);
  out.set(head);
  let off = RTMSG_LEN;
  for (const attr of ordered) {
    const len = NLA_HDRLEN + attr.data.length;
    const type = attr.type | (attr.flags ?? 0);
    out[off] = len & 0xff;
    out[off + 1] = len >>> 8;
    out[off + 2] = type & 0xff;
    out[off + 3] = type >>> 8;
    out.set(attr.data, off + NLA_HDRLEN);
    off += align(len);
  }
  return out;
}

/**
 * Writes `struct rtmsg` of `route` at `off`: `rtm_table` is the id below 256, else
 * `RT_TABLE_COMPAT`. Byte fields keep their low 8 bits, as a `Uint8Array` stores them.
 */
function writeRtmsg(route: Route, out: Uint8Array, off: number): void {
  out[off] = route.family;
  out[off + 1] = route.dstLen;
  out[off + 2] = route.srcLen;
  out[off + 3] = route.tos;
  out[off + 4] = route.table < 256 ? route.table : RT_TABLE.COMPAT;
  out[off + 5] = route.protocol;
  out[off + 6] = route.scope;
  out[off + 7] = route.type;
  writeU32(out, off + 8, route.flags);
}

/** Writes `value` as a little-endian u32 (its low 32 bits) at `off`. */
function writeU32(out: Uint8Array, off: number, value: number): void {
  out[off] = value;
  out[off + 1] = value >>> 8;
  out[off + 2] = value >>> 16;
  out[off + 3] = value >>> 24;
}

/** Writes a u32 attribute at `off`; returns the offset after it. */
function writeU32Attr(out: Uint8Array, off: number, type: number, value: number): number {
  writeAttrHeader(out, off, NLA_HDRLEN + 4, type);
  writeU32(out, off + NLA_HDRLEN, value);
  return off + 8;
}

/** Writes the header (`struct nlattr`) of an attribute of `len` bytes, header included, at `off`. */
function writeAttrHeader(out: Uint8Array, off: number, len: number, type: number): void {
  out[off] = len;
  out[off + 1] = len >>> 8;
  out[off + 2] = type;
  out[off + 3] = type >>> 8;
}

/** Writes an IPv4 address attribute (`address` as a number) at `off`; returns the offset after. */
function writeIpv4Attr(out: Uint8Array, off: number, type: number, address: number): number {
  writeAttrHeader(out, off, NLA_HDRLEN + 4, type);
  out[off + 4] = address >>> 24;
  out[off + 5] = address >>> 16;
  out[off + 6] = address >>> 8;
  out[off + 7] = address;
  return off + 8;
}

/** Writes an IPv6 address attribute (16 bytes) at `off`; returns the offset after it. */
function writeIpv6Attr(out: Uint8Array, off: number, type: number, address: Uint8Array): number {
  writeAttrHeader(out, off, NLA_HDRLEN + 16, type);
  out.set(address, off + NLA_HDRLEN);
  return off + NLA_HDRLEN + 16;
}

/**
 * The most bytes a plain route takes: `rtmsg`, table, four IPv6 addresses (destination, source,
 * preferred source, gateway), priority and device.
 */
const PLAIN_MAX_LEN = RTMSG_LEN + 8 + 4 * (NLA_HDRLEN + 16) + 8 + 8;

/** Where {@linkcode encodeRoute} writes a plain route before copying it out. */
const PLAIN_SCRATCH = new Uint8Array(PLAIN_MAX_LEN);

/**
 * Whether `route` is plain: it sets none of the fields a route made by linkmirror (a copy, a
 * delete request) does not carry — metrics, next hops, nexthop id, realms, cache info,
 * preference, expiry, other attributes. Plain routes are written by {@linkcode encodePlainInto}.
 */
function isPlain(route: Route): boolean {
  return route.metrics === undefined && route.multipath === undefined &&
    route.nhId === undefined && route.flow === undefined && route.cacheinfo === undefined &&
    route.expires === undefined && route.pref === undefined && route.other === undefined;
}

/**
 * {@linkcode encodeRoute} of a plain route (see {@linkcode isPlain}), written straight into `out`
 * at `off` (which has room for {@linkcode PLAIN_MAX_LEN} bytes) in the kernel's order (IPv4:
 * table, dst, src, priority, prefsrc, gateway, oif; IPv6: prefsrc before priority), without
 * attribute objects; returns its length. -1 for an IPv4 route with an address that is not a
 * dotted quad: the general path then says what is wrong with it.
 */
function encodePlainInto(route: Route, out: Uint8Array, off: number): number {
  const start = off;
  writeRtmsg(route, out, off);
  off += RTMSG_LEN;
  off = writeU32Attr(out, off, RTA.TABLE, route.table);
  if (route.family === AF.INET) {
    const dst = ipv4Number(route.dst);
    const src = route.src === undefined ? 0 : ipv4Number(route.src);
    const prefsrc = route.prefsrc === undefined ? 0 : ipv4Number(route.prefsrc);
    const gateway = route.gateway === undefined ? 0 : ipv4Number(route.gateway);
    if (dst < 0 || src < 0 || prefsrc < 0 || gateway < 0) return -1;
    if (route.dstLen > 0 || dst !== 0) off = writeIpv4Attr(out, off, RTA.DST, dst);
    if (route.src !== undefined) off = writeIpv4Attr(out, off, RTA.SRC, src);
    if (route.priority !== undefined) off = writeU32Attr(out, off, RTA.PRIORITY, route.priority);
    if (route.prefsrc !== undefined) off = writeIpv4Attr(out, off, RTA.PREFSRC, prefsrc);
    if (route.gateway !== undefined) off = writeIpv4Attr(out, off, RTA.GATEWAY, gateway);
  } else {
    const family = route.family;
    const dst = addressBytes(route.dst, family, "the destination");
    const src = route.src === undefined ? undefined : addressBytes(route.src, family, "the source");
    const prefsrc = route.prefsrc === undefined
      ? undefined
      : addressBytes(route.prefsrc, family, "the preferred source");
    const gateway = route.gateway === undefined
      ? undefined
      : addressBytes(route.gateway, family, "the gateway");
    if (route.dstLen > 0 || dst.some((b) => b !== 0)) off = writeIpv6Attr(out, off, RTA.DST, dst);
    if (src !== undefined) off = writeIpv6Attr(out, off, RTA.SRC, src);
    if (prefsrc !== undefined) off = writeIpv6Attr(out, off, RTA.PREFSRC, prefsrc);
    if (route.priority !== undefined) off = writeU32Attr(out, off, RTA.PRIORITY, route.priority);
    if (gateway !== undefined) off = writeIpv6Attr(out, off, RTA.GATEWAY, gateway);
  }
  if (route.oif !== undefined) off = writeU32Attr(out, off, RTA.OIF, route.oif);
  return off - start;
}

/** Each family's {@linkcode KERNEL_ORDER} as attribute type → rank. */
const KERNEL_RANK: Readonly<Record<number, ReadonlyMap<number, number>>> = Object.fromEntries(
  Object.entries(KERNEL_ORDER).map((
    [family, order],
  ) => [family, new Map(order.map((t, i) => [t, i]))]),
);

/**
 * `attrs` sorted stably by `rank` (types without a rank last): what {@linkcode inKernelOrder}
 * returns when there are no `other` attributes, without its allocations. Sorts in place.
 */
function inRankOrder(attrs: Attribute[], rank: ReadonlyMap<number, number>): Attribute[] {
  const last = rank.size;
  for (let i = 1; i < attrs.length; i++) {
    const attr = attrs[i];
    const r = rank.get(attr.type) ?? last;
    let j = i - 1;
    while (j >= 0 && (rank.get(attrs[j].type) ?? last) > r) {
      attrs[j + 1] = attrs[j];
      j--;
    }
    attrs[j + 1] = attr;
  }
  return attrs;
}

/**
 * Seconds until the route expires, as `ip` prints them: `rta_expires` of its `RTA_CACHEINFO`
 * divided by `USER_HZ`. `undefined` when there is no cache info or it says "never".
 *
 * @example
 * ```ts
 * import { cacheExpires } from "./route.ts";
 * cacheExpires({ family: 10, table: 254, dst: "::", dstLen: 0, srcLen: 0, tos: 0, protocol: 9,
 *   scope: 0, type: 1, flags: 0 }); // undefined
 * ```
 */
export function cacheExpires(route: Route): number | undefined {
  const ticks = route.cacheinfo?.expires;
  return ticks === undefined || ticks === 0 ? undefined : Math.trunc(ticks / USER_HZ);
}
