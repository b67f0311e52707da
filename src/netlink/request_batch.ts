/**
 * {@linkcode RequestBatch}: netlink requests laid out back to back in one buffer, exactly as the
 * datagrams of `Conn.executeBatch` carry them (header, payload, padding), so that a
 * datagram is a contiguous run of the buffer, sent without copying. Payloads are written in
 * place by a {@linkcode PayloadWriter} (e.g. `encodeRouteInto`), so that encoding thousands of
 * requests allocates one growing buffer instead of an array per request. Pure.
 *
 * @module
 */

import { NLM_F, NLMSG_HDRLEN } from "./constants.ts";
import { align } from "./message.ts";

/**
 * Writes the payload of `item` into `out` at `off` and returns its length in bytes, or -1 when
 * `out` has no room for it from `off` on (the batch then grows and calls again).
 */
export type PayloadWriter<T> = (item: T, out: Uint8Array, off: number) => number;

/** Copies a ready payload: the {@linkcode PayloadWriter} of {@linkcode RequestBatch.addPayload}. */
function copyPayload(payload: Uint8Array, out: Uint8Array, off: number): number {
  if (payload.length > out.length - off) return -1;
  out.set(payload, off);
  return payload.length;
}

/**
 * Requests in the order they were added, each an `nlmsghdr` (length, type,
 * `NLM_F_REQUEST | flags`; sequence number and port id left 0 for the sender to set) and its
 * payload, padded to 4 bytes.
 *
 * @example
 * ```ts
 * import { RequestBatch } from "./request_batch.ts";
 * const batch = new RequestBatch();
 * batch.addPayload(24, 0x600, new Uint8Array(12)); // RTM_NEWROUTE, CREATE | EXCL
 * batch.length; // 1
 * batch.offsetOf(1); // 28: the header and the payload
 * ```
 */
export class RequestBatch {
  #buffer: Uint8Array;
  #view: DataView;
  #used = 0;
  readonly #starts: number[] = [];

  /** An empty batch with room for `capacity` bytes to begin with (it grows as needed). */
  constructor(capacity = 4096) {
    this.#buffer = new Uint8Array(Math.max(capacity, 64));
    this.#view = new DataView(this.#buffer.buffer);
  }

  /** The number of requests. */
  get length(): number {
    return this.#starts.length;
  }

  /** The buffer the requests are in (from offset 0 to `offsetOf(length)`); replaced as it grows. */
  get buffer(): Uint8Array {
    return this.#buffer;
  }

  /** A view of {@linkcode RequestBatch.buffer}. */
  get view(): DataView {
    return this.#view;
  }

  /** Where request `index` starts (its header); `offsetOf(length)` is the end of the last one. */
  offsetOf(index: number): number {
    return index < this.#starts.length ? this.#starts[index] : this.#used;
  }

  /**
   * Appends a request of message `type` with `NLM_F_REQUEST | flags`, whose payload
   * `write(item, ...)` puts in place.
   */
  add<T>(type: number, flags: number, write: PayloadWriter<T>, item: T): void {
    const start = this.#used;
    let length: number;
    while ((length = write(item, this.#buffer, start + NLMSG_HDRLEN)) < 0) this.#grow();
    const size = NLMSG_HDRLEN + length;
    const end = start + align(size);
    if (end > this.#buffer.length) throw new RangeError("a payload writer wrote past its room");
    const view = this.#view;
    view.setUint32(start, size, true);
    view.setUint16(start + 4, type, true);
    view.setUint16(start + 6, (flags | NLM_F.REQUEST) & 0xffff, true);
    view.setUint32(start + 8, 0, true);
    view.setUint32(start + 12, 0, true);
    this.#buffer.fill(0, start + size, end);
    this.#starts.push(start);
    this.#used = end;
  }

  /** Appends a request whose payload is ready (it is copied). */
  addPayload(type: number, flags: number, payload: Uint8Array): void {
    this.add(type, flags, copyPayload, payload);
  }

  #grow(): void {
    const bigger = new Uint8Array(this.#buffer.length * 2);
    bigger.set(this.#buffer.subarray(0, this.#used));
    this.#buffer = bigger;
    this.#view = new DataView(bigger.buffer);
  }
}
