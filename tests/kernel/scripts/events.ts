/**
 * Subscribes to RTNLGRP_IPV4_ROUTE, prints `ready` on stderr, then prints one stderr line per
 * route event (`event RTM_NEWROUTE 10.9.0.0/24 table 254`) until it sees DST (e.g.
 * `10.9.0.0/24`) in an RTM_NEWROUTE, and exits 0; exits 1 after TIMEOUT_MS without it.
 *
 * Usage: `deno run -A events.ts DST [TIMEOUT_MS]`
 *
 * @module
 */

import { attrU32, decodeAttributes } from "../../../src/netlink/attributes.ts";
import { Conn } from "../../../src/netlink/conn.ts";
import { RTA, RTM, RTNLGRP } from "../../../src/netlink/constants.ts";
import type { Message } from "../../../src/netlink/message.ts";
import { NetlinkSocket } from "../../../src/netlink/socket.ts";
import { assertInsideTestNetns } from "./guard.ts";

assertInsideTestNetns();
const wanted = Deno.args[0];
const timeoutMs = Number(Deno.args[1] ?? 10_000);

function describe(m: Message): string {
  const kind = m.header.type === RTM.NEWROUTE ? "RTM_NEWROUTE" : `type ${m.header.type}`;
  let dst = "0.0.0.0";
  let table = m.payload[4];
  for (const attr of decodeAttributes(m.payload.subarray(12))) {
    if (attr.type === RTA.DST) dst = [...attr.data].join(".");
    if (attr.type === RTA.TABLE) table = attrU32(attr);
  }
  return `event ${kind} ${dst}/${m.payload[1]} table ${table}`;
}

const sock = NetlinkSocket.open({ groups: [RTNLGRP.IPV4_ROUTE] });
const conn = new Conn(sock);
console.error(`ready pid=${sock.pid}`);
const deadline = performance.now() + timeoutMs;
let found = false;
while (!found && performance.now() < deadline) {
  const result = await conn.wait(Math.max(1, deadline - performance.now()));
  if (result !== "readable") continue;
  const { messages, overrun } = conn.drainEvents();
  if (overrun) console.error("overrun");
  for (const m of messages) {
    const line = describe(m);
    console.error(line);
    if (line.startsWith(`event RTM_NEWROUTE ${wanted} `)) found = true;
  }
}
sock.close();
Deno.exitCode = found ? 0 : 1;
