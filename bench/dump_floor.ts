/**
 * The kernel's floor under `readTables`: the same dumps (the source table `main` and a target
 * table, each of both families, the links and the addresses), sent on a netlink socket of its own
 * and received with blocking `recv` into one 64 KiB buffer, nothing decoded but the `nlmsghdr`
 * walk that finds each dump's end. What is left is the kernel filling and copying the dump
 * datagrams, and one FFI call per datagram: no netlink client in userspace can read the tables
 * faster. {@linkcode ./engine_probe.ts} times it beside `readTables`, in the same process.
 * Self-contained (libc over FFI): it does not depend on the `src/` being measured.
 *
 * @module
 */

const AF_NETLINK = 16;
const SOCK_RAW_CLOEXEC = 3 | 0o2000000;
const SOL_SOCKET = 1;
const SO_RCVBUFFORCE = 33;
const SOL_NETLINK = 270;
const NETLINK_GET_STRICT_CHK = 12;
const RTM_GETLINK = 18;
const RTM_GETADDR = 22;
const RTM_GETROUTE = 26;
const NLM_F_REQUEST_DUMP = 0x301;
const NLMSG_ERROR = 2;
const NLMSG_DONE = 3;
const RTA_TABLE = 15;
const MAIN = 254;

const SYMBOLS = {
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  send: { parameters: ["i32", "buffer", "usize", "i32"], result: "isize" },
  recv: { parameters: ["i32", "buffer", "usize", "i32"], result: "isize" },
  close: { parameters: ["i32"], result: "i32" },
} as const satisfies Deno.ForeignLibraryInterface;

/** One dump request: `nlmsghdr` and `payload`, its sequence number set before each send. */
function request(type: number, payload: Uint8Array): Uint8Array {
  const message = new Uint8Array(16 + payload.length);
  const view = new DataView(message.buffer);
  view.setUint32(0, message.length, true);
  view.setUint16(4, type, true);
  view.setUint16(6, NLM_F_REQUEST_DUMP, true);
  message.set(payload, 16);
  return message;
}

/** A route dump of one family and table, filtered by the kernel (`RTA_TABLE`, strict check). */
function routeDump(family: number, table: number): Uint8Array {
  const payload = new Uint8Array(12 + 8);
  const view = new DataView(payload.buffer);
  payload[0] = family;
  payload[4] = table < 256 ? table : 0;
  view.setUint16(12, 8, true);
  view.setUint16(14, RTA_TABLE, true);
  view.setUint32(16, table, true);
  return request(RTM_GETROUTE, payload);
}

/** A socket that times the dumps of `readTables` for `table`; close it when done. */
export class DumpFloor {
  readonly #lib = Deno.dlopen("libc.so.6", SYMBOLS);
  readonly #fd: number;
  readonly #buffer = new Uint8Array(64 << 10);
  readonly #view = new DataView(this.#buffer.buffer);
  readonly #requests: Uint8Array[];
  #seq = 1;

  /** Opens and binds the socket (strict checking on, so the dumps filter by table). */
  constructor(table: number) {
    const c = this.#lib.symbols;
    this.#fd = c.socket(AF_NETLINK, SOCK_RAW_CLOEXEC, 0);
    if (this.#fd < 0) throw new Error("socket(AF_NETLINK) failed");
    c.setsockopt(this.#fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, Uint8Array.of(1, 0, 0, 0), 4);
    const rcvbuf = new Uint8Array(4);
    new DataView(rcvbuf.buffer).setInt32(0, 32 << 20, true);
    c.setsockopt(this.#fd, SOL_SOCKET, SO_RCVBUFFORCE, rcvbuf, 4);
    const address = new Uint8Array(12);
    address[0] = AF_NETLINK;
    if (c.bind(this.#fd, address, 12) < 0) throw new Error("bind(AF_NETLINK) failed");
    this.#requests = [
      routeDump(2, MAIN),
      routeDump(10, MAIN),
      routeDump(2, table),
      routeDump(10, table),
      request(RTM_GETLINK, new Uint8Array(16)),
      request(RTM_GETADDR, new Uint8Array(8)),
    ];
  }

  /** Milliseconds to send every dump request and receive each dump to its end. */
  time(): number {
    const c = this.#lib.symbols;
    const start = performance.now();
    for (const message of this.#requests) {
      new DataView(message.buffer).setUint32(8, this.#seq++, true);
      c.send(this.#fd, message, BigInt(message.length), 0);
      for (let done = false; !done;) {
        const n = Number(c.recv(this.#fd, this.#buffer, BigInt(this.#buffer.length), 0));
        if (n < 0) throw new Error("recv failed");
        for (let off = 0; off < n;) {
          const type = this.#view.getUint16(off + 4, true);
          // A missing table answers ENOENT (an NLMSG_ERROR): that dump is over too.
          if (type === NLMSG_DONE || type === NLMSG_ERROR) done = true;
          off += (this.#view.getUint32(off, true) + 3) & ~3;
        }
      }
    }
    return performance.now() - start;
  }

  /** Closes the socket and the library. */
  close(): void {
    this.#lib.symbols.close(this.#fd);
    this.#lib.close();
  }
}
