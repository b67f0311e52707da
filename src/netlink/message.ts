/**
 * The netlink message header (`struct nlmsghdr`) and the framing of datagrams into messages.
 * Pure: bytes in, values out, and back.
 *
 * @module
 */

import { NLMSG_ALIGNTO, NLMSG_HDRLEN } from "./constants.ts";
import { DecodeError } from "./errors.ts";

/** The fields of a `struct nlmsghdr`, less the length (derived from the payload). */
export interface Header {
  /** Message type: `NLMSG_*` control or `RTM_*`. */
  type: number;
  /** `NLM_F_*` bits. */
  flags: number;
  /** Sequence number, echoed back by the kernel in replies. */
  seq: number;
  /** Port id of the sender (0 for the kernel). */
  pid: number;
}

/** One netlink message: its header and the payload after it (not copied). */
export interface Message {
  /** The header. */
  header: Header;
  /** The bytes after the header, up to `nlmsg_len`. */
  payload: Uint8Array;
}

/** Rounds `n` up to the netlink alignment of 4 bytes. */
export function align(n: number): number {
  return (n + NLMSG_ALIGNTO - 1) & ~(NLMSG_ALIGNTO - 1);
}

/**
 * Encodes one message: header then payload, padded to alignment.
 *
 * @example
 * ```ts
 * import { encodeMessage } from "./message.ts";
 * const bytes = encodeMessage({ type: 18, flags: 0x301, seq: 1, pid: 0 }, new Uint8Array(16));
 * bytes.length; // 32
 * ```
 */
export function encodeMessage(header: Header, payload: Uint8Array): Uint8Array {
  const len = NLMSG_HDRLEN + payload.length;
  const out = new Uint8Array(align(len));
  const view = new DataView(out.buffer);
  view.setUint32(0, len, true);
  view.setUint16(4, header.type, true);
  view.setUint16(6, header.flags, true);
  view.setUint32(8, header.seq >>> 0, true);
  view.setUint32(12, header.pid >>> 0, true);
  out.set(payload, NLMSG_HDRLEN);
  return out;
}

/** Concatenates already encoded messages into one datagram (for batching many requests). */
export function concatMessages(messages: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const m of messages) total += m.length;
  const out = new Uint8Array(total);
  let off = 0;
  for (const m of messages) {
    out.set(m, off);
    off += m.length;
  }
  return out;
}

/**
 * The length (`nlmsg_len`) of the message whose header starts at `off` in a datagram of `end`
 * bytes read through `view`: what {@linkcode decodeMessages} checks for each message, for walking
 * a datagram in place. Throws {@linkcode DecodeError} (offset `off - base`: `base` is where the
 * datagram starts in a larger buffer) on a truncated header or a length that is too short or runs
 * past `end`. The next message starts at `off + align(length)`.
 *
 * @example
 * ```ts
 * import { encodeMessage, messageLengthAt } from "./message.ts";
 * const bytes = encodeMessage({ type: 3, flags: 2, seq: 7, pid: 0 }, new Uint8Array(4));
 * messageLengthAt(new DataView(bytes.buffer), 0, bytes.length); // 20
 * ```
 */
export function messageLengthAt(view: DataView, off: number, end: number, base = 0): number {
  if (end - off < NLMSG_HDRLEN) {
    throw new DecodeError(`truncated netlink header: ${end - off} bytes`, off - base);
  }
  const len = view.getUint32(off, true);
  if (len < NLMSG_HDRLEN) {
    throw new DecodeError(`netlink message length ${len} too short`, off - base);
  }
  if (len > end - off) {
    throw new DecodeError(
      `netlink message length ${len} runs past the ${end - off} bytes left`,
      off - base,
    );
  }
  return len;
}

/**
 * The message whose header starts at `off` in `buf` (of `len` bytes, as
 * {@linkcode messageLengthAt} returned): its header, and its payload as a view into `buf`.
 */
export function messageAt(buf: Uint8Array, view: DataView, off: number, len: number): Message {
  return {
    header: {
      type: view.getUint16(off + 4, true),
      flags: view.getUint16(off + 6, true),
      seq: view.getUint32(off + 8, true),
      pid: view.getUint32(off + 12, true),
    },
    payload: buf.subarray(off + NLMSG_HDRLEN, off + len),
  };
}

/**
 * Splits a received datagram into its messages. Throws {@linkcode DecodeError} on a truncated
 * header or a length that is too short or runs past the buffer; never loops on bad lengths.
 *
 * @example
 * ```ts
 * import { decodeMessages, encodeMessage } from "./message.ts";
 * const [m] = decodeMessages(encodeMessage({ type: 3, flags: 2, seq: 7, pid: 0 }, new Uint8Array(4)));
 * m.header.seq; // 7
 * ```
 */
export function decodeMessages(buf: Uint8Array): Message[] {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: Message[] = [];
  let off = 0;
  while (off < buf.length) {
    const len = messageLengthAt(view, off, buf.length);
    out.push(messageAt(buf, view, off, len));
    off += align(len);
  }
  return out;
}
