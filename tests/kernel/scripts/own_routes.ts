/**
 * Subscribes to the IPv4 and IPv6 route groups with `dropOwnIpv4Routes`, then changes routes in
 * table 100 from the subscribing client (an IPv4 add and delete, an IPv6 add) and from a second
 * client (an IPv4 add). Prints the route events that arrived as JSON: `{ own, events }`, each
 * event `"new|del <dst>/<len> own|other"`.
 *
 * Usage: `deno run -A own_routes.ts`
 *
 * @module
 */

import { RTNLGRP } from "../../../src/netlink/constants.ts";
import type { Route } from "../../../src/netlink/route.ts";
import { RtnlClient } from "../../../src/rtnl/client.ts";
import { assertInsideTestNetns } from "./guard.ts";
import { ifindex } from "./route_payload.ts";

assertInsideTestNetns();
const oif = ifindex("v0");
const route = (dst: string, dstLen: number, family = 2): Route => ({
  family,
  table: 100,
  dst,
  dstLen,
  srcLen: 0,
  tos: 0,
  protocol: 77,
  scope: family === 2 ? 253 : 0,
  type: 1,
  flags: 0,
  oif,
});
const client = RtnlClient.open();
const other = RtnlClient.open();
const events = client.subscribe([RTNLGRP.IPV4_ROUTE, RTNLGRP.IPV6_ROUTE], {
  dropOwnIpv4Routes: true,
});
const results = [
  ...client.apply([
    { op: "add", route: route("10.9.0.0", 24) },
    { op: "add", route: route("10.9.1.0", 24) },
    { op: "delete", route: route("10.9.0.0", 24) },
    { op: "add", route: route("fd00:9::", 64, 10) },
  ]),
  ...other.apply([{ op: "add", route: route("10.10.0.0", 24) }]),
];
const failed = results.filter((r) => r.error).map((r) => r.error?.message);
// The notifications were queued while the requests were acknowledged.
const batch = events.drain();
console.log(JSON.stringify({
  dropped: events.ownIpv4RoutesDropped,
  failed,
  events: batch.events.flatMap((e) =>
    e.kind === "route" && e.route.table === 100
      ? [`${e.op} ${e.route.dst}/${e.route.dstLen} ${e.port === client.port ? "own" : "other"}`]
      : []
  ),
}));
events.close();
other.close();
client.close();
