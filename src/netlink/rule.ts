/**
 * Policy-rule messages (`struct fib_rule_hdr` + `FRA_*` attributes): the typed {@linkcode Rule}
 * and its codec.
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
import { FRA, RT_TABLE } from "./constants.ts";
import { DecodeError } from "./errors.ts";
import { inKernelOrder } from "./kernel_order.ts";
import { addressLength, formatIp, InvalidAddressError, parseIp } from "./ip.ts";

/**
 * A policy-routing rule (`ip rule`). `table` is the full 32-bit id: `FRA_TABLE` when present, else
 * the 8-bit header field.
 *
 * @example
 * ```ts
 * import type { Rule } from "./rule.ts";
 * // ip rule add not fwmark 0xfd002021 table 539098368 pref 32765
 * const firezone: Rule = {
 *   family: 2, priority: 32765, table: 539098368, action: 1, tos: 0, srcLen: 0, dstLen: 0,
 *   flags: 2, // FIB_RULE_INVERT
 *   fwmark: 0xfd002021, fwmask: 0xffffffff,
 * };
 * ```
 */
export interface Rule {
  /** `AF_INET`, `AF_INET6` (or `RTNL_FAMILY_IPMR`/`IP6MR` in dumps of every family). */
  family: number;
  /**
   * `FRA_PRIORITY` (`pref`). `undefined` when absent: the kernel leaves it out of the rule with
   * priority 0, and picks one for an `RTM_NEWRULE` without it.
   */
  priority?: number;
  /** Routing table id (32 bits). */
  table: number;
  /** `FR_ACT_*`: what the rule does (1 = look up `table`). */
  action: number;
  /** `FIB_RULE_*` bits; `FIB_RULE_INVERT` (2) is `ip rule add not ...`. */
  flags: number;
  /** Type of service to match. */
  tos: number;
  /** `FRA_SRC`: source prefix address, as text. */
  src?: string;
  /** Source prefix length (`src_len`); 0 matches all. */
  srcLen: number;
  /** `FRA_DST`: destination prefix address, as text. */
  dst?: string;
  /** Destination prefix length (`dst_len`); 0 matches all. */
  dstLen: number;
  /** `FRA_FWMARK`. */
  fwmark?: number;
  /** `FRA_FWMASK`. */
  fwmask?: number;
  /**
   * `FRA_SUPPRESS_PREFIXLEN`, as the u32 the kernel sends: it reports 0xffffffff (-1) for rules
   * without one.
   */
  suppressPrefixLen?: number;
  /** `FRA_IIFNAME`: input interface to match. */
  iifname?: string;
  /** `FRA_OIFNAME`: output interface to match. */
  oifname?: string;
  /** `FRA_PROTOCOL`: who installed the rule (`RTPROT_*`). */
  protocol?: number;
  /** Attributes that are not modelled above, in order. */
  other?: Attribute[];
}

/** Size of `struct fib_rule_hdr`, the fixed part of a rule message before its attributes. */
export const FIB_RULE_HDR_LEN = 12;

/**
 * Attributes that select packets but are not fields of {@linkcode Rule} (they stay in `other`),
 * in the kernel's order: tunnel id, l3mdev, uid range, IP protocol, source and destination ports.
 */
export const UNMODELLED_SELECTORS: readonly number[] = [
  FRA.TUN_ID,
  FRA.L3MDEV,
  FRA.UID_RANGE,
  FRA.IP_PROTO,
  FRA.SPORT_RANGE,
  FRA.DPORT_RANGE,
];

/**
 * The order in which the kernel dumps rule attributes (`fib_nl_fill_rule`, then the family's
 * `fill`). {@linkcode encodeRule} writes attributes in this order so that a dumped rule re-encodes
 * to the same bytes; `other` attributes keep their order.
 */
const KERNEL_ORDER: readonly number[] = [
  FRA.TABLE,
  FRA.SUPPRESS_PREFIXLEN,
  FRA.SUPPRESS_IFGROUP,
  FRA.PROTOCOL,
  FRA.IIFNAME,
  FRA.OIFNAME,
  FRA.PRIORITY,
  FRA.FWMARK,
  FRA.FWMASK,
  FRA.GOTO,
  ...UNMODELLED_SELECTORS,
  FRA.DST,
  FRA.SRC,
  FRA.FLOW,
];

/**
 * Decodes the payload of an `RTM_NEWRULE`/`RTM_DELRULE` message: `struct fib_rule_hdr`, then
 * attributes. Throws {@linkcode DecodeError} (offsets relative to `payload`) on a short header,
 * malformed attributes, a prefix length beyond the family's, and `FRA_SRC`/`FRA_DST` of the wrong
 * length or in a family without addresses.
 *
 * @example
 * ```ts
 * import { decodeRule, encodeRule } from "./rule.ts";
 * const bytes = encodeRule({
 *   family: 2, priority: 32765, table: 539098368, action: 1, flags: 2, tos: 0,
 *   srcLen: 0, dstLen: 0, fwmark: 0xfd002021,
 * });
 * decodeRule(bytes).table; // 539098368
 * ```
 */
export function decodeRule(payload: Uint8Array): Rule {
  // Its own copy: the `other` attributes kept are views, and must not hold the datagram (or the
  // receive arena it lies in) alive.
  payload = payload.slice();
  if (payload.length < FIB_RULE_HDR_LEN) {
    throw new DecodeError(
      `rule message has ${payload.length} bytes, struct fib_rule_hdr needs ${FIB_RULE_HDR_LEN}`,
      0,
    );
  }
  const family = payload[0];
  const addrLen = addressLength(family);
  for (const [what, at] of [["destination", 1], ["source", 2]] as const) {
    if (payload[at] > (addrLen ?? 0) * 8) {
      throw new DecodeError(
        `${what} prefix length ${payload[at]} exceeds ${(addrLen ?? 0) * 8} of family ${family}`,
        at,
      );
    }
  }
  const rule: Rule = {
    family,
    table: payload[4],
    action: payload[7],
    flags: new DataView(payload.buffer, payload.byteOffset + 8, 4).getUint32(0, true),
    tos: payload[3],
    dstLen: payload[1],
    srcLen: payload[2],
  };
  for (const attr of decodeAttributes(payload.subarray(FIB_RULE_HDR_LEN), FIB_RULE_HDR_LEN)) {
    const at = attr.data.byteOffset - payload.byteOffset - NLA_HDRLEN;
    const ip = () => {
      if (attr.data.length !== addrLen) {
        throw new DecodeError(
          `rule attribute ${attr.type} has ${attr.data.length} bytes, an address of family ` +
            `${family} has ${addrLen ?? "none"}`,
          at,
        );
      }
      return formatIp(attr.data);
    };
    switch (attr.type) {
      case FRA.TABLE:
        rule.table = attrU32(attr, at);
        break;
      case FRA.PRIORITY:
        rule.priority = attrU32(attr, at);
        break;
      case FRA.SRC:
        rule.src = ip();
        break;
      case FRA.DST:
        rule.dst = ip();
        break;
      case FRA.FWMARK:
        rule.fwmark = attrU32(attr, at);
        break;
      case FRA.FWMASK:
        rule.fwmask = attrU32(attr, at);
        break;
      case FRA.SUPPRESS_PREFIXLEN:
        rule.suppressPrefixLen = attrU32(attr, at);
        break;
      case FRA.IIFNAME:
        rule.iifname = attrString(attr);
        break;
      case FRA.OIFNAME:
        rule.oifname = attrString(attr);
        break;
      case FRA.PROTOCOL:
        rule.protocol = attrU8(attr, at);
        break;
      default:
        (rule.other ??= []).push(attr);
    }
  }
  return rule;
}

/**
 * Encodes a rule as the payload of an `RTM_NEWRULE`/`RTM_DELRULE` message. The header's table is
 * `table` below 256, else `RT_TABLE_COMPAT` (252), and `FRA_TABLE` always carries the full id;
 * optional fields that are `undefined` are left out. Attributes go out in the kernel's dump order,
 * so a dumped rule re-encodes to the same bytes. Throws {@linkcode InvalidAddressError} for an
 * address of the wrong family or a prefix length out of range.
 *
 * @example
 * ```ts
 * import { encodeRule } from "./rule.ts";
 * const payload = encodeRule({
 *   family: 10, priority: 2000, table: 51820, action: 1, flags: 0, tos: 0,
 *   src: "2001:db8::", srcLen: 32, dstLen: 0,
 * });
 * payload[4]; // 252
 * ```
 */
export function encodeRule(rule: Rule): Uint8Array {
  const { family } = rule;
  const bits = (addressLength(family) ?? 0) * 8;
  for (const [what, len] of [["destination", rule.dstLen], ["source", rule.srcLen]] as const) {
    if (!Number.isInteger(len) || len < 0 || len > bits) {
      throw new InvalidAddressError(String(len), `${what} prefix length must be 0-${bits}`);
    }
  }
  const head = new Uint8Array(FIB_RULE_HDR_LEN);
  head.set([
    family,
    rule.dstLen,
    rule.srcLen,
    rule.tos,
    rule.table < 256 ? rule.table : RT_TABLE.COMPAT,
    0,
    0,
    rule.action,
  ]);
  new DataView(head.buffer).setUint32(8, rule.flags >>> 0, true);

  const attrs: Attribute[] = [];
  const u32 = (type: number, value: number | undefined) => {
    if (value === undefined) return;
    const data = new Uint8Array(4);
    new DataView(data.buffer).setUint32(0, value >>> 0, true);
    attrs.push({ type, data });
  };
  const text = (type: number, value: string | undefined) => {
    if (value === undefined) return;
    const utf8 = new TextEncoder().encode(value);
    const data = new Uint8Array(utf8.length + 1); // NUL-terminated
    data.set(utf8);
    attrs.push({ type, data });
  };
  const ip = (type: number, value: string | undefined) => {
    if (value === undefined) return;
    const parsed = parseIp(value);
    // By length, not family: RTNL_FAMILY_IPMR rules carry IPv4 addresses, for instance.
    if (parsed.bytes.length !== addressLength(family)) {
      throw new InvalidAddressError(value, `not of the rule's family ${family}`);
    }
    attrs.push({ type, data: parsed.bytes });
  };
  u32(FRA.TABLE, rule.table);
  u32(FRA.SUPPRESS_PREFIXLEN, rule.suppressPrefixLen);
  if (rule.protocol !== undefined) {
    attrs.push({ type: FRA.PROTOCOL, data: Uint8Array.of(rule.protocol) });
  }
  text(FRA.IIFNAME, rule.iifname);
  text(FRA.OIFNAME, rule.oifname);
  u32(FRA.PRIORITY, rule.priority);
  u32(FRA.FWMARK, rule.fwmark);
  u32(FRA.FWMASK, rule.fwmask);
  ip(FRA.DST, rule.dst);
  ip(FRA.SRC, rule.src);
  const encoder = new AttributeEncoder();
  for (const attr of inKernelOrder(attrs, rule.other ?? [], KERNEL_ORDER)) encoder.raw(attr);
  const body = encoder.finish();
  const out = new Uint8Array(FIB_RULE_HDR_LEN + body.length);
  out.set(head);
  out.set(body, FIB_RULE_HDR_LEN);
  return out;
}
