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

/** The VPN clients linkmirror names. */
export type VpnName = "firezone" | "wg-quick" | "tailscale";

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
  const { table, rules, devices } = signals;

  const firezone: string[] = [];
  if (table === FIREZONE_TABLE) firezone.push(`table ${FIREZONE_TABLE}`);
  if (rules.some((r) => r.fwmark === FIREZONE_FWMARK)) {
    firezone.push(`fwmark ${fwmarkText(FIREZONE_FWMARK)}`);
  }
  if (firezone.length > 0) {
    found.push({ name: "firezone", evidence: [...firezone, ...deviceEvidence(devices, isFz)] });
  }

  const wgQuick: string[] = [];
  if (table === WG_QUICK_TABLE) wgQuick.push(`table ${WG_QUICK_TABLE}`);
  const ownMark = rules.find((r) =>
    (r.flags & FIB_RULE.INVERT) !== 0 && r.fwmark === table && r.table === table
  );
  if (ownMark) wgQuick.push(`rule "not fwmark ${fwmarkText(table)} lookup ${table}"`);
  if (wgQuick.length > 0) {
    found.push({ name: "wg-quick", evidence: [...wgQuick, ...deviceEvidence(devices, isWg)] });
  }

  const tailscale: string[] = [];
  if (table === TAILSCALE_TABLE) tailscale.push(`table ${TAILSCALE_TABLE}`);
  if (tailscale.length > 0) {
    if (rules.some((r) => r.priority === TAILSCALE_RULE_PRIORITY)) {
      tailscale.push(`rule priority ${TAILSCALE_RULE_PRIORITY}`);
    }
    found.push({ name: "tailscale", evidence: [...tailscale, ...deviceEvidence(devices, isTs)] });
  }

  // The clearest signature wins; ties go to the order above.
  return found.sort((a, b) => b.evidence.length - a.evidence.length)[0];
}

const isFz = (name: string) => name === "tun-firezone";
const isWg = (name: string) => /^wg/.test(name);
const isTs = (name: string) => name === "tailscale0";

function deviceEvidence(devices: readonly string[], test: (name: string) => boolean): string[] {
  return devices.filter(test).map((name) => `device ${name}`);
}
