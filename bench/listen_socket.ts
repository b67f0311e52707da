/**
 * The probe's own listening socket: a `NETLINK_ROUTE` socket joined to the IPv4 route group with
 * a classic BPF filter, so that the kernel hands it only the route messages of the tables the
 * benchmark watches. It has its own libc binding (it shares nothing with linkmirror's socket
 * code) and only listens.
 *
 * @example
 * ```ts ignore
 * import { ListenSocket, tableFilter } from "./listen_socket.ts";
 * const sock = ListenSocket.open({ receiveBuffer: 64 << 20 });
 * sock.setFilter(tableFilter([252, 254]));
 * if (sock.wait(1000)) console.log(sock.receive());
 * ```
 *
 * @module
 */

const SYMBOLS = {
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  recv: { parameters: ["i32", "buffer", "usize", "i32"], result: "isize" },
  poll: { parameters: ["buffer", "u64", "i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
} as const satisfies Deno.ForeignLibraryInterface;

let library: Deno.DynamicLibrary<typeof SYMBOLS> | undefined;
let errnoView: Deno.UnsafePointerView | undefined;

function c(): Deno.DynamicLibrary<typeof SYMBOLS>["symbols"] {
  library ??= Deno.dlopen("libc.so.6", SYMBOLS);
  return library.symbols;
}

function errno(): number {
  if (!errnoView) {
    const ptr = c().__errno_location();
    if (ptr === null) throw new Error("__errno_location returned NULL");
    errnoView = new Deno.UnsafePointerView(ptr);
  }
  return errnoView.getInt32();
}

/** A libc call of the listener failed. */
export class ListenSocketError extends Error {
  /** The errno. */
  readonly errno: number;
  /** Creates the error for `op`, which failed with `errno`. */
  constructor(op: string, code: number) {
    super(`${op} failed with errno ${code}`);
    this.name = "ListenSocketError";
    this.errno = code;
  }
}

function must(op: string, result: number | bigint): number {
  const n = Number(result);
  if (n < 0) throw new ListenSocketError(op, errno());
  return n;
}

const AF_NETLINK = 16;
const SOCK_RAW_CLOEXEC = 3 | 0o2000000;
const SOL_SOCKET = 1;
const SOL_NETLINK = 270;
const SO_RCVBUFFORCE = 33;
const SO_ATTACH_FILTER = 26;
const NETLINK_ADD_MEMBERSHIP = 1;
const RTNLGRP_IPV4_ROUTE = 7;
const MSG_DONTWAIT = 0x40;
const EAGAIN = 11;
const EINTR = 4;
const ENOBUFS = 105;

/** One classic BPF instruction (`struct sock_filter`). */
export interface BpfInstruction {
  /** Opcode. */
  code: number;
  /** Jump offset if true. */
  jt: number;
  /** Jump offset if false. */
  jf: number;
  /** Constant. */
  k: number;
}

const BPF_LDB_ABS = 0x30;
const BPF_JEQ_K = 0x15;
const BPF_RET_K = 0x06;
/** Offsets in a route message: `nlmsghdr` (16 bytes), then `rtm_family`, …, `rtm_table`. */
const OFFSET_FAMILY = 16;
const OFFSET_TABLE = 20;

/**
 * A filter that accepts IPv4 route messages whose 8-bit `rtm_table` is one of `tables` (252,
 * `RT_TABLE_COMPAT`, stands for every table above 255) and drops everything else.
 *
 * @example
 * ```ts
 * import { tableFilter } from "./listen_socket.ts";
 * tableFilter([252]).length; // 6
 * ```
 */
export function tableFilter(tables: readonly number[]): BpfInstruction[] {
  const n = tables.length;
  const prog: BpfInstruction[] = [
    { code: BPF_LDB_ABS, jt: 0, jf: 0, k: OFFSET_FAMILY },
    // Not AF_INET: jump over the table checks and the accept to the drop.
    { code: BPF_JEQ_K, jt: 0, jf: n + 2, k: 2 },
    { code: BPF_LDB_ABS, jt: 0, jf: 0, k: OFFSET_TABLE },
  ];
  tables.forEach((table, i) => {
    // Match: jump to the accept (after the remaining checks); else try the next.
    prog.push({ code: BPF_JEQ_K, jt: n - 1 - i, jf: i === n - 1 ? 1 : 0, k: table });
  });
  prog.push({ code: BPF_RET_K, jt: 0, jf: 0, k: 0xffff });
  prog.push({ code: BPF_RET_K, jt: 0, jf: 0, k: 0 });
  return prog;
}

/** Options of {@linkcode ListenSocket.open}. */
export interface ListenSocketOptions {
  /** Receive buffer, set with `SO_RCVBUFFORCE` (needs `CAP_NET_ADMIN`). */
  receiveBuffer: number;
}

/** A netlink socket that listens to IPv4 route events. */
export class ListenSocket {
  readonly #fd: number;
  readonly #buffer = new Uint8Array(1 << 16);
  readonly #pollfd = new Uint8Array(8);
  #closed = false;

  private constructor(fd: number) {
    this.#fd = fd;
    const view = new DataView(this.#pollfd.buffer);
    view.setInt32(0, fd, true);
    view.setInt16(4, 1, true); // POLLIN
  }

  /** Opens the socket, sizes its buffer, binds it and joins the IPv4 route group. */
  static open(options: ListenSocketOptions): ListenSocket {
    const fd = must("socket", c().socket(AF_NETLINK, SOCK_RAW_CLOEXEC, 0));
    try {
      const int = (value: number) => {
        const b = new Uint8Array(4);
        new DataView(b.buffer).setInt32(0, value, true);
        return b;
      };
      must(
        "SO_RCVBUFFORCE",
        c().setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, int(options.receiveBuffer), 4),
      );
      const addr = new Uint8Array(12);
      new DataView(addr.buffer).setUint16(0, AF_NETLINK, true);
      must("bind", c().bind(fd, addr, 12));
      must(
        "NETLINK_ADD_MEMBERSHIP",
        c().setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, int(RTNLGRP_IPV4_ROUTE), 4),
      );
      return new ListenSocket(fd);
    } catch (e) {
      c().close(fd);
      throw e;
    }
  }

  /** Replaces the socket's BPF filter. */
  setFilter(program: readonly BpfInstruction[]): void {
    const filter = new Uint8Array(8 * program.length);
    const view = new DataView(filter.buffer);
    program.forEach((ins, i) => {
      view.setUint16(i * 8, ins.code, true);
      view.setUint8(i * 8 + 2, ins.jt);
      view.setUint8(i * 8 + 3, ins.jf);
      view.setUint32(i * 8 + 4, ins.k, true);
    });
    const fprog = new Uint8Array(16);
    const fview = new DataView(fprog.buffer);
    fview.setUint16(0, program.length, true);
    fview.setBigUint64(8, BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(filter))), true);
    must("SO_ATTACH_FILTER", c().setsockopt(this.#fd, SOL_SOCKET, SO_ATTACH_FILTER, fprog, 16));
  }

  /**
   * Reads one datagram without blocking: its bytes (a view valid until the next call), `null`
   * when none is queued, or `"overrun"` after `ENOBUFS` (events were lost).
   */
  receive(): Uint8Array | null | "overrun" {
    for (;;) {
      const n = Number(c().recv(this.#fd, this.#buffer, BigInt(this.#buffer.length), MSG_DONTWAIT));
      if (n >= 0) return this.#buffer.subarray(0, n);
      const e = errno();
      if (e === EINTR) continue;
      if (e === EAGAIN) return null;
      if (e === ENOBUFS) return "overrun";
      throw new ListenSocketError("recv", e);
    }
  }

  /** Blocks until a datagram is queued (`true`) or `timeoutMs` passed (`false`). */
  wait(timeoutMs: number): boolean {
    const view = new DataView(this.#pollfd.buffer);
    view.setInt16(6, 0, true);
    const n = c().poll(this.#pollfd, 1n, Math.max(0, Math.ceil(timeoutMs)));
    if (n < 0 && errno() !== EINTR) throw new ListenSocketError("poll", errno());
    return n > 0;
  }

  /** Closes the socket. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    c().close(this.#fd);
  }
}
