/**
 * Exercises NetlinkSocket.wait(): wake() from a timer, a wake-up that came first, a timeout, a
 * route event that makes it readable, and close() while a wait is pending. Then returns without
 * calling Deno.exit(): the process must end by itself (no poll left pending). Prints
 * `{ wokenMs, earlyWake, timeout, timeoutMs, readable, closedWhileWaiting }` as JSON.
 *
 * Usage (with an up link `v0`): `deno run -A wake.ts`
 *
 * @module
 */

import { Conn } from "../../../src/netlink/conn.ts";
import { NLM_F, RTM, RTNLGRP } from "../../../src/netlink/constants.ts";
import { NetlinkSocket } from "../../../src/netlink/socket.ts";
import { assertInsideTestNetns } from "./guard.ts";
import { ifindex, routePayload } from "./route_payload.ts";

assertInsideTestNetns();
const sock = NetlinkSocket.open({ groups: [RTNLGRP.IPV4_ROUTE] });

let started = performance.now();
setTimeout(() => sock.wake(), 30);
const woken = await sock.wait();
const wokenMs = performance.now() - started;

sock.wake();
const earlyWake = await sock.wait(5000);

started = performance.now();
const timeout = await sock.wait(50);
const timeoutMs = performance.now() - started;

using writer = NetlinkSocket.open();
const [error] = new Conn(writer).execute([{
  type: RTM.NEWROUTE,
  flags: NLM_F.CREATE | NLM_F.EXCL,
  payload: routePayload({ dst: "10.30.0.0", dstLen: 24, oif: ifindex("v0"), table: 254 }),
}]);
if (error) throw error;
const readable = await sock.wait(5000);
while (sock.tryReceive() !== null) {
  // Drain the event so the next wait has nothing to report but the close.
}

const pending = sock.wait();
setTimeout(() => sock.close(), 20);
const closedWhileWaiting = await pending;
sock.close(); // idempotent

console.log(JSON.stringify({
  woken,
  wokenMs,
  earlyWake,
  timeout,
  timeoutMs,
  readable,
  closedWhileWaiting,
}));
