/**
 * A policy rule in the words of `ip rule` (`32765:	not from all fwmark 0xfd002021 lookup
 * 539098368`), for `detect`, `status` and `explain`. Pure.
 *
 * @module
 */

import { FIB_RULE, FR_ACT } from "../netlink/constants.ts";
import type { Rule } from "../netlink/rule.ts";
import { BUILTIN_TABLES, tableName } from "../rt_tables.ts";

/** `FRA_SUPPRESS_PREFIXLEN` as the kernel reports it for a rule without one (-1 as a u32). */
export const NO_SUPPRESS_PREFIXLEN = 0xffffffff;

const ACTIONS: Record<number, string> = {
  [FR_ACT.NOP]: "nop",
  [FR_ACT.BLACKHOLE]: "blackhole",
  [FR_ACT.UNREACHABLE]: "unreachable",
  [FR_ACT.PROHIBIT]: "prohibit",
};

/** Formats a fwmark (and its mask unless it is all ones) as `ip rule` does: `0xca6c/0xff00`. */
export function fwmarkText(mark: number, mask?: number): string {
  const text = `0x${(mark >>> 0).toString(16)}`;
  return mask === undefined || mask >>> 0 === 0xffffffff
    ? text
    : `${text}/0x${(mask >>> 0).toString(16)}`;
}

/** The suppress-prefix-length of a rule, or undefined when it has none. */
export function suppressPrefixLen(rule: Rule): number | undefined {
  const value = rule.suppressPrefixLen;
  return value === undefined || value === NO_SUPPRESS_PREFIXLEN ? undefined : value;
}

/**
 * The rule's selector and action, without the priority, as `ip rule` prints them:
 * `not from all fwmark 0xfd002021 lookup 539098368`. `names` turns table ids into rt_tables names
 * (`main`, `local`, ...); ids without a name print as numbers.
 *
 * @example
 * ```ts
 * import { ruleSelectorText } from "./rule_text.ts";
 * ruleSelectorText({ family: 2, priority: 32765, table: 51820, action: 1, flags: 2, tos: 0,
 *   srcLen: 0, dstLen: 0, fwmark: 51820 });
 * // "not from all fwmark 0xca6c lookup 51820"
 * ```
 */
export function ruleSelectorText(
  rule: Rule,
  names: ReadonlyMap<string, number> = new Map(),
): string {
  const parts: string[] = [];
  if ((rule.flags & FIB_RULE.INVERT) !== 0) parts.push("not");
  parts.push(
    "from",
    rule.src !== undefined && rule.srcLen > 0 ? `${rule.src}/${rule.srcLen}` : "all",
  );
  if (rule.dst !== undefined && rule.dstLen > 0) parts.push("to", `${rule.dst}/${rule.dstLen}`);
  if (rule.tos !== 0) parts.push("tos", `0x${rule.tos.toString(16)}`);
  if (rule.fwmark !== undefined || rule.fwmask !== undefined) {
    parts.push("fwmark", fwmarkText(rule.fwmark ?? 0, rule.fwmask));
  }
  if (rule.iifname !== undefined) parts.push("iif", rule.iifname);
  if (rule.oifname !== undefined) parts.push("oif", rule.oifname);
  if (rule.action === FR_ACT.TO_TBL) {
    parts.push("lookup", tableName(rule.table, withBuiltins(names)));
  } else if (rule.action === FR_ACT.GOTO) {
    parts.push("goto");
  } else {
    parts.push(ACTIONS[rule.action] ?? `action ${rule.action}`);
  }
  const suppress = suppressPrefixLen(rule);
  if (suppress !== undefined) parts.push("suppress_prefixlength", String(suppress));
  return parts.join(" ");
}

/**
 * The rule as one line of `ip rule`, priority first: `32765: not from all fwmark 0xfd002021
 * lookup 539098368` (one space after the colon, where `ip` prints a tab).
 *
 * @example
 * ```ts
 * import { ruleText } from "./rule_text.ts";
 * ruleText({ family: 2, priority: 32766, table: 254, action: 1, flags: 0, tos: 0, srcLen: 0,
 *   dstLen: 0 }); // "32766: from all lookup main"
 * ```
 */
export function ruleText(rule: Rule, names: ReadonlyMap<string, number> = new Map()): string {
  return `${rule.priority ?? 0}: ${ruleSelectorText(rule, names)}`;
}

function withBuiltins(names: ReadonlyMap<string, number>): ReadonlyMap<string, number> {
  return names.size === 0 ? BUILTIN_TABLES : new Map([...BUILTIN_TABLES, ...names]);
}
