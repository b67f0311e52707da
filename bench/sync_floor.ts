/**
 * The floor of a one-shot `sync` in Deno: the smallest program that makes the same system calls
 * as `linkmirror sync` into an empty target table, and nothing else. It dumps `main`'s IPv4
 * routes (filtered by the kernel), copies every unicast on-link one (scope link, an output
 * device, no gateway) into the target table with linkmirror's protocol and metric, sends the
 * copies many per datagram with one ACK each, and prints how many it made. No IPv6, no
 * hostile-LAN guard, no precedence, no existing copies, no listing, no error detail: what any
 * Deno program speaking rtnetlink through libc pays for 10k routes. Scenario 1 times it beside
 * `sync` and `ip -batch` ("deno: bare IPv4 copy").
 *
 * Usage: `deno run --allow-ffi bench/sync_floor.ts TABLE`
 *
 * @module
 */

const TABLE = Number(Deno.args[0]);
if (!Number.isInteger(TABLE) || TABLE <= 0) throw new Error("usage: sync_floor.ts TABLE");
const PROTOCOL = 77;
const METRIC = 0x80000000;
const AF_NETLINK = 16;
const AF_INET = 2;
const RTM_NEWROUTE = 24;
const RTM_GETROUTE = 26;
const NLMSG_ERROR = 2;
const NLMSG_DONE = 3;
const NLM_F_REQUEST = 0x1;
const NLM_F_ACK = 0x4;
const NLM_F_DUMP = 0x300;
const NLM_F_EXCL = 0x200;
const NLM_F_CREATE = 0x400;
const RTA_DST = 1;
const RTA_OIF = 4;
const RTA_GATEWAY = 5;
const RTA_PRIORITY = 6;
const RTA_TABLE = 15;
const RTA_MULTIPATH = 9;
const RT_TABLE_MAIN = 254;
const RT_TABLE_COMPAT = 252;
const RT_SCOPE_LINK = 253;
const RTN_UNICAST = 1;
const MAX_DATAGRAM = 64 << 10;

const libc = Deno.dlopen("libc.so.6", {
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  sendto: { parameters: ["i32", "buffer", "usize", "i32", "buffer", "u32"], result: "i32" },
  recv: { parameters: ["i32", "buffer", "usize", "i32"], result: "i32" },
}).symbols;

const kernel = new Uint8Array(12);
kernel[0] = AF_NETLINK;
const fd = libc.socket(AF_NETLINK, 3 /* SOCK_RAW */ | 0o2000000, /* CLOEXEC */ 0);
if (fd < 0 || libc.bind(fd, kernel, 12) < 0) throw new Error("netlink socket");
const int = (v: number) => new Uint8Array(new Int32Array([v]).buffer);
libc.setsockopt(fd, 270, /* SOL_NETLINK */ 12, /* NETLINK_GET_STRICT_CHK */ int(1), 4);
// Room for every reply: error replies come one per failed request.
libc.setsockopt(fd, 1, /* SOL_SOCKET */ 33, /* SO_RCVBUFFORCE */ int(8 << 20), 4);

function send(bytes: Uint8Array): void {
  if (libc.sendto(fd, bytes, BigInt(bytes.length), 0, kernel, 12) !== bytes.length) {
    throw new Error("sendto failed");
  }
}

let seq = 1;
const dump = new Uint8Array(36);
const dv = new DataView(dump.buffer);
dv.setUint32(0, dump.length, true);
dv.setUint16(4, RTM_GETROUTE, true);
dv.setUint16(6, NLM_F_REQUEST | NLM_F_DUMP, true);
dv.setUint32(8, seq++, true);
dump[16] = AF_INET;
dump[20] = RT_TABLE_MAIN;
dv.setUint16(28, 8, true);
dv.setUint16(30, RTA_TABLE, true);
dv.setUint32(32, RT_TABLE_MAIN, true);
send(dump);

const rx = new Uint8Array(1 << 20);
const rv = new DataView(rx.buffer);
const tx = new Uint8Array(8 << 20);
const tv = new DataView(tx.buffer);
const COPY_LEN = 16 + 12 + 4 * 8; // nlmsghdr, rtmsg, RTA_TABLE, RTA_DST, RTA_OIF, RTA_PRIORITY
let txLen = 0;
let copies = 0;

function attr(at: number, type: number, value: number, bigEndian = false): number {
  tv.setUint16(at, 8, true);
  tv.setUint16(at + 2, type, true);
  tv.setUint32(at + 4, value, !bigEndian);
  return at + 8;
}

function addCopy(dstLen: number, dst: number, oif: number): void {
  const m = txLen;
  if (m + COPY_LEN > tx.length) throw new Error("too many routes for the send buffer");
  tv.setUint32(m, COPY_LEN, true);
  tv.setUint16(m + 4, RTM_NEWROUTE, true);
  tv.setUint16(m + 6, NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL, true);
  tv.setUint32(m + 8, seq++, true);
  tv.setUint32(m + 12, 0, true);
  tx[m + 16] = AF_INET;
  tx[m + 17] = dstLen;
  tx[m + 18] = 0;
  tx[m + 19] = 0;
  tx[m + 20] = RT_TABLE_COMPAT;
  tx[m + 21] = PROTOCOL;
  tx[m + 22] = RT_SCOPE_LINK;
  tx[m + 23] = RTN_UNICAST;
  tv.setUint32(m + 24, 0, true);
  let at = attr(m + 28, RTA_TABLE, TABLE);
  at = attr(at, RTA_DST, dst, true);
  at = attr(at, RTA_OIF, oif);
  txLen = attr(at, RTA_PRIORITY, METRIC);
  copies++;
}

function checkError(off: number): void {
  const errno = -rv.getInt32(off + 16, true);
  if (errno !== 0) throw new Error(`the kernel refused a request: errno ${errno}`);
}

reading: for (;;) {
  const n = libc.recv(fd, rx, BigInt(rx.length), 0);
  if (n < 0) throw new Error("recv failed");
  for (let off = 0; off + 16 <= n;) {
    const len = rv.getUint32(off, true);
    const type = rv.getUint16(off + 4, true);
    if (type === NLMSG_DONE) break reading;
    if (type === NLMSG_ERROR) checkError(off);
    if (type === RTM_NEWROUTE) {
      const r = off + 16;
      let dst = 0, oif = 0, table = rx[r + 4], onLink = rx[r + 6] === RT_SCOPE_LINK;
      for (let a = r + 12; a + 4 <= off + len;) {
        const alen = rv.getUint16(a, true);
        const atype = rv.getUint16(a + 2, true) & 0x3fff;
        if (atype === RTA_DST) dst = rv.getUint32(a + 4, false);
        else if (atype === RTA_OIF) oif = rv.getUint32(a + 4, true);
        else if (atype === RTA_TABLE) table = rv.getUint32(a + 4, true);
        else if (atype === RTA_GATEWAY || atype === RTA_MULTIPATH) onLink = false;
        a += (alen + 3) & ~3;
      }
      if (table === RT_TABLE_MAIN && rx[r + 7] === RTN_UNICAST && onLink && oif !== 0) {
        addCopy(rx[r + 1], dst, oif);
      }
    }
    off += (len + 3) & ~3;
  }
}

// Datagrams of whole messages up to MAX_DATAGRAM; only the last message of each asks for an ACK.
let datagrams = 0;
for (let from = 0; from < txLen;) {
  const end = Math.min(txLen, from + Math.floor(MAX_DATAGRAM / COPY_LEN) * COPY_LEN);
  const last = end - COPY_LEN;
  tv.setUint16(last + 6, tv.getUint16(last + 6, true) | NLM_F_ACK, true);
  send(tx.subarray(from, end));
  datagrams++;
  from = end;
}
while (datagrams > 0) {
  const n = libc.recv(fd, rx, BigInt(rx.length), 0);
  if (n < 0) throw new Error("recv failed");
  for (let off = 0; off + 16 <= n;) {
    if (rv.getUint16(off + 4, true) === NLMSG_ERROR) {
      checkError(off);
      datagrams--;
    }
    off += (rv.getUint32(off, true) + 3) & ~3;
  }
}
console.log(`${copies} copies`);
