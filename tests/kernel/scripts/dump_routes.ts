/**
 * Dumps every route of every table with linkmirror's RtnlClient and prints them as JSON, in the
 * words and with the omissions of `ip -j route show table all` (unicast, global scope, `boot`
 * protocol and table main left out), so a test can compare the decoder with iproute2.
 *
 * Usage: `deno run -A dump_routes.ts`
 *
 * @module
 */

import { AF, RT_SCOPE, RTN } from "../../../src/netlink/constants.ts";
import { formatCidr } from "../../../src/netlink/ip.ts";
import type { Route } from "../../../src/netlink/route.ts";
import { RtnlClient } from "../../../src/rtnl/client.ts";
import { assertInsideTestNetns } from "./guard.ts";

assertInsideTestNetns();
const client = RtnlClient.open();
const names = new Map(client.links().map((l) => [l.index, l.name]));
const PROTOS: Record<number, string> = {
  2: "kernel",
  4: "static",
  9: "ra",
  16: "dhcp",
  12: "bird",
};
const SCOPES: Record<number, string> = { [RT_SCOPE.LINK]: "link", [RT_SCOPE.HOST]: "host" };
const TABLES: Record<number, string> = { 255: "local", 253: "default" };
const TYPES: Record<number, string> = Object.fromEntries(
  Object.entries(RTN).map(([k, v]) => [v, k.toLowerCase()]),
);

function ipWords(route: Route): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (route.type !== RTN.UNICAST) out.type = TYPES[route.type];
  const hostLen = route.family === AF.INET ? 32 : 128;
  out.dst = route.dstLen === 0
    ? "default"
    : route.dstLen === hostLen
    ? route.dst
    : formatCidr({ family: route.family, address: route.dst, prefixLen: route.dstLen });
  if (route.gateway !== undefined) out.gateway = route.gateway;
  if (route.oif !== undefined) out.dev = names.get(route.oif);
  if (route.table !== 254) out.table = TABLES[route.table] ?? String(route.table);
  if (route.protocol !== 3) out.protocol = PROTOS[route.protocol] ?? String(route.protocol);
  if (route.scope !== RT_SCOPE.UNIVERSE) out.scope = SCOPES[route.scope] ?? String(route.scope);
  if (route.priority !== undefined) out.metric = route.priority;
  if (route.prefsrc !== undefined) out.prefsrc = route.prefsrc;
  if (route.multipath) {
    out.nexthops = route.multipath.map((h) => ({
      gateway: h.gateway,
      dev: names.get(h.oif),
      weight: h.hops + 1,
    }));
  }
  return out;
}

const routes = [AF.INET, AF.INET6].map((family) => client.routes({ family }).map(ipWords));
client.close();
console.log(JSON.stringify({ inet: routes[0], inet6: routes[1] }));
