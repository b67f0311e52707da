/**
 * Route messages (`struct rtmsg` + `RTA_*` attributes): the typed {@linkcode Route} and its codec.
 *
 * @module
 */

import {
  type Attribute,
  AttributeEncoder,
  attrU32,
  attrU8,
  decodeAttributes,
  NLA_HDRLEN,
} from "./attributes.ts";
import { AF, RT_TABLE, RTA } from "./constants.ts";
import { DecodeError } from "./errors.ts";
import { inKernelOrder } from "./kernel_order.ts";
import { addressLength, formatIp, InvalidAddressError, maxPrefixLen, parseIp } from "./ip.ts";
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
  /** Attributes of the hop that are not modelled, kept for round trips. */
  other?: Attribute[];
}

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
  /** Attributes that are not modelled above (CACHEINFO, METRICS, unknown ones), in order. */
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
      else (hop.other ??= []).push(inner);
    }
    hops.push(hop);
    off += align(len);
  }
  return hops;
}

/**
 * Decodes the payload of an `RTM_NEWROUTE`/`RTM_DELROUTE` message (the bytes after the
 * `nlmsghdr`): `struct rtmsg`, then attributes. `table` is `RTA_TABLE` when present, else
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
  if (payload.length < RTMSG_LEN) {
    throw new DecodeError(
      `route message has ${payload.length} bytes, struct rtmsg needs ${RTMSG_LEN}`,
      0,
    );
  }
  const family = payload[0];
  if (family !== AF.INET && family !== AF.INET6) {
    throw new DecodeError(`route family ${family} is neither IPv4 nor IPv6`, 0);
  }
  const max = maxPrefixLen(family);
  for (const [what, at] of [["destination", 1], ["source", 2]] as const) {
    if (payload[at] > max) {
      throw new DecodeError(`${what} prefix length ${payload[at]} exceeds ${max}`, at);
    }
  }
  const route: Route = {
    family,
    table: payload[4],
    dst: formatIp(new Uint8Array(addressLength(family)!)),
    dstLen: payload[1],
    srcLen: payload[2],
    tos: payload[3],
    protocol: payload[5],
    scope: payload[6],
    type: payload[7],
    flags: new DataView(payload.buffer, payload.byteOffset + 8, 4).getUint32(0, true),
  };
  for (const attr of decodeAttributes(payload.subarray(RTMSG_LEN), RTMSG_LEN)) {
    const at = offsetOf(attr, payload);
    switch (attr.type) {
      case RTA.DST:
        route.dst = ipAttribute(attr, family, payload);
        break;
      case RTA.SRC:
        route.src = ipAttribute(attr, family, payload);
        break;
      case RTA.GATEWAY:
        route.gateway = ipAttribute(attr, family, payload);
        break;
      case RTA.PREFSRC:
        route.prefsrc = ipAttribute(attr, family, payload);
        break;
      case RTA.OIF:
        route.oif = attrU32(attr, at);
        break;
      case RTA.PRIORITY:
        route.priority = attrU32(attr, at);
        break;
      case RTA.TABLE:
        route.table = attrU32(attr, at);
        break;
      case RTA.PREF:
        route.pref = attrU8(attr, at);
        break;
      case RTA.EXPIRES:
        route.expires = attrU32(attr, at);
        break;
      case RTA.NH_ID:
        route.nhId = attrU32(attr, at);
        break;
      case RTA.MULTIPATH:
        route.multipath = decodeMultipath(attr, family, payload);
        break;
      default:
        (route.other ??= []).push(attr);
    }
  }
  return route;
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
    const attrs = new AttributeEncoder();
    if (hop.gateway !== undefined) {
      attrs.bytes(RTA.GATEWAY, addressBytes(hop.gateway, family, "a next hop's gateway"));
    }
    for (const attr of hop.other ?? []) attrs.raw(attr);
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
  const { family } = route;
  if (family !== AF.INET && family !== AF.INET6) {
    throw new InvalidAddressError(String(family), "a route's family must be IPv4 (2) or IPv6 (10)");
  }
  checkPrefixLen(route.dstLen, family, "destination");
  checkPrefixLen(route.srcLen, family, "source");
  const head = new Uint8Array(RTMSG_LEN);
  head.set([
    family,
    route.dstLen,
    route.srcLen,
    route.tos,
    route.table < 256 ? route.table : RT_TABLE.COMPAT,
    route.protocol,
    route.scope,
    route.type,
  ]);
  new DataView(head.buffer).setUint32(8, route.flags >>> 0, true);

  const attrs: Attribute[] = [];
  const put = (type: number, data: Uint8Array) => attrs.push({ type, data });
  put(RTA.TABLE, u32Bytes(route.table));
  const dst = addressBytes(route.dst, family, "the destination");
  if (route.dstLen > 0 || dst.some((b) => b !== 0)) put(RTA.DST, dst);
  if (route.src !== undefined) put(RTA.SRC, addressBytes(route.src, family, "the source"));
  if (route.priority !== undefined) put(RTA.PRIORITY, u32Bytes(route.priority));
  if (route.prefsrc !== undefined) {
    put(RTA.PREFSRC, addressBytes(route.prefsrc, family, "the preferred source"));
  }
  if (route.nhId !== undefined) put(RTA.NH_ID, u32Bytes(route.nhId));
  if (route.multipath !== undefined) put(RTA.MULTIPATH, encodeMultipath(route.multipath, family));
  if (route.gateway !== undefined) {
    put(RTA.GATEWAY, addressBytes(route.gateway, family, "the gateway"));
  }
  if (route.oif !== undefined) put(RTA.OIF, u32Bytes(route.oif));
  if (route.expires !== undefined) put(RTA.EXPIRES, u32Bytes(route.expires));
  if (route.pref !== undefined) put(RTA.PREF, Uint8Array.of(route.pref));
  const encoder = new AttributeEncoder();
  for (const attr of inKernelOrder(attrs, route.other ?? [], KERNEL_ORDER[family])) {
    encoder.raw(attr);
  }
  const body = encoder.finish();
  const out = new Uint8Array(RTMSG_LEN + body.length);
  out.set(head);
  out.set(body, RTMSG_LEN);
  return out;
}

/**
 * Seconds until the route expires, as `ip` prints them: `rta_expires` of its `RTA_CACHEINFO` (in
 * `other`) divided by `USER_HZ`. `undefined` when there is no cache info or it says "never".
 *
 * @example
 * ```ts
 * import { cacheExpires } from "./route.ts";
 * cacheExpires({ family: 10, table: 254, dst: "::", dstLen: 0, srcLen: 0, tos: 0, protocol: 9,
 *   scope: 0, type: 1, flags: 0 }); // undefined
 * ```
 */
export function cacheExpires(route: Route): number | undefined {
  const info = route.other?.find((a) => a.type === RTA.CACHEINFO);
  if (info === undefined || info.data.length < 12) return undefined;
  const ticks = new DataView(info.data.buffer, info.data.byteOffset, 12).getInt32(8, true);
  return ticks === 0 ? undefined : Math.trunc(ticks / USER_HZ);
}
