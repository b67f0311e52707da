/**
 * A thin, typed binding of the libc calls linkmirror needs (`socket`, `bind`, `sendto`,
 * `recvfrom`, `poll`, ... for the netlink socket and `sd_notify`: {@linkcode libc}; `eventfd` and
 * an async `poll` for the daemon's waits, `listen`, `connect`, `accept4` for the table lock's Unix
 * socket, `kill` for a liveness check, which Deno's permissions do not let it read from `/proc`:
 * {@linkcode daemonLibc}), each set opened lazily with `Deno.dlopen("libc.so.6")`, plus helpers
 * that read `errno` right after a failed call.
 *
 * `errno` is per thread: read it (with {@linkcode lastErrno} or {@linkcode check}) immediately
 * after a synchronous call on the calling thread. The `pollAsync` variant runs on another thread,
 * so its `errno` cannot be read; callers treat a `-1` from it as "look again".
 *
 * Needs `--allow-ffi` (unscoped: `--allow-ffi=<path>` breaks `dlopen("libc.so.6")`).
 *
 * @module
 */

import { SyscallError } from "./errno.ts";

/** `socket(2)` types and flags. */
export const SOCK = Object.freeze({
  STREAM: 1,
  DGRAM: 2,
  RAW: 3,
  NONBLOCK: 0o4000,
  CLOEXEC: 0o2000000,
});

/** `recv(2)`/`send(2)` flags. */
export const MSG = Object.freeze({ PEEK: 0x2, TRUNC: 0x20, DONTWAIT: 0x40, NOSIGNAL: 0x4000 });

/** `poll(2)` event bits. */
export const POLL = Object.freeze({ IN: 0x1, PRI: 0x2, OUT: 0x4, ERR: 0x8, HUP: 0x10, NVAL: 0x20 });

/** `eventfd(2)` flags. */
export const EFD = Object.freeze({ SEMAPHORE: 1, NONBLOCK: 0o4000, CLOEXEC: 0o2000000 });

/** Size of `struct sockaddr_nl` (family u16, pad u16, pid u32, groups u32). */
export const SOCKADDR_NL_SIZE = 12;
/** Size of `struct sockaddr_un` (family u16, path 108 bytes). */
export const SOCKADDR_UN_SIZE = 110;
/** Size of `struct pollfd` (fd i32, events i16, revents i16). */
export const POLLFD_SIZE = 8;

/**
 * The calls of a socket that sends requests and reads replies: what every command makes. Opened
 * apart from {@linkcode DAEMON_SYMBOLS}: `Deno.dlopen` binds each symbol (~0.13 ms each here), and
 * a one-shot command needs only these.
 */
const SYMBOLS = {
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  getsockname: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  getsockopt: { parameters: ["i32", "i32", "i32", "buffer", "buffer"], result: "i32" },
  // Their `ssize_t` results read as `i32` (the low half: a netlink datagram is far below 2 GiB,
  // and -1 stays -1): a number, where an `isize` result is a BigInt, one heap object per call.
  sendto: {
    parameters: ["i32", "buffer", "usize", "i32", "buffer", "u32"],
    result: "i32",
  },
  recvfrom: {
    parameters: ["i32", "buffer", "usize", "i32", "buffer", "buffer"],
    result: "i32",
  },
  poll: { parameters: ["buffer", "u64", "i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
} as const satisfies Deno.ForeignLibraryInterface;

/**
 * The calls only the daemon and `status` make: waiting on a helper thread and waking it
 * (`pollAsync`, `eventfd`, `read`, `write`), the table lock's Unix socket (`listen`, `connect`,
 * `accept4`) and the liveness check (`kill`).
 */
const DAEMON_SYMBOLS = {
  listen: { parameters: ["i32", "i32"], result: "i32" },
  connect: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  accept4: { parameters: ["i32", "buffer", "buffer", "i32"], result: "i32" },
  pollAsync: {
    name: "poll",
    parameters: ["buffer", "u64", "i32"],
    result: "i32",
    nonblocking: true,
  },
  eventfd: { parameters: ["u32", "i32"], result: "i32" },
  write: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  kill: { parameters: ["i32", "i32"], result: "i32" },
} as const satisfies Deno.ForeignLibraryInterface;

/** The opened libc symbols every command uses, as `Deno.dlopen` types them. */
export type Libc = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];
/** The opened libc symbols only the daemon and `status` use. */
export type DaemonLibc = Deno.DynamicLibrary<typeof DAEMON_SYMBOLS>["symbols"];

let library: Deno.DynamicLibrary<typeof SYMBOLS> | undefined;
let daemonLibrary: Deno.DynamicLibrary<typeof DAEMON_SYMBOLS> | undefined;
let errnoView: Deno.UnsafePointerView | undefined;

/**
 * The libc symbols of a request socket, opening `libc.so.6` on first use.
 *
 * @example
 * ```ts ignore
 * import { libc } from "./libc.ts";
 * const fd = libc().socket(16, 3, 0); // AF_NETLINK, SOCK_RAW, NETLINK_ROUTE
 * ```
 */
export function libc(): Libc {
  library ??= Deno.dlopen("libc.so.6", SYMBOLS);
  return library.symbols;
}

/**
 * The libc symbols of the daemon and `status`, opening them on first use. `errno` after one of
 * them is read with {@linkcode lastErrno}, as after {@linkcode libc}'s.
 *
 * @example
 * ```ts ignore
 * import { daemonLibc } from "./libc.ts";
 * const fd = daemonLibc().eventfd(0, 0);
 * ```
 */
export function daemonLibc(): DaemonLibc {
  daemonLibrary ??= Deno.dlopen("libc.so.6", DAEMON_SYMBOLS);
  return daemonLibrary.symbols;
}

/** The calling thread's `errno`; meaningful only right after a synchronous call that failed. */
export function lastErrno(): number {
  if (!errnoView) {
    const ptr = libc().__errno_location();
    if (ptr === null) throw new Error("__errno_location returned NULL");
    errnoView = new Deno.UnsafePointerView(ptr);
  }
  return errnoView.getInt32();
}

/** `EINTR`: a call interrupted by a signal, to be retried. */
export const EINTR = 4;

/**
 * Returns `result` as a number, or throws {@linkcode SyscallError}`(op, errno)` when it is
 * negative. Call it directly on the result of a synchronous libc call.
 *
 * @example
 * ```ts ignore
 * import { check, daemonLibc } from "./libc.ts";
 * const fd = check("eventfd", daemonLibc().eventfd(0, 0));
 * ```
 */
export function check(op: string, result: number | bigint): number {
  const n = Number(result);
  if (n < 0) throw new SyscallError(op, lastErrno());
  return n;
}

/**
 * Runs a synchronous libc call, retrying while it fails with `EINTR`; returns its result, or a
 * negated errno (`-errno`) when it fails otherwise.
 *
 * @example
 * ```ts ignore
 * import { daemonLibc, retryEintr } from "./libc.ts";
 * const n = retryEintr(() => daemonLibc().read(fd, buf, 8n)); // -11 for EAGAIN
 * ```
 */
export function retryEintr(call: () => number | bigint): number {
  for (;;) {
    const n = Number(call());
    if (n >= 0) return n;
    const errno = lastErrno();
    if (errno !== EINTR) return -errno;
  }
}

/**
 * Encodes a `struct sockaddr_nl`.
 *
 * @example
 * ```ts
 * import { encodeSockaddrNl } from "./libc.ts";
 * encodeSockaddrNl(0, 0).length; // 12
 * ```
 */
export function encodeSockaddrNl(pid: number, groups: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(SOCKADDR_NL_SIZE);
  const view = new DataView(out.buffer);
  view.setUint16(0, 16, true); // AF_NETLINK
  view.setUint32(4, pid >>> 0, true);
  view.setUint32(8, groups >>> 0, true);
  return out;
}

/**
 * Encodes a `struct sockaddr_un` for `path` and returns it with its length as `sendto` wants it.
 * A leading `@` names an abstract socket (a leading NUL byte, no terminating NUL), as
 * `$NOTIFY_SOCKET` spells it.
 *
 * @example
 * ```ts
 * import { encodeSockaddrUn } from "./libc.ts";
 * encodeSockaddrUn("@x").length; // 2 + 2: family, NUL, "x"
 * ```
 */
export function encodeSockaddrUn(path: string): Uint8Array<ArrayBuffer> {
  const abstract = path.startsWith("@");
  const name = new TextEncoder().encode(abstract ? path.slice(1) : path);
  // Abstract: NUL + name. Filesystem path: name + NUL.
  const len = 2 + name.length + 1;
  if (len > SOCKADDR_UN_SIZE) throw new RangeError(`Unix socket path is too long: ${path}`);
  const out = new Uint8Array(len);
  new DataView(out.buffer).setUint16(0, 1, true); // AF_UNIX
  out.set(name, abstract ? 3 : 2);
  return out;
}
