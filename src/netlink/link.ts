/**
 * Link messages (`struct ifinfomsg` + `IFLA_*` attributes): the typed {@linkcode Link} and its codec.
 *
 * @module
 */

import {
  type Attribute,
  AttributeEncoder,
  attrString,
  attrU32,
  attrU8,
  decodeAttributes,
  NLA_HDRLEN,
} from "./attributes.ts";
import { IFLA, IFLA_INFO } from "./constants.ts";
import { DecodeError } from "./errors.ts";
import { inKernelOrder } from "./kernel_order.ts";

/** A network interface as rtnetlink carries it. */
export interface Link {
  /** Interface index. */
  index: number;
  /** `IFLA_IFNAME`; `""` when the message has none (then it is not encoded either). */
  name: string;
  /** `ifi_flags` (`IFF_*`). */
  flags: number;
  /** `ifi_type` (`ARPHRD_*`). */
  type: number;
  /** `ifi_family`: `AF_UNSPEC` (absent, 0) except for `AF_BRIDGE` port messages. */
  family?: number;
  /** `ifi_change`: the flags a notification changed, or the mask of a request (absent: 0). */
  change?: number;
  /** `IFLA_MTU`. */
  mtu?: number;
  /** `IFLA_OPERSTATE`. */
  operstate?: number;
  /** `IFLA_INFO_KIND` inside `IFLA_LINKINFO` (`veth`, `tun`, `bridge`, ...). */
  kind?: string;
  /**
   * The attributes of `IFLA_LINKINFO` other than `IFLA_INFO_KIND` (`IFLA_INFO_DATA`,
   * `IFLA_INFO_SLAVE_KIND`, ...), in order, kept for round trips.
   */
  linkInfo?: Attribute[];
  /** Attributes that are not modelled above, in order. */
  other?: Attribute[];
}

/** Size of `struct ifinfomsg`, the fixed part of a link message before its attributes. */
export const IFINFOMSG_LEN = 16;

/**
 * The order in which Linux 6.x (`rtnl_fill_ifinfo`) dumps link attributes, as captured from a
 * 6.18 kernel. {@linkcode encodeLink} writes attributes in this order so that a dumped link
 * re-encodes to the same bytes; `other` attributes keep their order.
 */
const KERNEL_ORDER: readonly number[] = [
  IFLA.IFNAME,
  13, // TXQLEN
  IFLA.OPERSTATE,
  IFLA.LINKMODE,
  67,
  IFLA.MTU,
  50, // MIN_MTU
  51, // MAX_MTU
  IFLA.GROUP,
  30, // PROMISCUITY
  61, // ALLMULTI
  31, // NUM_TX_QUEUES
  40, // GSO_MAX_SEGS
  41, // GSO_MAX_SIZE
  58, // GRO_MAX_SIZE
  63, // GSO_IPV4_MAX_SIZE
  64, // GRO_IPV4_MAX_SIZE
  59, // TSO_MAX_SIZE
  60, // TSO_MAX_SEGS
  66,
  32, // NUM_RX_QUEUES
  IFLA.MASTER,
  IFLA.CARRIER,
  35, // CARRIER_CHANGES
  47, // CARRIER_UP_COUNT
  48, // CARRIER_DOWN_COUNT
  68,
  69,
  39, // PROTO_DOWN
  IFLA.ADDRESS,
  IFLA.BROADCAST,
  IFLA.STATS64,
  IFLA.STATS,
  43, // XDP
  IFLA.LINKINFO,
  IFLA.LINK,
  IFLA.QDISC,
  26, // AF_SPEC
  14, // MAP
];

/**
 * Decodes the payload of an `RTM_NEWLINK`/`RTM_DELLINK` message: `struct ifinfomsg`, then
 * attributes. Throws {@linkcode DecodeError} (offsets relative to `payload`) on a short header
 * or malformed attributes, `IFLA_LINKINFO` included.
 *
 * @example
 * ```ts
 * import { decodeLink, encodeLink } from "./link.ts";
 * const bytes = encodeLink({ index: 3, name: "eth0", flags: 0x1003, type: 1, mtu: 1500 });
 * decodeLink(bytes).mtu; // 1500
 * ```
 */
export function decodeLink(payload: Uint8Array): Link {
  // Its own copy: the `other` attributes kept are views, and must not hold the datagram (or the
  // receive arena it lies in) alive.
  payload = payload.slice();
  if (payload.length < IFINFOMSG_LEN) {
    throw new DecodeError(
      `link message has ${payload.length} bytes, struct ifinfomsg needs ${IFINFOMSG_LEN}`,
      0,
    );
  }
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const link: Link = {
    index: view.getInt32(4, true),
    name: "",
    flags: view.getUint32(8, true),
    type: view.getUint16(2, true),
  };
  if (payload[0] !== 0) link.family = payload[0];
  const change = view.getUint32(12, true);
  if (change !== 0) link.change = change;
  for (const attr of decodeAttributes(payload.subarray(IFINFOMSG_LEN), IFINFOMSG_LEN)) {
    const at = attr.data.byteOffset - payload.byteOffset - NLA_HDRLEN;
    switch (attr.type) {
      case IFLA.IFNAME:
        link.name = attrString(attr);
        break;
      case IFLA.MTU:
        link.mtu = attrU32(attr, at);
        break;
      case IFLA.OPERSTATE:
        link.operstate = attrU8(attr, at);
        break;
      case IFLA.LINKINFO:
        for (const inner of decodeAttributes(attr.data, at + NLA_HDRLEN)) {
          if (inner.type === IFLA_INFO.KIND) link.kind = attrString(inner);
          else (link.linkInfo ??= []).push(inner);
        }
        break;
      default:
        (link.other ??= []).push(attr);
    }
  }
  return link;
}

function stringBytes(text: string): Uint8Array {
  const utf8 = new TextEncoder().encode(text);
  const out = new Uint8Array(utf8.length + 1); // NUL-terminated
  out.set(utf8);
  return out;
}

function u32Bytes(value: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value >>> 0, true);
  return out;
}

/**
 * Encodes a link as the payload of an `RTM_NEWLINK`/`RTM_SETLINK`/`RTM_GETLINK` message. Fields
 * that are `undefined` (and an empty `name`) are left out; `IFLA_LINKINFO` is written when `kind`
 * or `linkInfo` is set, without `NLA_F_NESTED` as the kernel and `ip` write it. Attributes go out
 * in the kernel's dump order, so a dumped link re-encodes to the same bytes.
 *
 * @example
 * ```ts
 * import { encodeLink } from "./link.ts";
 * encodeLink({ index: 0, name: "lm0", flags: 0, type: 0, kind: "veth" }).length; // 16 + 8 + 16
 * ```
 */
export function encodeLink(link: Link): Uint8Array {
  const head = new Uint8Array(IFINFOMSG_LEN);
  const view = new DataView(head.buffer);
  head[0] = link.family ?? 0;
  view.setUint16(2, link.type, true);
  view.setInt32(4, link.index, true);
  view.setUint32(8, link.flags >>> 0, true);
  view.setUint32(12, (link.change ?? 0) >>> 0, true);

  const attrs: Attribute[] = [];
  if (link.name !== "") attrs.push({ type: IFLA.IFNAME, data: stringBytes(link.name) });
  if (link.mtu !== undefined) attrs.push({ type: IFLA.MTU, data: u32Bytes(link.mtu) });
  if (link.operstate !== undefined) {
    attrs.push({ type: IFLA.OPERSTATE, data: Uint8Array.of(link.operstate) });
  }
  if (link.kind !== undefined || link.linkInfo !== undefined) {
    const info = new AttributeEncoder();
    if (link.kind !== undefined) info.string(IFLA_INFO.KIND, link.kind);
    for (const inner of link.linkInfo ?? []) info.raw(inner);
    attrs.push({ type: IFLA.LINKINFO, data: info.finish() });
  }
  const encoder = new AttributeEncoder();
  for (const attr of inKernelOrder(attrs, link.other ?? [], KERNEL_ORDER)) encoder.raw(attr);
  const body = encoder.finish();
  const out = new Uint8Array(IFINFOMSG_LEN + body.length);
  out.set(head);
  out.set(body, IFINFOMSG_LEN);
  return out;
}
