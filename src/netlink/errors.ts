/**
 * Typed errors of the netlink layer: malformed input ({@linkcode DecodeError}), an operation the
 * kernel refused ({@linkcode NetlinkError}), and errno names for both.
 *
 * @module
 */

/** Linux errno numbers by name, for the errors rtnetlink and the socket calls can return. */
export const ERRNO = Object.freeze({
  EPERM: 1,
  ENOENT: 2,
  ESRCH: 3,
  EINTR: 4,
  EIO: 5,
  ENXIO: 6,
  E2BIG: 7,
  EBADF: 9,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  ENODEV: 19,
  ENOTDIR: 20,
  EINVAL: 22,
  EMFILE: 24,
  ENOSPC: 28,
  ERANGE: 34,
  EMSGSIZE: 90,
  EPROTONOSUPPORT: 93,
  EOPNOTSUPP: 95,
  EAFNOSUPPORT: 97,
  EADDRINUSE: 98,
  EADDRNOTAVAIL: 99,
  ENETDOWN: 100,
  ENETUNREACH: 101,
  ENOBUFS: 105,
  ETIMEDOUT: 110,
  ECONNREFUSED: 111,
  EHOSTUNREACH: 113,
});

const NAMES = new Map<number, string>(Object.entries(ERRNO).map(([k, v]) => [v, k]));

/**
 * The symbolic name of an errno value.
 *
 * @example
 * ```ts
 * import { errnoName } from "./errors.ts";
 * errnoName(17); // "EEXIST"
 * errnoName(4242); // "errno 4242"
 * ```
 */
export function errnoName(errno: number): string {
  return NAMES.get(errno) ?? `errno ${errno}`;
}

/** Bytes that are not a well-formed netlink message, header or attribute. */
export class DecodeError extends Error {
  /** Byte offset in the decoded buffer where the problem was found. */
  readonly offset: number;
  /** Creates a decode error for `offset`. */
  constructor(message: string, offset: number) {
    super(`${message} (at byte ${offset})`);
    this.name = "DecodeError";
    this.offset = offset;
  }
}

/**
 * A netlink or socket operation that failed with an errno: a kernel NACK (with its extended-ack
 * message, if any) or a failed libc call.
 */
export class NetlinkError extends Error {
  /** What was attempted, e.g. `"add route"`, `"recvmsg"`. */
  readonly op: string;
  /** The positive errno value. */
  readonly errno: number;
  /** The errno's symbolic name, e.g. `"EEXIST"`. */
  readonly code: string;
  /** The kernel's extended-ack message (`NLMSGERR_ATTR_MSG`), when it sent one. */
  readonly extAck?: string;
  /**
   * The kernel's extended-ack offset (`NLMSGERR_ATTR_OFFS`): where in the refused request (counted
   * from its `nlmsghdr`) the offending attribute starts, when the kernel named one.
   */
  readonly extAckOffset?: number;
  /**
   * Creates an error for `op` failing with `errno`, with the kernel's extended-ack message and
   * offset when it sent them.
   *
   * @example
   * ```ts
   * import { NetlinkError } from "./errors.ts";
   * new NetlinkError("add route", 22, "Invalid prefix for given prefix length", 28).message;
   * // "add route: EINVAL: Invalid prefix for given prefix length (at byte 28 of the request)"
   * ```
   */
  constructor(op: string, errno: number, extAck?: string, extAckOffset?: number) {
    const code = errnoName(errno);
    const at = extAckOffset !== undefined ? ` (at byte ${extAckOffset} of the request)` : "";
    super(`${op}: ${code}${extAck ? `: ${extAck}` : ""}${at}`);
    this.name = "NetlinkError";
    this.op = op;
    this.errno = errno;
    this.code = code;
    if (extAck) this.extAck = extAck;
    if (extAckOffset !== undefined) this.extAckOffset = extAckOffset;
  }
}
