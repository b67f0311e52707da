/**
 * Rule sets of other VPN clients for the kernel tests, next to `firezone.ts`: wg-quick's
 * (`not fwmark 51820 lookup 51820` + `lookup main suppress_prefixlength 0`) and Tailscale's (table
 * 52 at priority 5270 behind its fwmark rules), each with a LAN veth to a peer and a tun device
 * standing for the tunnel (wireguard links cannot be created here).
 *
 * @module
 */

import { tunnel } from "./firezone.ts";
import type { Netns } from "./netns.ts";

/** wg-quick's table and fwmark. */
export const WG_TABLE = "51820";

/**
 * What `wg-quick up` does for `AllowedIPs = 0.0.0.0/0, ::/0` on `wg0` (a tun here), both
 * families, with priorities picked by the kernel as for wg-quick: 32765 for the fwmark rule, 32764
 * for the suppress rule added after it.
 */
export async function wgQuick(ns: Netns): Promise<void> {
  await tunnel(ns, "wg0", "10.66.0.2/32");
  for (const family of ["-4", "-6"]) {
    await ns.ip(family, "route", "add", "default", "dev", "wg0", "table", WG_TABLE);
    await ns.ip(family, "rule", "add", "not", "fwmark", WG_TABLE, "table", WG_TABLE);
    await ns.ip(family, "rule", "add", "table", "main", "suppress_prefixlength", "0");
  }
}

/** Tailscale's table. */
export const TS_TABLE = "52";

/** Tailscale with an exit node on `tailscale0` (a tun here): its rules and table 52. */
export async function tailscale(ns: Netns, options: { exitNode?: boolean } = {}): Promise<void> {
  await tunnel(ns, "tailscale0", "100.100.1.2/32");
  await ns.ip("route", "add", "100.64.0.0/10", "dev", "tailscale0", "table", TS_TABLE);
  if (options.exitNode !== false) {
    await ns.ip("route", "add", "default", "dev", "tailscale0", "table", TS_TABLE);
  }
  const mark = ["fwmark", "0x80000/0xff0000"];
  await ns.ip("rule", "add", "pref", "5210", ...mark, "table", "main");
  await ns.ip("rule", "add", "pref", "5230", ...mark, "table", "default");
  await ns.ip("rule", "add", "pref", "5250", ...mark, "unreachable");
  await ns.ip("rule", "add", "pref", "5270", "table", TS_TABLE);
}
