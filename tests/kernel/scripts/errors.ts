/**
 * Provokes kernel errors and prints how they surface, as JSON: a duplicate route add (EEXIST),
 * a prefix with host bits set (EINVAL with an extended-ack message), and a dump the strict check
 * refuses (EINVAL with a message).
 *
 * Usage: `deno run -A errors.ts TABLE`
 *
 * @module
 */

import { Conn } from "../../../src/netlink/conn.ts";
import { AF, NLM_F, RTM } from "../../../src/netlink/constants.ts";
import { NetlinkError } from "../../../src/netlink/errors.ts";
import { NetlinkSocket } from "../../../src/netlink/socket.ts";
import { assertInsideTestNetns } from "./guard.ts";
import { ifindex, routePayload } from "./route_payload.ts";

assertInsideTestNetns();
const table = Number(Deno.args[0] ?? 100);
const oif = ifindex("v0");
using sock = NetlinkSocket.open();
const conn = new Conn(sock);
const add = (dst: string, dstLen: number) => ({
  type: RTM.NEWROUTE,
  flags: NLM_F.CREATE | NLM_F.EXCL,
  payload: routePayload({ dst, dstLen, oif, table }),
  op: `add route ${dst}/${dstLen}`,
});
const describe = (e: NetlinkError | null) =>
  e === null ? null : { op: e.op, errno: e.errno, code: e.code, extAck: e.extAck ?? null };

// One datagram: a success, a failure, a failure, then successes after them (only the last one
// asks for an ACK; the failures are answered anyway).
const batch = conn.execute([
  add("10.20.0.0", 24),
  add("10.20.0.0", 24),
  add("10.0.0.1", 8),
  add("10.21.0.0", 24),
  add("10.22.0.0", 24),
]);
// A route dump with a destination prefix length set is refused by the strict check.
const badDump = new Uint8Array(12);
badDump[0] = AF.INET;
badDump[1] = 24;
let dumpError = null;
try {
  conn.dump(RTM.GETROUTE, badDump);
} catch (e) {
  if (!(e instanceof NetlinkError)) throw e;
  dumpError = describe(e);
}
console.log(JSON.stringify({ batch: batch.map(describe), dumpError }));
