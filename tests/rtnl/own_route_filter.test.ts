import { deepEqual, throws } from "node:assert/strict";
import { ownIpv4RouteFilter, SOCK_FILTER_SIZE } from "../../src/rtnl/own_route_filter.ts";

/** The program as `[code, jt, jf, k]` rows (x86-64: little-endian `struct sock_filter`). */
function rows(program: Uint8Array): number[][] {
  const view = new DataView(program.buffer, program.byteOffset, program.byteLength);
  return Array.from({ length: program.length / SOCK_FILTER_SIZE }, (_, i) => {
    const at = i * SOCK_FILTER_SIZE;
    return [
      view.getUint16(at, true),
      view.getUint8(at + 2),
      view.getUint8(at + 3),
      view.getUint32(at + 4, true),
    ];
  });
}

Deno.test("the filter drops IPv4 route notifications of one port and keeps everything else", () => {
  // Port 0x01020304 as a big-endian load of its little-endian bytes: 0x04030201.
  deepEqual(rows(ownIpv4RouteFilter(0x01020304)), [
    [0x80, 0, 0, 0], // A = the datagram's length
    [0x35, 0, 7, 17], // shorter than nlmsghdr + rtm_family: keep (a load past it would drop)
    [0x20, 0, 0, 12], // A = nlmsg_pid
    [0x15, 0, 5, 0x04030201], // another port: keep
    [0x28, 0, 0, 4], // A = nlmsg_type
    [0x15, 1, 0, 0x1800], // RTM_NEWROUTE (24)
    [0x15, 0, 2, 0x1900], // RTM_DELROUTE (25), else keep
    [0x30, 0, 0, 16], // A = rtm_family
    [0x15, 1, 0, 2], // AF_INET: drop
    [0x06, 0, 0, 0xffffffff], // keep the whole datagram
    [0x06, 0, 0, 0], // drop
  ]);
});

Deno.test("the kernel's own port (0) cannot be filtered", () => {
  throws(() => ownIpv4RouteFilter(0), RangeError);
  throws(() => ownIpv4RouteFilter(-1), RangeError);
});
