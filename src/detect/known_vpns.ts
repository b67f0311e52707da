/**
 * The signatures of the VPN clients linkmirror knows by name: Firezone, wg-quick and Tailscale.
 * A name is given only when a signature is clear — the table id or fwmark the client always uses
 * (or, for wg-quick, its `not fwmark T lookup T` pattern); a device name only adds evidence. Pure.
 *
 * @module
 */

import { FIB_RULE } from "../netlink/constants.ts";
import type { Rule } from "../netlink/rule.ts";
import { fwmarkText } from "./rule_text.ts";

/** Firezone's routing table. */
export const FIREZONE_TABLE = 539098368;
/** The fwmark Firezone puts on its own tunnel packets (they skip its table). */
export const FIREZONE_FWMARK = 0xfd002021;
/** wg-quick's default table (and fwmark, and listen port). */
export const WG_QUICK_TABLE = 51820;
/** Tailscale's routing table. */
export const TAILSCALE_TABLE = 52;
/** The priority of Tailscale's `lookup 52` rule. */
export const TAILSCALE_RULE_PRIORITY = 5270;

/** How a VPN client is recognised. */
interface Signature {
  /** Its name. */
  name: string;
  /** The clear signs of it (a table id, an fwmark, a rule pattern), in words; none: not it. */
  signs(signals: VpnSignals): string[];
  /** Whether a device name is its (only adds evidence to clear signs). */
  device(name: string): boolean;
}

/**
 * The VPN clients linkmirror names, one entry each: a new one is a new entry (its constants
 * above). The order breaks ties between equally clear signatures.
 */
export const KNOWN_VPNS = [
  {
    name: "firezone",
    signs: ({ table, rules }) => [
      ...(table === FIREZONE_TABLE ? [`table ${FIREZONE_TABLE}`] : []),
      ...(rules.some((r) => r.fwmark === FIREZONE_FWMARK)
        ? [`fwmark ${fwmarkText(FIREZONE_FWMARK)}`]
        : []),
    ],
    device: (name) => name === "tun-firezone",
  },
  {
    name: "wg-quick",
    signs: ({ table, rules }) => [
      ...(table === WG_QUICK_TABLE ? [`table ${WG_QUICK_TABLE}`] : []),
      ...(rules.some((r) =>
          (r.flags & FIB_RULE.INVERT) !== 0 && r.fwmark === table && r.table === table
        )
        ? [`rule "not fwmark ${fwmarkText(table)} lookup ${table}"`]
        : []),
    ],
    device: (name) => /^wg/.test(name),
  },
  {
    name: "tailscale",
    signs: ({ table, rules }) =>
      table !== TAILSCALE_TABLE ? [] : [
        `table ${TAILSCALE_TABLE}`,
        ...(rules.some((r) => r.priority === TAILSCALE_RULE_PRIORITY)
          ? [`rule priority ${TAILSCALE_RULE_PRIORITY}`]
          : []),
      ],
    device: (name) => name === "tailscale0",
  },
] as const satisfies readonly Signature[];

/** The VPN clients linkmirror names. */
export type VpnName = typeof KNOWN_VPNS[number]["name"];

/** A named VPN and the signs that gave it away. */
export interface KnownVpn {
  /** Which client. */
  name: VpnName;
  /** Why, in words: `table 539098368`, `fwmark 0xfd002021`, `device tailscale0`, ... */
  evidence: string[];
}

/** What a table looks like, for {@linkcode identifyVpn}. */
export interface VpnSignals {
  /** The table id. */
  table: number;
  /** The rules that send traffic to the table. */
  rules: readonly Rule[];
  /** Names of the devices its default routes use. */
  devices: readonly string[];
}

/**
 * The known VPN client behind a table, or undefined when no signature is clear.
 *
 * @example
 * ```ts
 * import { identifyVpn } from "./known_vpns.ts";
 * identifyVpn({ table: 52, rules: [], devices: ["tailscale0"] });
 * // { name: "tailscale", evidence: ["table 52", "device tailscale0"] }
 * identifyVpn({ table: 100, rules: [], devices: ["tun0"] }); // undefined
 * ```
 */
export function identifyVpn(signals: VpnSignals): KnownVpn | undefined {
  const found: KnownVpn[] = [];
  for (const { name, signs, device } of KNOWN_VPNS) {
    const clear = signs(signals);
    if (clear.length === 0) continue;
    const devices = signals.devices.filter(device).map((d) => `device ${d}`);
    found.push({ name, evidence: [...clear, ...devices] });
  }
  // The clearest signature wins; ties go to the order of KNOWN_VPNS.
  return found.sort((a, b) => b.evidence.length - a.evidence.length)[0];
}
