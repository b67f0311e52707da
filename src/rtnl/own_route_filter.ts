/**
 * {@linkcode ownIpv4RouteFilter}: a classic BPF socket filter (`SO_ATTACH_FILTER`) for an event
 * socket that drops the notifications of one's own IPv4 route changes in the kernel, before they
 * are queued: no receive, no decode, no room taken in the receive buffer.
 *
 * The kernel notifies every change to the route groups, the changes of the daemon's own request
 * socket too (with that socket's port id in `nlmsg_pid`; `rtm_to_fib_config` takes it from the
 * request, `fib_dump_info` writes it into the header). For IPv4 such a notification says no more
 * than the change the daemon made and saw acknowledged: one notification per accepted change
 * (`fib_table_insert` / `fib_table_delete` call `rtmsg_fib` once), none for a refused one. A
 * daemon that applies its accepted IPv4 changes to its own view itself needs none of them; after
 * a 10k-route burst they are half the events. IPv6 notifications of its changes still come (the
 * kernel may merge an IPv6 route into a multipath one and report the group).
 *
 * `do_one_broadcast` runs the socket's filter on each multicast skb (`sk_filter`); rtnetlink
 * notifications are one message per skb, so the program sees the `nlmsghdr` at offset 0 and the
 * `rtmsg` at 16. Classic BPF loads are big-endian: the port and type are compared as the bytes the
 * kernel wrote in host order read that way.
 *
 * @example
 * ```ts
 * import { ownIpv4RouteFilter } from "./own_route_filter.ts";
 * const program = ownIpv4RouteFilter(4242);
 * program.length; // 88: eleven `struct sock_filter`
 * ```
 *
 * @module
 */

import { AF, RTM } from "../netlink/constants.ts";

/** `struct sock_filter` opcodes used here (linux/bpf_common.h). */
const BPF = Object.freeze({
  LD_W_LEN: 0x80,
  JGE_K: 0x35,
  LD_W_ABS: 0x20,
  LD_H_ABS: 0x28,
  LD_B_ABS: 0x30,
  JEQ_K: 0x15,
  RET_K: 0x06,
});

/** Offsets in a notification: `nlmsg_type`, `nlmsg_pid` (nlmsghdr), `rtm_family` (rtmsg). */
const TYPE_AT = 4;
const PID_AT = 12;
const FAMILY_AT = 16;

/** Size of one `struct sock_filter`. */
export const SOCK_FILTER_SIZE = 8;

/** `value` written in host byte order and read back big-endian, as a BPF load sees it. */
function asLoaded(value: number, size: 2 | 4): number {
  const bytes = new Uint8Array(4);
  const view = new DataView(bytes.buffer);
  const little = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  if (size === 2) {
    view.setUint16(0, value, little);
    return view.getUint16(0, false);
  }
  view.setUint32(0, value, little);
  return view.getUint32(0, false);
}

/**
 * The program (an array of `struct sock_filter`, 8 bytes each) that drops `RTM_NEWROUTE` and
 * `RTM_DELROUTE` notifications of family `AF_INET` sent by port `port`, and keeps everything else
 * whole.
 */
export function ownIpv4RouteFilter(port: number): Uint8Array {
  // Port 0 is the kernel's own: such a filter would drop the kernel's notifications.
  if (!Number.isInteger(port) || port <= 0 || port > 0xffffffff) {
    throw new RangeError(`A port id to filter must be a positive 32-bit integer, got ${port}`);
  }
  const DROP = 0;
  const KEEP = 0xffffffff;
  // [code, jt, jf, k]; jumps are relative to the next instruction. A load past the end of a
  // datagram would end the program with "drop": anything too short to hold the family is kept
  // first (the receiver counts and drops what is not the kernel's).
  const program: [number, number, number, number][] = [
    /* 0 */ [BPF.LD_W_LEN, 0, 0, 0],
    /* 1 */ [BPF.JGE_K, 0, 7, FAMILY_AT + 1], // too short: keep (9)
    /* 2 */ [BPF.LD_W_ABS, 0, 0, PID_AT],
    /* 3 */ [BPF.JEQ_K, 0, 5, asLoaded(port, 4)], // another sender: keep (9)
    /* 4 */ [BPF.LD_H_ABS, 0, 0, TYPE_AT],
    /* 5 */ [BPF.JEQ_K, 1, 0, asLoaded(RTM.NEWROUTE, 2)], // a route: its family (7)
    /* 6 */ [BPF.JEQ_K, 0, 2, asLoaded(RTM.DELROUTE, 2)], // not a route: keep (9)
    /* 7 */ [BPF.LD_B_ABS, 0, 0, FAMILY_AT],
    /* 8 */ [BPF.JEQ_K, 1, 0, AF.INET], // IPv4: drop (10)
    /* 9 */ [BPF.RET_K, 0, 0, KEEP],
    /* 10 */ [BPF.RET_K, 0, 0, DROP],
  ];
  const out = new Uint8Array(program.length * SOCK_FILTER_SIZE);
  const view = new DataView(out.buffer);
  const little = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  program.forEach(([code, jt, jf, k], i) => {
    const at = i * SOCK_FILTER_SIZE;
    view.setUint16(at, code, little);
    view.setUint8(at + 2, jt);
    view.setUint8(at + 3, jf);
    view.setUint32(at + 4, k >>> 0, little);
  });
  return out;
}
