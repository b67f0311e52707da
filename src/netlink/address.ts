/**
 * Address messages (`struct ifaddrmsg` + `IFA_*` attributes): the typed {@linkcode Address} and its
 * codec.
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
} from "./attributes.ts";
import { AF, IFA } from "./constants.ts";
import { DecodeError } from "./errors.ts";
import { inKernelOrder } from "./kernel_order.ts";
import { addressLength, formatIp, InvalidAddressError, maxPrefixLen, parseIp } from "./ip.ts";

/** An interface address as rtnetlink carries it. */
export interface Address {
  /** `AF_INET` or `AF_INET6`. */
  family: number;
  /** Interface index. */
  index: number;
  /** Prefix length. */
  prefixLen: number;
  /**
   * Address flags (`IFA_F_*`): `IFA_FLAGS` when present, else the 8-bit `ifa_flags`. Encoded into
   * both (the low 8 bits into `ifa_flags`).
   */
  flags: number;
  /** `ifa_scope`. */
  scope: number;
  /** `IFA_ADDRESS` as text (the peer on point-to-point links). */
  address?: string;
  /** `IFA_LOCAL` as text. */
  local?: string;
  /** `IFA_LABEL`. */
  label?: string;
  /** Attributes that are not modelled above, in order. */
  other?: Attribute[];
}

/** Size of `struct ifaddrmsg`, the fixed part of an address message before its attributes. */
export const IFADDRMSG_LEN = 8;
/** `IFA_PROTO`: who added the address (Linux 6.1+). */
const IFA_PROTO = 11;

/**
 * The order in which the kernel dumps address attributes (`inet_fill_ifaddr`,
 * `inet6_fill_ifaddr`). {@linkcode encodeAddress} writes attributes in this order so that a dumped
 * address re-encodes to the same bytes; `other` attributes keep their order.
 */
const KERNEL_ORDER: Readonly<Record<number, readonly number[]>> = {
  [AF.INET]: [
    IFA.ADDRESS,
    IFA.LOCAL,
    IFA.BROADCAST,
    IFA.LABEL,
    IFA.FLAGS,
    IFA.RT_PRIORITY,
    IFA_PROTO,
    IFA.CACHEINFO,
  ],
  [AF.INET6]: [IFA.LOCAL, IFA.ADDRESS, IFA.RT_PRIORITY, IFA.CACHEINFO, IFA.FLAGS, IFA_PROTO],
};

/**
 * Decodes the payload of an `RTM_NEWADDR`/`RTM_DELADDR` message: `struct ifaddrmsg`, then
 * attributes. Throws {@linkcode DecodeError} (offsets relative to `payload`) on a short header, a
 * family other than IPv4/IPv6, a prefix length beyond the family's, malformed attributes, and
 * `IFA_ADDRESS`/`IFA_LOCAL` of the wrong length.
 *
 * @example
 * ```ts
 * import { decodeAddress, encodeAddress } from "./address.ts";
 * const bytes = encodeAddress({
 *   family: 2, index: 3, prefixLen: 24, flags: 0x80, scope: 0, local: "10.0.0.2",
 * });
 * decodeAddress(bytes).local; // "10.0.0.2"
 * ```
 */
export function decodeAddress(payload: Uint8Array): Address {
  // Its own copy: the `other` attributes kept are views, and must not hold the datagram (or the
  // receive arena it lies in) alive.
  payload = payload.slice();
  if (payload.length < IFADDRMSG_LEN) {
    throw new DecodeError(
      `address message has ${payload.length} bytes, struct ifaddrmsg needs ${IFADDRMSG_LEN}`,
      0,
    );
  }
  const family = payload[0];
  if (family !== AF.INET && family !== AF.INET6) {
    throw new DecodeError(`address family ${family} is neither IPv4 nor IPv6`, 0);
  }
  if (payload[1] > maxPrefixLen(family)) {
    throw new DecodeError(`prefix length ${payload[1]} exceeds ${maxPrefixLen(family)}`, 1);
  }
  const address: Address = {
    family,
    index: new DataView(payload.buffer, payload.byteOffset + 4, 4).getUint32(0, true),
    prefixLen: payload[1],
    flags: payload[2],
    scope: payload[3],
  };
  for (const attr of decodeAttributes(payload.subarray(IFADDRMSG_LEN), IFADDRMSG_LEN)) {
    const at = attr.data.byteOffset - payload.byteOffset - NLA_HDRLEN;
    const ip = () => {
      if (attr.data.length !== addressLength(family)) {
        throw new DecodeError(
          `address attribute ${attr.type} has ${attr.data.length} bytes, expected ` +
            `${addressLength(family)}`,
          at,
        );
      }
      return formatIp(attr.data);
    };
    switch (attr.type) {
      case IFA.ADDRESS:
        address.address = ip();
        break;
      case IFA.LOCAL:
        address.local = ip();
        break;
      case IFA.LABEL:
        address.label = attrString(attr);
        break;
      case IFA.FLAGS:
        address.flags = attrU32(attr, at);
        break;
      default:
        (address.other ??= []).push(attr);
    }
  }
  return address;
}

/**
 * Encodes an address as the payload of an `RTM_NEWADDR`/`RTM_DELADDR` message. `IFA_FLAGS` is
 * always written (the kernel reads it since 3.14); `address`, `local` and `label` only when set.
 * Attributes go out in the kernel's dump order, so a dumped address re-encodes to the same bytes.
 * Throws {@linkcode InvalidAddressError} for an address of the wrong family or a prefix length out
 * of range.
 *
 * @example
 * ```ts
 * import { encodeAddress } from "./address.ts";
 * encodeAddress({ family: 10, index: 4, prefixLen: 64, flags: 0, scope: 0, local: "fd00::1" })
 *   .length; // 8 + 20 + 8
 * ```
 */
export function encodeAddress(address: Address): Uint8Array {
  const { family } = address;
  if (family !== AF.INET && family !== AF.INET6) {
    throw new InvalidAddressError(String(family), "an address's family must be IPv4 or IPv6");
  }
  const max = maxPrefixLen(family);
  if (!Number.isInteger(address.prefixLen) || address.prefixLen < 0 || address.prefixLen > max) {
    throw new InvalidAddressError(String(address.prefixLen), `prefix length must be 0-${max}`);
  }
  const head = new Uint8Array(IFADDRMSG_LEN);
  head.set([family, address.prefixLen, address.flags & 0xff, address.scope]);
  new DataView(head.buffer).setUint32(4, address.index >>> 0, true);

  const attrs: Attribute[] = [];
  const ip = (text: string) => {
    const parsed = parseIp(text);
    if (parsed.family !== family) {
      throw new InvalidAddressError(
        text,
        `not ${family === AF.INET ? "IPv4" : "IPv6"} like the address`,
      );
    }
    return parsed.bytes;
  };
  if (address.address !== undefined) attrs.push({ type: IFA.ADDRESS, data: ip(address.address) });
  if (address.local !== undefined) attrs.push({ type: IFA.LOCAL, data: ip(address.local) });
  if (address.label !== undefined) {
    const label = new TextEncoder().encode(address.label);
    const data = new Uint8Array(label.length + 1); // NUL-terminated
    data.set(label);
    attrs.push({ type: IFA.LABEL, data });
  }
  const flags = new Uint8Array(4);
  new DataView(flags.buffer).setUint32(0, address.flags >>> 0, true);
  attrs.push({ type: IFA.FLAGS, data: flags });
  const encoder = new AttributeEncoder();
  for (const attr of inKernelOrder(attrs, address.other ?? [], KERNEL_ORDER[family])) {
    encoder.raw(attr);
  }
  const body = encoder.finish();
  const out = new Uint8Array(IFADDRMSG_LEN + body.length);
  out.set(head);
  out.set(body, IFADDRMSG_LEN);
  return out;
}
