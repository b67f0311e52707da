/**
 * Acknowledgements: the payload of `NLMSG_ERROR` (an errno, the echoed request, and the
 * extended-ack TLVs) and of `NLMSG_DONE`.
 *
 * @module
 */

import { attrString, attrU32, decodeAttributes, NLA_HDRLEN } from "./attributes.ts";
import { NLM_F, NLMSG_HDRLEN, NLMSGERR_ATTR } from "./constants.ts";
import { DecodeError } from "./errors.ts";
import { align, type Header } from "./message.ts";

/** The kernel's extended acknowledgement (`NETLINK_EXT_ACK`), when it sent one. */
export interface ExtAck {
  /** `NLMSGERR_ATTR_MSG`: a human-readable reason, e.g. `"Invalid prefsrc address"`. */
  msg?: string;
  /**
   * `NLMSGERR_ATTR_OFFS`: offset of the offending attribute, counted from the start of the
   * request's `nlmsghdr`.
   */
  offset?: number;
}

/** A decoded `NLMSG_ERROR` message: a NACK, or with `errno` 0 a success ACK. */
export interface Ack {
  /** The positive errno of the failure; 0 for a success ACK. */
  errno: number;
  /** The header of the request this answers (its `seq` matches the request's). */
  request: Header;
  /** The extended ack, when the message carries `NLMSGERR_ATTR_*` TLVs with a message or offset. */
  extAck?: ExtAck;
}

/** The result that ends a dump (`NLMSG_DONE`): 0, or the errno that cut the dump short. */
export interface Done {
  /** The positive errno; 0 when the dump completed. */
  errno: number;
  /** The extended ack, when the kernel sent one. */
  extAck?: ExtAck;
}

function decodeErrno(payload: Uint8Array): number {
  const error = new DataView(payload.buffer, payload.byteOffset, 4).getInt32(0, true);
  if (error > 0) throw new DecodeError(`error code ${error} is positive, expected -errno`, 0);
  return error === 0 ? 0 : -error; // not -0
}

function decodeExtAck(buf: Uint8Array, base: number): ExtAck | undefined {
  const ext: ExtAck = {};
  for (const attr of decodeAttributes(buf, base)) {
    const at = base + (attr.data.byteOffset - buf.byteOffset) - NLA_HDRLEN;
    if (attr.type === NLMSGERR_ATTR.MSG) ext.msg = attrString(attr);
    else if (attr.type === NLMSGERR_ATTR.OFFS) ext.offset = attrU32(attr, at);
  }
  return ext.msg === undefined && ext.offset === undefined ? undefined : ext;
}

/**
 * Decodes the payload of an `NLMSG_ERROR` message; `headerFlags` are that message's
 * `nlmsg_flags`. The payload is a negative int32 errno, the request's `nlmsghdr`, then — unless
 * `NLM_F_CAPPED` — the rest of the request (skipped using its `nlmsg_len`), then — with
 * `NLM_F_ACK_TLVS` — the `NLMSGERR_ATTR_*` attributes. A bare success ACK without `NLM_F_CAPPED`
 * (kernels before 4.12) is accepted. Throws {@linkcode DecodeError} (offsets relative to `payload`)
 * when the parts do not fit.
 *
 * @example
 * ```ts
 * import { decodeAck } from "./ack.ts";
 * const payload = new Uint8Array(20);
 * new DataView(payload.buffer).setInt32(0, -17, true); // -EEXIST
 * new DataView(payload.buffer).setUint32(4, 36, true); // the request's nlmsg_len
 * const NLM_F_CAPPED = 0x100;
 * decodeAck(payload, NLM_F_CAPPED).errno; // 17
 * ```
 */
export function decodeAck(payload: Uint8Array, headerFlags: number): Ack {
  const fixed = 4 + NLMSG_HDRLEN;
  if (payload.length < fixed) {
    throw new DecodeError(
      `error message has ${payload.length} bytes, struct nlmsgerr needs ${fixed}`,
      0,
    );
  }
  const errno = decodeErrno(payload);
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const requestLen = view.getUint32(4, true);
  const ack: Ack = {
    errno,
    request: {
      type: view.getUint16(8, true),
      flags: view.getUint16(10, true),
      seq: view.getUint32(12, true),
      pid: view.getUint32(16, true),
    },
  };
  let off = fixed;
  const capped = (headerFlags & NLM_F.CAPPED) !== 0;
  const legacyAck = errno === 0 && payload.length === fixed;
  if (!capped && !legacyAck) {
    if (requestLen < NLMSG_HDRLEN) {
      throw new DecodeError(`echoed request length ${requestLen} is shorter than its header`, 4);
    }
    if (requestLen > payload.length - 4) {
      throw new DecodeError(
        `echoed request length ${requestLen} runs past the ${payload.length - 4} bytes left`,
        4,
      );
    }
    off = 4 + align(requestLen);
  }
  if ((headerFlags & NLM_F.ACK_TLVS) !== 0 && off < payload.length) {
    const extAck = decodeExtAck(payload.subarray(off), off);
    if (extAck !== undefined) ack.extAck = extAck;
  }
  return ack;
}

/**
 * Decodes the payload of an `NLMSG_DONE` message: an int32 that is 0 or `-errno` (an empty
 * payload counts as 0), then — with `NLM_F_ACK_TLVS` — the extended ack.
 *
 * @example
 * ```ts
 * import { decodeDone } from "./ack.ts";
 * decodeDone(new Uint8Array(4), 0x2).errno; // 0
 * ```
 */
export function decodeDone(payload: Uint8Array, headerFlags: number): Done {
  if (payload.length === 0) return { errno: 0 };
  if (payload.length < 4) {
    throw new DecodeError(`done message has ${payload.length} bytes, expected at least 4`, 0);
  }
  const done: Done = { errno: decodeErrno(payload) };
  if ((headerFlags & NLM_F.ACK_TLVS) !== 0 && payload.length > 4) {
    const extAck = decodeExtAck(payload.subarray(4), 4);
    if (extAck !== undefined) done.extAck = extAck;
  }
  return done;
}
