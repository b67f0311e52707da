/**
 * Adds N on-link routes (`10.<i/256>.<i%256>.0/24 dev v0 proto 77`) to a table with one
 * `Conn.execute` call. Prints `{ ok, errors, datagrams? , ms }` as JSON, `errors` listing the
 * failed requests (index, code, extAck).
 *
 * Usage: `deno run -A execute_routes.ts N TABLE`
 *
 * @module
 */

import { Conn } from "../../../src/netlink/conn.ts";
import { NLM_F, RTM } from "../../../src/netlink/constants.ts";
import { NetlinkSocket } from "../../../src/netlink/socket.ts";
import { assertInsideTestNetns } from "./guard.ts";
import { ifindex, testPrefix, testRoutePayload } from "./route_payload.ts";

assertInsideTestNetns();
const n = Number(Deno.args[0]);
const table = Number(Deno.args[1]);
const oif = ifindex("v0");
using sock = NetlinkSocket.open();
const conn = new Conn(sock);
const started = performance.now();
const results = conn.execute(Array.from({ length: n }, (_, i) => ({
  type: RTM.NEWROUTE,
  flags: NLM_F.CREATE | NLM_F.EXCL,
  payload: testRoutePayload(i, oif, table),
  op: `add route ${testPrefix(i)}`,
})));
const ms = performance.now() - started;
const errors = results.flatMap((e, index) =>
  e === null ? [] : [{ index, code: e.code, extAck: e.extAck ?? null, op: e.op }]
);
console.log(JSON.stringify({ ok: results.length - errors.length, errors, ms }));
