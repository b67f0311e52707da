/**
 * The Firezone scenario every end-to-end test starts from: a laptop namespace with a LAN veth to
 * a peer namespace, a tun device standing for the VPN, table 539098368 holding the VPN's routes
 * (`default dev tun0`, both families) and the rule `not fwmark 0xfd002021 lookup 539098368` in
 * front of main.
 *
 * @module
 */

import type { Netns } from "./netns.ts";

/** Firezone's routing table. */
export const FIREZONE_TABLE = "539098368";

/** Addresses of the scenario. */
export const LAN = Object.freeze({
  dev: "lan0",
  peerDev: "lan0",
  address: "192.168.188.112",
  peer: "192.168.188.1",
  prefix: "192.168.188.0/24",
  address6: "2001:db8:188::112",
  peer6: "2001:db8:188::1",
  prefix6: "2001:db8:188::/64",
});

/** One route as `ip -j route` prints it (the fields tests look at). */
export interface IpRoute {
  dst: string;
  dev?: string;
  gateway?: string;
  protocol?: string;
  scope?: string;
  prefsrc?: string;
  metric?: number;
  table?: string;
  flags?: string[];
}

/** A namespace with a LAN (`lan0`, 192.168.188.112/24 and 2001:db8:188::112/64) and a peer. */
export async function lanOnly(ns: Netns): Promise<Netns> {
  const peer = await ns.connectPeer({
    localIf: LAN.dev,
    peerIf: LAN.peerDev,
    localAddress: `${LAN.address}/24`,
    peerAddress: `${LAN.peer}/24`,
  });
  await ns.ip("-6", "address", "add", `${LAN.address6}/64`, "dev", LAN.dev, "nodad");
  await peer.ip("-6", "address", "add", `${LAN.peer6}/64`, "dev", LAN.peerDev, "nodad");
  return peer;
}

/** A tun device `name`, up, with `address`. */
export async function tunnel(ns: Netns, name: string, address: string): Promise<void> {
  await ns.ip("tuntap", "add", "mode", "tun", "name", name);
  await ns.ip("link", "set", name, "up");
  await ns.ip("address", "add", address, "dev", name);
}

/** Builds the scenario in `ns`; returns the LAN peer namespace. */
export async function firezone(ns: Netns): Promise<Netns> {
  const peer = await lanOnly(ns);
  await tunnel(ns, "tun0", "100.64.0.2/32");
  await ns.ip("route", "add", "default", "dev", "tun0", "table", FIREZONE_TABLE);
  await ns.ip("route", "add", "100.64.0.0/11", "dev", "tun0", "table", FIREZONE_TABLE);
  await ns.ip("-6", "route", "add", "default", "dev", "tun0", "table", FIREZONE_TABLE);
  for (const family of ["-4", "-6"]) {
    await ns.ip(
      family,
      "rule",
      "add",
      "not",
      "fwmark",
      "0xfd002021",
      "table",
      FIREZONE_TABLE,
      "pref",
      "32765",
    );
  }
  return peer;
}

/** `ip -j route show table T` for both families. */
export async function tableRoutes(ns: Netns, table = FIREZONE_TABLE): Promise<IpRoute[]> {
  return [
    ...await ns.ipJson<IpRoute[]>("-4", "route", "show", "table", table),
    ...await ns.ipJson<IpRoute[]>("-6", "route", "show", "table", table),
  ];
}

/** The device the kernel picks for `address` (`ip -j route get`). */
export async function routeDevice(ns: Netns, address: string): Promise<string | undefined> {
  const [route] = await ns.ipJson<{ dev?: string }[]>("route", "get", address);
  return route?.dev;
}
