/**
 * Which policy rule sent a lookup to the table that answered it. The kernel's `RTM_GETROUTE`
 * reply names the table (and, with `RTM_F_FIB_MATCH`, the route) but not the rule; this walks the
 * rules the way `fib_rules_lookup` does for a locally sent packet — as `ip route get ADDRESS
 * [mark M]` describes it: no source address, input interface `lo`, no output interface, tos 0,
 * protocol and ports 0, uid 0 — and returns the first rule that matches and leads to the
 * answering table (a table that did not answer had no route, or one its rule suppressed). Pure.
 *
 * @module
 */

import { AF, FIB_RULE, FR_ACT, FRA } from "../netlink/constants.ts";
import { cidrOverlaps, maxPrefixLen, parseIp } from "../netlink/ip.ts";
import type { Rule } from "../netlink/rule.ts";
import { suppressPrefixLen } from "../detect/rule_text.ts";
import { rulePriority } from "../detect/vpn_tables.ts";

/** The packet a lookup stands for. */
export interface LookupFlow {
  /** Destination address. */
  dst: string;
  /** fwmark; default 0. */
  mark?: number;
  /** The uid of the lookup; default 0 (root, who runs linkmirror). */
  uid?: number;
}

/** The kernel's answer to the lookup. */
export type LookupAnswer =
  | { table: number; dstLen: number }
  | { errno: number };

/** `LOOPBACK_IFINDEX`'s name: locally sent packets are looked up with `iif lo`. */
const LOCAL_IIF = "lo";

function u32At(data: Uint8Array, offset: number): number {
  return new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(offset, true);
}

/**
 * Whether `rule` selects the packet `flow` (before its action), honouring `not`; a rule of
 * another family never does. Selectors a
 * locally sent packet does not carry (source prefix other than one covering the unspecified
 * address, output interface, input interface other than `lo`, tos, protocol, ports, tunnel id,
 * l3mdev) do not match it.
 *
 * @example
 * ```ts
 * import { ruleSelects } from "./rule_walk.ts";
 * const firezone = { family: 2, priority: 32765, table: 539098368, action: 1, flags: 2, tos: 0,
 *   srcLen: 0, dstLen: 0, fwmark: 0xfd002021 };
 * ruleSelects(firezone, { dst: "192.168.1.1" }); // true
 * ruleSelects(firezone, { dst: "192.168.1.1", mark: 0xfd002021 }); // false
 * ```
 */
export function ruleSelects(rule: Rule, flow: LookupFlow): boolean {
  const family = parseIp(flow.dst).family;
  const bits = maxPrefixLen(family);
  const inside = (address: string | undefined, len: number, what: string) =>
    len === 0 || (address !== undefined &&
      cidrOverlaps({ family, address, prefixLen: len }, {
        family,
        address: what,
        prefixLen: bits,
      }));
  if (rule.family !== family) return false;
  let match = inside(rule.src, rule.srcLen, family === AF.INET ? "0.0.0.0" : "::") &&
    inside(rule.dst, rule.dstLen, flow.dst) &&
    rule.tos === 0 &&
    (rule.iifname === undefined || rule.iifname === LOCAL_IIF) &&
    rule.oifname === undefined;
  if (match && (rule.fwmark !== undefined || rule.fwmask !== undefined)) {
    const mask = rule.fwmask ?? 0xffffffff;
    match = (((flow.mark ?? 0) ^ (rule.fwmark ?? 0)) & mask) === 0;
  }
  for (const attr of rule.other ?? []) {
    if (!match) break;
    if (attr.type === FRA.UID_RANGE && attr.data.length >= 8) {
      const uid = flow.uid ?? 0;
      match = uid >= u32At(attr.data, 0) && uid <= u32At(attr.data, 4);
    } else if (
      attr.type === FRA.IP_PROTO || attr.type === FRA.SPORT_RANGE ||
      attr.type === FRA.DPORT_RANGE || attr.type === FRA.TUN_ID || attr.type === FRA.L3MDEV
    ) {
      match = false;
    }
  }
  return (rule.flags & FIB_RULE.INVERT) !== 0 ? !match : match;
}

/** The errno a terminal rule action gives (`ip rule add unreachable` ...). */
const ACTION_ERRNO: Readonly<Record<number, number>> = {
  [FR_ACT.UNREACHABLE]: 101, // ENETUNREACH
  [FR_ACT.PROHIBIT]: 13, // EACCES
  [FR_ACT.BLACKHOLE]: 22, // EINVAL
};

/**
 * The rule that led the lookup of `flow` to `answer`: for a table answer, the first rule (by
 * priority, `goto` followed) that selects the packet, looks up that table and does not suppress
 * the answer (`suppress_prefixlength N` rejects answers of prefix length N or shorter); for an
 * error answer, the first selecting rule whose action is `unreachable`, `prohibit` or `blackhole`
 * with that errno. Undefined when no rule explains the answer.
 *
 * @example
 * ```ts
 * import { answeringRule } from "./rule_walk.ts";
 * const base = { family: 2, action: 1, flags: 0, tos: 0, srcLen: 0, dstLen: 0 };
 * const rules = [
 *   { ...base, priority: 32764, table: 254, suppressPrefixLen: 0 },
 *   { ...base, priority: 32765, table: 51820, flags: 2, fwmark: 51820 },
 *   { ...base, priority: 32766, table: 254 },
 * ];
 * answeringRule(rules, { dst: "8.8.8.8", mark: 51820 }, { table: 254, dstLen: 0 })?.priority;
 * // 32766 (32764 suppresses the default route)
 * ```
 */
export function answeringRule(
  rules: readonly Rule[],
  flow: LookupFlow,
  answer: LookupAnswer,
): Rule | undefined {
  const family = parseIp(flow.dst).family;
  const ordered = rules.filter((r) => r.family === family)
    .sort((a, b) => rulePriority(a) - rulePriority(b));
  let gotoTarget: number | undefined;
  for (const rule of ordered) {
    if (gotoTarget !== undefined && rulePriority(rule) < gotoTarget) continue;
    gotoTarget = undefined;
    if (!ruleSelects(rule, flow)) continue;
    if (rule.action === FR_ACT.GOTO) {
      const target = rule.other?.find((a) => a.type === FRA.GOTO);
      if (target && target.data.length >= 4) gotoTarget = u32At(target.data, 0);
      continue;
    }
    if ("errno" in answer) {
      if (ACTION_ERRNO[rule.action] === answer.errno) return rule;
      if (rule.action in ACTION_ERRNO) return undefined;
      continue;
    }
    if (rule.action in ACTION_ERRNO) return undefined;
    if (rule.action !== FR_ACT.TO_TBL || rule.table !== answer.table) continue;
    const suppress = suppressPrefixLen(rule);
    if (suppress !== undefined && answer.dstLen <= suppress) continue;
    return rule;
  }
  return undefined;
}
