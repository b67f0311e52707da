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
  await firezoneTable(ns);
  return peer;
}

/** Public addresses that stand for the Internet, held by the far end of {@linkcode firezoneWithTunnel}. */
export const INTERNET = Object.freeze({
  v4: ["8.8.8.8", "1.1.1.1"],
  v6: ["2606:4700::1111"],
  /** The laptop's tunnel addresses. */
  tunnel: "100.64.0.2",
  tunnel6: "fd00:2021:1111::2",
});

/**
 * The Firezone scenario with a tunnel that carries traffic: `tun0` is a veth to a second peer
 * namespace standing for the VPN's far end, which holds the {@linkcode INTERNET} addresses on its
 * end of the link (so ARP and neighbour discovery for them work through the on-link defaults).
 * Returns the LAN peer and the VPN peer namespaces.
 */
export async function firezoneWithTunnel(ns: Netns): Promise<{ lan: Netns; vpn: Netns }> {
  const lan = await lanOnly(ns);
  const vpn = await ns.connectPeer({
    localIf: "tun0",
    peerIf: "vpn0",
    localAddress: `${INTERNET.tunnel}/32`,
  });
  await ns.ip("-6", "address", "add", `${INTERNET.tunnel6}/128`, "dev", "tun0", "nodad");
  for (const address of INTERNET.v4) await vpn.ip("address", "add", `${address}/32`, "dev", "vpn0");
  for (const address of INTERNET.v6) {
    await vpn.ip("-6", "address", "add", `${address}/128`, "dev", "vpn0", "nodad");
  }
  await vpn.ip("route", "add", `${INTERNET.tunnel}/32`, "dev", "vpn0");
  await vpn.ip("-6", "route", "add", `${INTERNET.tunnel6}/128`, "dev", "vpn0");
  await firezoneTable(ns);
  return { lan, vpn };
}

/** The `ip` words of Firezone's routes in `table`: default (both families) and its CGNAT range. */
export function firezoneRoutes(table: string): string[][] {
  return [
    ["route", "add", "default", "dev", "tun0", "table", table],
    ["route", "add", "100.64.0.0/11", "dev", "tun0", "table", table],
    ["-6", "route", "add", "default", "dev", "tun0", "table", table],
  ];
}

/** The `ip` words (after the family) of Firezone's rule: not its fwmark, lookup `table`. */
export function firezoneRule(table: string, pref = "32765"): string[] {
  return ["rule", "add", "not", "fwmark", "0xfd002021", "table", table, "pref", pref];
}

/**
 * Adds a route of another program to the VPN's table, through tun0 with protocol `protocol`:
 * `ip [-6] route add DST dev tun0 table 539098368 proto PROTOCOL ...more`.
 */
export async function vpnTableRoute(
  ns: Netns,
  dst: string,
  protocol: string,
  ...more: string[]
): Promise<void> {
  const family = dst.includes(":") ? ["-6"] : [];
  await ns.ip(
    ...family,
    "route",
    "add",
    dst,
    "dev",
    "tun0",
    "table",
    FIREZONE_TABLE,
    "proto",
    protocol,
    ...more,
  );
}

/** Table 539098368 with the VPN's routes through `tun0` and Firezone's rules in front of main. */
async function firezoneTable(ns: Netns): Promise<void> {
  for (const route of firezoneRoutes(FIREZONE_TABLE)) await ns.ip(...route);
  for (const family of ["-4", "-6"]) await ns.ip(family, ...firezoneRule(FIREZONE_TABLE));
}

/**
 * Whether a TCP connection from `ns` to `host` (served by `server`, a namespace holding `host`)
 * carries data: a one-shot server answers "hi".
 */
export async function tcpReaches(ns: Netns, server: Netns, host: string, port = 7000) {
  const listener = server.spawn([
    Deno.execPath(),
    "eval",
    `const l = Deno.listen({ hostname: ${JSON.stringify(host)}, port: ${port} });
     console.error("up");
     for await (const c of l) { await c.write(new TextEncoder().encode("hi")); c.close(); }`,
  ]);
  try {
    await listener.waitForLine(/up/, { timeoutMs: 10_000 });
    const client = await ns.exec([
      Deno.execPath(),
      "eval",
      `const c = await Deno.connect({ hostname: ${JSON.stringify(host)}, port: ${port} });
       const b = new Uint8Array(2); await c.read(b); console.log(new TextDecoder().decode(b));`,
    ], { timeoutMs: 10_000 });
    return client.stdout.trim() === "hi";
  } finally {
    await listener.stop(2000);
  }
}

/** linkmirror's copies (proto 77) in `table`, as `ip -j route show` lists them (IPv4 by default). */
export function copyRoutes(ns: Netns, table = FIREZONE_TABLE): Promise<IpRoute[]> {
  return ns.ipJson<IpRoute[]>("route", "show", "table", table, "proto", "77");
}

/** Every route of `table` (IPv4 then IPv6) as `ip -j route show table TABLE` lists them. */
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
