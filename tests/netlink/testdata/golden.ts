/**
 * Helpers for the golden tests: hex <-> bytes, the captured messages, the names `ip -j` uses for
 * numeric fields, and checks of what an encoder wrote and what a decoder refuses. The captures come from capture.py; JSON is imported so that the tests need
 * no read permission.
 *
 * @module
 */

import addresses from "./addresses.json" with { type: "json" };
import links from "./links.json" with { type: "json" };
import linksIp from "./links.ip.json" with { type: "json" };
import nexthops from "./nexthops.json" with { type: "json" };
import routeAttrs from "./route_attrs.json" with { type: "json" };
import routes from "./routes.json" with { type: "json" };
import rules from "./rules.json" with { type: "json" };
import assert from "node:assert/strict";
import { decodeAttributes } from "../../../src/netlink/attributes.ts";
import { DecodeError } from "../../../src/netlink/errors.ts";
import { decodeMessages, type Message } from "../../../src/netlink/message.ts";

/** Bytes of a hex string. */
export function fromHex(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Hex string of bytes. */
export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * What an encoder wrote: the fixed header of `headerLen` bytes as hex, then the types of the
 * attributes after it, in order.
 */
export function layout(bytes: Uint8Array, headerLen: number): { header: string; types: number[] } {
  return {
    header: toHex(bytes.subarray(0, headerLen)),
    types: decodeAttributes(bytes.subarray(headerLen)).map((a) => a.type),
  };
}

/** Checks that `decode` refuses each message of `hexes` with a DecodeError (naming the hex). */
export function assertDecodeErrors(decode: (bytes: Uint8Array) => unknown, hexes: string[]): void {
  for (const hex of hexes) assert.throws(() => decode(fromHex(hex)), DecodeError, hex);
}

/** One captured message: its hex, as stored, and the decoded frame. */
export interface Golden {
  hex: string;
  message: Message;
}

function load(file: { messages: string[] }): Golden[] {
  return file.messages.map((hex) => {
    const frames = decodeMessages(fromHex(hex));
    if (frames.length !== 1) throw new Error(`expected one message in ${hex.slice(0, 32)}...`);
    return { hex, message: frames[0] };
  });
}

/** The captured dumps, one entry per message. */
export const GOLDEN = {
  routes: load(routes),
  links: load(links),
  addresses: load(addresses),
  rules: load(rules),
  /** Table 100 of the capture: every attribute a copy carries (metrics, realms, pref, ...). */
  routeAttrs: load(routeAttrs),
  /** Nexthop objects: single, gateway, group, resilient group, blackhole, fdb, IPv6. */
  nexthops: load(nexthops),
};

/** Every captured message, for the fuzzer's corpus. */
export const ALL_GOLDEN: Golden[] = [
  ...GOLDEN.routes,
  ...GOLDEN.links,
  ...GOLDEN.addresses,
  ...GOLDEN.rules,
  ...GOLDEN.routeAttrs,
  ...GOLDEN.nexthops,
];

/** Interface index by name, from the captured `ip -j link show`. */
export const IFINDEX: ReadonlyMap<string, number> = new Map(
  linksIp.map((l) => [l.ifname, l.ifindex]),
);

/** `ip`'s names of routing tables (`/etc/iproute2/rt_tables`). */
export const TABLE_NAMES: Readonly<Record<string, number>> = {
  main: 254,
  local: 255,
  default: 253,
};

/** `ip`'s names of route protocols (`/etc/iproute2/rt_protos`). */
export const PROTOCOL_NAMES: Readonly<Record<string, number>> = {
  unspec: 0,
  redirect: 1,
  kernel: 2,
  boot: 3,
  static: 4,
  ra: 9,
  dhcp: 16,
};

/** `ip`'s names of route scopes. */
export const SCOPE_NAMES: Readonly<Record<string, number>> = {
  global: 0,
  universe: 0,
  site: 200,
  link: 253,
  host: 254,
  nowhere: 255,
};

/** `ip`'s names of route types. */
export const TYPE_NAMES: Readonly<Record<string, number>> = {
  unicast: 1,
  local: 2,
  broadcast: 3,
  anycast: 4,
  multicast: 5,
  blackhole: 6,
  unreachable: 7,
  prohibit: 8,
  throw: 9,
};

/** `ip`'s names of IPv6 router preferences (`ICMPV6_ROUTER_PREF_*`). */
export const PREF_NAMES: Readonly<Record<string, number>> = { medium: 0, high: 1, low: 3 };

/** A table, protocol or similar field as `ip` prints it: a name or a decimal number. */
export function named(names: Readonly<Record<string, number>>, value: string): number {
  const n = names[value] ?? Number(value);
  if (!Number.isInteger(n)) throw new Error(`unknown name ${value}`);
  return n;
}
