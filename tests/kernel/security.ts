/**
 * The hostile LAN of the security tests (TunnelVision, CVE-2024-3661): what a rogue DHCP server or
 * router can put into `main` on the LAN link, and the lookups that must keep going to the tunnel.
 *
 * @module
 */

import { equal } from "node:assert/strict";
import { FIREZONE_TABLE, INTERNET, LAN, tableRoutes } from "./firezone.ts";
import type { Netns } from "./netns.ts";

/** The prefixes a hostile LAN puts on-link in main, as `ip` prints them. */
export const HOSTILE_PREFIXES = [
  "0.0.0.0/1",
  "128.0.0.0/1",
  "1.1.1.0/24",
  "2000::/3",
] as const;

/**
 * Makes the LAN of `ns` hostile: DHCP option 121 routes `0.0.0.0/1` and `128.0.0.0/1` (proto
 * dhcp, on-link), a lease with a /1 netmask (`130.0.0.5/1`: its kernel prefix route
 * `128.0.0.0/1`), a router advertisement's route `2000::/3` (proto ra) and a public /24 on-link
 * (`1.1.1.0/24`, holding the tunnel's `1.1.1.1`).
 */
export async function hostileLan(ns: Netns): Promise<void> {
  await ns.ip("route", "add", "0.0.0.0/1", "dev", LAN.dev, "proto", "dhcp", "metric", "100");
  await ns.ip("route", "add", "128.0.0.0/1", "dev", LAN.dev, "proto", "dhcp", "metric", "100");
  await ns.ip("address", "add", "130.0.0.5/1", "dev", LAN.dev);
  await ns.ip("-6", "route", "add", "2000::/3", "dev", LAN.dev, "proto", "ra");
  await ns.ip("route", "add", "1.1.1.0/24", "dev", LAN.dev, "proto", "static");
}

/** The device `ip route get` picks for `address` in `ns`. */
export async function deviceFor(ns: Netns, address: string): Promise<string | undefined> {
  const [route] = await ns.ipJson<{ dev?: string }[]>("route", "get", address);
  return route?.dev;
}

/** Asserts that public addresses go to the tunnel and the LAN peer to the LAN. */
export async function assertNoLeak(ns: Netns, when: string): Promise<void> {
  for (const address of [...INTERNET.v4, ...INTERNET.v6, "130.0.0.1", "9.9.9.9"]) {
    equal(await deviceFor(ns, address), "tun0", `${when}: ${address} leaves the tunnel`);
  }
  equal(await deviceFor(ns, LAN.peer), LAN.dev, `${when}: the LAN peer`);
  equal(await deviceFor(ns, LAN.peer6), LAN.dev, `${when}: the LAN peer (IPv6)`);
}

/** linkmirror's copies in the Firezone table as `dst dev`, sorted. */
export async function copies(ns: Netns, table = FIREZONE_TABLE): Promise<string[]> {
  return (await tableRoutes(ns, table)).filter((r) => r.protocol === "77")
    .map((r) => `${r.dst} ${r.dev}`).sort();
}
