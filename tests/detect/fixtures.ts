/**
 * Rule builders and links for the detection and explain tests: the rule sets of a stock system,
 * Firezone, wg-quick and Tailscale, as the kernel dumps them. Routes: tests/_fixtures/routes.ts.
 *
 * @module
 */

import { AF, FIB_RULE, FR_ACT } from "../../src/netlink/constants.ts";
import type { Link } from "../../src/netlink/link.ts";
import type { Rule } from "../../src/netlink/rule.ts";
export { defaultVia, route } from "../_fixtures/routes.ts";

/** Interface indexes of {@linkcode LINKS}. */
export const IF = Object.freeze({ lo: 1, eth0: 2, tun0: 3, wg0: 4, tailscale0: 5 });

/** Links of the test machine. */
export const LINKS: readonly Link[] = [
  { index: IF.lo, name: "lo", flags: 0x9, type: 772 },
  { index: IF.eth0, name: "eth0", flags: 0x1003, type: 1 },
  { index: IF.tun0, name: "tun-firezone", flags: 0x11, type: 65534 },
  { index: IF.wg0, name: "wg0", flags: 0x11, type: 65534 },
  { index: IF.tailscale0, name: "tailscale0", flags: 0x11, type: 65534 },
];

/** A rule `priority: from all lookup table`, overridden by `extra`. */
export function rule(priority: number, table: number, extra: Partial<Rule> = {}): Rule {
  return {
    family: AF.INET,
    priority,
    table,
    action: FR_ACT.TO_TBL,
    flags: 0,
    tos: 0,
    srcLen: 0,
    dstLen: 0,
    suppressPrefixLen: 0xffffffff,
    ...extra,
  };
}

/** The rules of a stock system (local, main, default) for `family`. */
export function stockRules(family: number = AF.INET): Rule[] {
  const local = rule(0, 255, { family });
  delete local.priority; // The kernel leaves FRA_PRIORITY out for priority 0.
  return [local, rule(32766, 254, { family }), rule(32767, 253, { family })];
}

/** Firezone's rule (`not fwmark 0xfd002021 lookup 539098368`, pref 32765) for `family`. */
export function firezoneRule(family: number = AF.INET): Rule {
  return rule(32765, 539098368, {
    family,
    flags: FIB_RULE.INVERT,
    fwmark: 0xfd002021,
    fwmask: 0xffffffff,
  });
}

/** wg-quick's two rules: `not fwmark 51820 lookup 51820` and `lookup main suppress_prefixlength 0`. */
export function wgQuickRules(family: number = AF.INET): Rule[] {
  return [
    rule(32764, 254, { family, suppressPrefixLen: 0 }),
    rule(32765, 51820, { family, flags: FIB_RULE.INVERT, fwmark: 51820, fwmask: 0xffffffff }),
  ];
}

/** Tailscale's rules (5210 main, 5230 default, 5250 unreachable, 5270 table 52). */
export function tailscaleRules(family: number = AF.INET): Rule[] {
  const mark = { family, fwmark: 0x80000, fwmask: 0xff0000 };
  return [
    rule(5210, 254, mark),
    rule(5230, 253, mark),
    rule(5250, 0, { ...mark, action: FR_ACT.UNREACHABLE }),
    rule(5270, 52, { family }),
  ];
}
