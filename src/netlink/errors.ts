/**
 * Typed errors of the netlink layer: malformed input ({@linkcode DecodeError}), an operation the
 * kernel refused ({@linkcode NetlinkError}), and errno names for both.
 *
 * @module
 */

export { ERRNO, errnoName } from "../sys/errno.ts";
import { errnoName } from "../sys/errno.ts";

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
