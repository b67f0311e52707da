/**
 * A hostile local process: sends crafted rtnetlink messages to a daemon's netlink socket, as an
 * unprivileged user would (the test runs it under `setpriv --reuid=65534`). Each message, if
 * believed, would make linkmirror do harm: delete a copy (fake `RTM_DELROUTE`), mirror a route
 * that does not exist (fake `RTM_NEWROUTE` in main), drop a LAN (fake link down, fake address
 * deletion); plus malformed datagrams. Also tries to send to the route multicast groups, which
 * the kernel must refuse to an unprivileged sender.
 *
 * Prints one JSON line: `{ uid, capEff, attempted, sent, failed, multicast }` — `sent` is the
 * number of datagrams the kernel delivered to `--port`; `failed` lists the first refusals.
 *
 * Usage: `deno run -A hostile_sender.ts --port PORTID
 *   --table T --oif N --lan CIDR --address A [--extra-port PORTID] [--flood N]`
 * (`--extra-port`: also send everything there, uncounted; `--flood N`: then N more forged
 * deletions, as fast as the kernel takes them.)
 *
 * @module
 */

import { AF, NETLINK_ROUTE, NLM_F, NLMSG, RTM, RTNLGRP } from "../../../src/netlink/constants.ts";
import { encodeAddress } from "../../../src/netlink/address.ts";
import { encodeLink } from "../../../src/netlink/link.ts";
import {
  encodeSockaddrNl,
  lastErrno,
  libc,
  SOCK,
  SOCKADDR_NL_SIZE,
} from "../../../src/sys/libc.ts";
import { concatMessages, encodeMessage } from "../../../src/netlink/message.ts";
import { encodeRoute, type Route } from "../../../src/netlink/route.ts";
import { assertInsideTestNetns } from "../../kernel/scripts/guard.ts";
import { route } from "../../_fixtures/routes.ts";

assertInsideTestNetns();

const arg = (name: string): string => {
  const i = Deno.args.indexOf(name);
  if (i < 0 || Deno.args[i + 1] === undefined) throw new Error(`${name} is required`);
  return Deno.args[i + 1];
};
const port = Number(arg("--port"));
const table = Number(arg("--table"));
const oif = Number(arg("--oif"));
const [lanDst, lanLen] = arg("--lan").split("/");
const lanAddress = arg("--address");
const extraPort = Deno.args.includes("--extra-port") ? Number(arg("--extra-port")) : undefined;
const flood = Deno.args.includes("--flood") ? Number(arg("--flood")) : 0;

const c = libc();
const fd = c.socket(AF.NETLINK, SOCK.RAW | SOCK.CLOEXEC, NETLINK_ROUTE);
if (fd < 0) throw new Error(`socket failed: errno ${lastErrno()}`);
if (c.bind(fd, encodeSockaddrNl(0, 0), SOCKADDR_NL_SIZE) < 0) {
  throw new Error(`bind failed: errno ${lastErrno()}`);
}

/** Sends one datagram; returns 0 or the errno. */
function sendTo(to: number, groups: number, data: Uint8Array): number {
  const bytes = data as Uint8Array<ArrayBuffer>;
  const r = c.sendto(fd, bytes, BigInt(bytes.length), 0, encodeSockaddrNl(to, groups), 12);
  return r < 0 ? lastErrno() : 0;
}

const base: Route = route(table, `${lanDst}/${lanLen}`, { protocol: 77, oif });
const header = (type: number, flags = 0) => ({ type, flags, seq: 0, pid: 0 });

const forged: [string, Uint8Array][] = [
  ["RTM_DELROUTE of the LAN's copy", encodeMessage(header(RTM.DELROUTE), encodeRoute(base))],
  [
    "RTM_NEWROUTE of a LAN in main that does not exist",
    encodeMessage(
      header(RTM.NEWROUTE, NLM_F.CREATE | NLM_F.EXCL),
      encodeRoute({ ...base, table: 254, dst: "10.66.0.0", dstLen: 24, protocol: 2 }),
    ),
  ],
  [
    "RTM_DELROUTE of the LAN's source route in main",
    encodeMessage(header(RTM.DELROUTE), encodeRoute({ ...base, table: 254, protocol: 2 })),
  ],
  [
    "RTM_NEWLINK: the LAN link down",
    encodeMessage(header(RTM.NEWLINK), encodeLink({ index: oif, name: "lan0", flags: 0, type: 1 })),
  ],
  [
    "RTM_DELLINK of the LAN link",
    encodeMessage(header(RTM.DELLINK), encodeLink({ index: oif, name: "lan0", flags: 0, type: 1 })),
  ],
  [
    "RTM_DELADDR of the LAN address",
    encodeMessage(
      header(RTM.DELADDR),
      encodeAddress({
        family: AF.INET,
        index: oif,
        prefixLen: Number(lanLen),
        flags: 0x80,
        scope: 0,
        address: lanAddress,
        local: lanAddress,
      }),
    ),
  ],
  [
    "several forged messages in one datagram",
    concatMessages([
      encodeMessage(header(RTM.DELROUTE), encodeRoute(base)),
      encodeMessage(
        header(RTM.DELROUTE),
        encodeRoute({ ...base, family: AF.INET6, dst: "fe80::", dstLen: 64 }),
      ),
    ]),
  ],
  ["a forged NLMSG_DONE", encodeMessage(header(NLMSG.DONE, NLM_F.MULTI), new Uint8Array(4))],
  [
    "a forged NLMSG_ERROR (EPERM)",
    encodeMessage(header(NLMSG.ERROR), new Uint8Array(20).fill(0xff, 0, 4)),
  ],
  ["a truncated header", new Uint8Array([0x30, 0, 0, 0, 25, 0])],
  [
    "nlmsg_len past the datagram",
    encodeMessage(header(RTM.DELROUTE), encodeRoute(base)).map((b, i) => i === 0 ? 0xff : b),
  ],
  ["random bytes", crypto.getRandomValues(new Uint8Array(512))],
];

let sent = 0;
let attempted = 0;
const failed: string[] = [];
for (const [what, data] of forged) {
  attempted++;
  const errno = sendTo(port, 0, data);
  if (errno === 0) sent++;
  else failed.push(`${what}: errno ${errno}`);
  if (extraPort !== undefined) sendTo(extraPort, 0, data);
}
// A flood of forged deletions of the copy.
for (let i = 0; i < flood; i++) {
  attempted++;
  const errno = sendTo(port, 0, forged[0][1]);
  if (errno === 0) sent++;
  else if (failed.length < 20) failed.push(`flood ${i}: errno ${errno}`);
}
// Multicast to the route groups needs privileges (NL_CFG_F_NONROOT_SEND is not set for rtnetlink).
const groupBit = 1 << (RTNLGRP.IPV4_ROUTE - 1);
const multicast = sendTo(0, groupBit, forged[0][1]);
c.close(fd);

const status = Deno.readTextFileSync("/proc/self/status");
console.log(JSON.stringify({
  uid: Deno.uid(),
  capEff: /^CapEff:\s*(\S+)/m.exec(status)?.[1],
  attempted,
  sent,
  failed,
  multicast: multicast === 0 ? "delivered" : `refused (errno ${multicast})`,
}));
