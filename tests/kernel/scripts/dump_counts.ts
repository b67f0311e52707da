/**
 * Opens a NetlinkSocket and dumps links, the IPv4 routes of all tables and those of one table.
 * Prints `{ pid, receiveBufferBytes, links, routes, tableRoutes, linkTypes }` as JSON.
 *
 * Usage: `deno run -A dump_counts.ts TABLE`
 *
 * @module
 */

import { Conn } from "../../../src/netlink/conn.ts";
import { AF, RTM } from "../../../src/netlink/constants.ts";
import { NetlinkSocket } from "../../../src/netlink/socket.ts";
import { assertInsideTestNetns } from "./guard.ts";
import { routeDumpPayload } from "./route_payload.ts";

assertInsideTestNetns();
const table = Number(Deno.args[0] ?? 100);
using sock = NetlinkSocket.open({ receiveBuffer: 1 << 20 });
const conn = new Conn(sock);
const links = conn.dump(RTM.GETLINK, new Uint8Array(16)); // struct ifinfomsg, all zero
const allRoutes = new Uint8Array(12);
allRoutes[0] = AF.INET;
const routes = conn.dump(RTM.GETROUTE, allRoutes);
const tableRoutes = conn.dump(RTM.GETROUTE, routeDumpPayload(table));
console.log(JSON.stringify({
  pid: sock.pid,
  receiveBufferBytes: sock.receiveBufferBytes,
  links: links.length,
  routes: routes.length,
  tableRoutes: tableRoutes.length,
  linkTypes: [...new Set(links.map((m) => m.header.type))],
}));
