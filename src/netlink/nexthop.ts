/**
 * Nexthop objects (`RTM_NEWNEXTHOP`/`RTM_DELNEXTHOP`: `struct nhmsg` + `NHA_*` attributes), what
 * `ip nexthop` shows and routes refer to with `RTA_NH_ID`: the typed {@linkcode NexthopObject}
 * and its codec. Objects live per network namespace, not per table.
 *
 * @module
 */

import {
  type Attribute,
  AttributeEncoder,
  attrU16,
  attrU32,
  decodeAttributes,
  NLA_HDRLEN,
} from "./attributes.ts";
import { AF, NHA } from "./constants.ts";
import { DecodeError } from "./errors.ts";
import { formatIp, InvalidAddressError, parseIp } from "./ip.ts";
import { inKernelOrder } from "./kernel_order.ts";

/** One member of a nexthop group (`struct nexthop_grp`). */
export interface NexthopGroupMember {
  /** The member's nexthop id. */
  id: number;
  /** Its weight, 1 to 65536 (`weight + 1`, with `weight_high` as the upper 8 bits). */
  weight: number;
}

/**
 * A nexthop object: either one next hop (a device, a gateway, or both; or a blackhole) or a group
 * of other objects. Addresses are canonical text.
 */
export interface NexthopObject {
  /** `nh_family`: `AF_INET`/`AF_INET6` for a single next hop, `AF_UNSPEC` for a group. */
  family: number;
  /** `nh_scope` (reported by the kernel only). */
  scope: number;
  /** `nh_protocol`: who installed it. */
  protocol: number;
  /** `nh_flags` (`RTNH_F_*`, e.g. onlink, dead, linkdown). */
  flags: number;
  /** `NHA_ID`. */
  id: number;
  /** `NHA_OIF`: output interface index. */
  oif?: number;
  /** `NHA_GATEWAY`, as text. */
  gateway?: string;
  /** `NHA_BLACKHOLE`: drops what it gets. */
  blackhole?: boolean;
  /** `NHA_FDB`: for the bridge FDB (VXLAN), not usable by routes. */
  fdb?: boolean;
  /** `NHA_GROUP`: the members of a group. */
  group?: NexthopGroupMember[];
  /** `NHA_GROUP_TYPE`: `NEXTHOP_GRP_TYPE_MPATH` (0) or `_RES` (1, resilient). */
  groupType?: number;
  /** Attributes that are not modelled above (encapsulation, resilient-group data...), in order. */
  other?: Attribute[];
}

/** Size of `struct nhmsg`. */
export const NHMSG_LEN = 8;
/** Size of `struct nexthop_grp`. */
const NEXTHOP_GRP_LEN = 8;

/** The order in which the kernel writes a nexthop's attributes (`nh_fill_node`). */
const KERNEL_ORDER: readonly number[] = [
  NHA.ID,
  NHA.FDB,
  NHA.GROUP_TYPE,
  NHA.GROUP,
  NHA.RES_GROUP,
  NHA.OP_FLAGS,
  NHA.BLACKHOLE,
  NHA.OIF,
  NHA.GATEWAY,
  NHA.ENCAP_TYPE,
  NHA.ENCAP,
];

function decodeGroup(data: Uint8Array, at: number): NexthopGroupMember[] {
  if (data.length % NEXTHOP_GRP_LEN !== 0) {
    throw new DecodeError(`NHA_GROUP has ${data.length} bytes, not a multiple of 8`, at);
  }
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const out: NexthopGroupMember[] = [];
  for (let off = 0; off < data.length; off += NEXTHOP_GRP_LEN) {
    out.push({ id: view.getUint32(off, true), weight: data[off + 4] + (data[off + 5] << 8) + 1 });
  }
  return out;
}

/**
 * Decodes the payload of an `RTM_NEWNEXTHOP`/`RTM_DELNEXTHOP` message (after the `nlmsghdr`).
 * Throws {@linkcode DecodeError} (offsets relative to `payload`) on a short `nhmsg`, malformed
 * attributes, a missing `NHA_ID`, a gateway of the wrong length or a group that is not a whole
 * number of `nexthop_grp` entries.
 *
 * @example
 * ```ts
 * import { decodeNexthop, encodeNexthop } from "./nexthop.ts";
 * const bytes = encodeNexthop({ family: 2, scope: 253, protocol: 0, flags: 0, id: 10, oif: 3 });
 * decodeNexthop(bytes).oif; // 3
 * ```
 */
export function decodeNexthop(payload: Uint8Array): NexthopObject {
  if (payload.length < NHMSG_LEN) {
    throw new DecodeError(
      `nexthop message has ${payload.length} bytes, struct nhmsg needs ${NHMSG_LEN}`,
      0,
    );
  }
  const nh: NexthopObject = {
    family: payload[0],
    scope: payload[1],
    protocol: payload[2],
    flags: new DataView(payload.buffer, payload.byteOffset + 4, 4).getUint32(0, true),
    id: 0,
  };
  let hasId = false;
  for (const attr of decodeAttributes(payload.subarray(NHMSG_LEN), NHMSG_LEN)) {
    const at = attr.data.byteOffset - payload.byteOffset - NLA_HDRLEN;
    switch (attr.type) {
      case NHA.ID:
        nh.id = attrU32(attr, at);
        hasId = true;
        break;
      case NHA.OIF:
        nh.oif = attrU32(attr, at);
        break;
      case NHA.GATEWAY: {
        const want = nh.family === AF.INET ? 4 : nh.family === AF.INET6 ? 16 : undefined;
        if (want === undefined || attr.data.length !== want) {
          throw new DecodeError(
            `NHA_GATEWAY has ${attr.data.length} bytes, family ${nh.family} needs ${
              want ?? "none"
            }`,
            at,
          );
        }
        nh.gateway = formatIp(attr.data);
        break;
      }
      case NHA.BLACKHOLE:
        nh.blackhole = true;
        break;
      case NHA.FDB:
        nh.fdb = true;
        break;
      case NHA.GROUP:
        nh.group = decodeGroup(attr.data, at);
        break;
      case NHA.GROUP_TYPE:
        nh.groupType = attrU16(attr, at);
        break;
      default:
        (nh.other ??= []).push(attr);
    }
  }
  if (!hasId) throw new DecodeError("nexthop message without NHA_ID", 0);
  return nh;
}

function u32(value: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value >>> 0, true);
  return out;
}

/**
 * Encodes a nexthop object as the payload of an `RTM_NEWNEXTHOP` message, attributes in the
 * kernel's order (unmodelled ones included), so that a dumped object re-encodes to its bytes.
 * Throws {@linkcode InvalidAddressError} for a gateway that does not parse or is not of
 * `family`, and a `RangeError` for a group weight outside 1-65536.
 *
 * @example
 * ```ts
 * import { encodeNexthop } from "./nexthop.ts";
 * encodeNexthop({ family: 0, scope: 0, protocol: 0, flags: 0, id: 12,
 *   group: [{ id: 10, weight: 1 }, { id: 11, weight: 3 }] }).length; // 8 + 8 + 20
 * ```
 */
export function encodeNexthop(nh: NexthopObject): Uint8Array {
  const head = new Uint8Array(NHMSG_LEN);
  head.set([nh.family, nh.scope, nh.protocol, 0]);
  new DataView(head.buffer).setUint32(4, nh.flags >>> 0, true);
  const attrs: Attribute[] = [{ type: NHA.ID, data: u32(nh.id) }];
  if (nh.fdb) attrs.push({ type: NHA.FDB, data: new Uint8Array(0) });
  if (nh.group !== undefined) {
    const data = new Uint8Array(nh.group.length * NEXTHOP_GRP_LEN);
    const view = new DataView(data.buffer);
    nh.group.forEach((member, i) => {
      if (!Number.isInteger(member.weight) || member.weight < 1 || member.weight > 65536) {
        throw new RangeError(`nexthop group weight ${member.weight} is not 1-65536`);
      }
      view.setUint32(i * NEXTHOP_GRP_LEN, member.id >>> 0, true);
      view.setUint16(i * NEXTHOP_GRP_LEN + 4, member.weight - 1, true);
    });
    attrs.push({ type: NHA.GROUP, data });
  }
  if (nh.groupType !== undefined) {
    attrs.push({
      type: NHA.GROUP_TYPE,
      data: Uint8Array.of(nh.groupType & 0xff, nh.groupType >> 8),
    });
  }
  if (nh.blackhole) attrs.push({ type: NHA.BLACKHOLE, data: new Uint8Array(0) });
  if (nh.oif !== undefined) attrs.push({ type: NHA.OIF, data: u32(nh.oif) });
  if (nh.gateway !== undefined) {
    const ip = parseIp(nh.gateway);
    if (ip.family !== nh.family) {
      throw new InvalidAddressError(
        nh.gateway,
        `the gateway of a nexthop of family ${nh.family} must be ${
          nh.family === AF.INET ? "IPv4" : "IPv6"
        }`,
      );
    }
    attrs.push({ type: NHA.GATEWAY, data: ip.bytes });
  }
  const encoder = new AttributeEncoder();
  for (const attr of inKernelOrder(attrs, nh.other ?? [], KERNEL_ORDER)) encoder.raw(attr);
  const body = encoder.finish();
  const out = new Uint8Array(NHMSG_LEN + body.length);
  out.set(head);
  out.set(body, NHMSG_LEN);
  return out;
}
