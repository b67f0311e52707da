/**
 * Checks that datagrams another (non-kernel) netlink socket sends to our port are dropped and
 * counted: a forged NLMSG_DONE that matches the next dump's sequence number, and a forged route
 * event. Prints `{ links, droppedForeign, events }` as JSON.
 *
 * Usage: `deno run -A foreign.ts`
 *
 * @module
 */

import { Conn } from "../../../src/netlink/conn.ts";
import { AF, NETLINK_ROUTE, NLM_F, NLMSG, RTM } from "../../../src/netlink/constants.ts";
import { check, encodeSockaddrNl, libc, SOCK, SOCKADDR_NL_SIZE } from "../../../src/sys/libc.ts";
import { encodeMessage } from "../../../src/netlink/message.ts";
import { NetlinkSocket } from "../../../src/netlink/socket.ts";
import { assertInsideTestNetns } from "./guard.ts";

assertInsideTestNetns();
using sock = NetlinkSocket.open();
const firstSeq = 5000;
const conn = new Conn(sock, { firstSeq });

const c = libc();
const intruder = check("socket", c.socket(AF.NETLINK, SOCK.RAW | SOCK.CLOEXEC, NETLINK_ROUTE));
check("bind", c.bind(intruder, encodeSockaddrNl(0, 0), SOCKADDR_NL_SIZE));
function sendToVictim(message: Uint8Array): void {
  const bytes = message as Uint8Array<ArrayBuffer>;
  const to = encodeSockaddrNl(sock.pid, 0);
  check("sendto", c.sendto(intruder, bytes, BigInt(bytes.length), 0, to, SOCKADDR_NL_SIZE));
}

// A forged end of the dump we are about to start: same seq, our pid, NLMSG_DONE.
const done = new Uint8Array(4);
sendToVictim(
  encodeMessage({ type: NLMSG.DONE, flags: NLM_F.MULTI, seq: firstSeq, pid: sock.pid }, done),
);
const links = conn.dump(RTM.GETLINK, new Uint8Array(16)).length;

// A forged route event.
sendToVictim(encodeMessage({ type: RTM.NEWROUTE, flags: 0, seq: 0, pid: 0 }, new Uint8Array(12)));
const events = conn.drainEvents().messages.length;
c.close(intruder);
console.log(JSON.stringify({ links, droppedForeign: conn.droppedForeign, events }));
