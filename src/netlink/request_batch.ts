/**
 * {@linkcode RequestBatch}: netlink requests laid out back to back, exactly as the datagrams of
 * `Conn.executeBatch` carry them (header, payload, padding), so that a datagram is a contiguous
 * run of a buffer, sent without copying. Payloads are written in place by a
 * {@linkcode PayloadWriter} (e.g. `encodeRouteInto`), so that encoding thousands of requests
 * allocates a few buffers instead of an array per request. Pure.
 *
 * The buffers are segments of at most {@linkcode SEGMENT_BYTES} (the largest datagram) unless one
 * request needs more. One buffer for all requests (1 MiB for 10k) made the daemon's RSS after
 * warm-up vary more (tests/reliability/resources.test.ts, old space capped: growth over 100,000
 * events of -0.3 to +24.7 MB in 6 runs, against +1 to +8 MB before and +4.7 to +12.5 MB with
 * bounded buffers). A datagram never spans segments.
 *
 * @module
 */

import { NLM_F, NLMSG_HDRLEN } from "./constants.ts";
import { align } from "./message.ts";

/** Rows of per-request offsets a new batch has room for before its columns grow. */
const INITIAL_ROWS = 64;

/** The size of a full segment: 64 KiB, the largest datagram `Conn` sends. */
export const SEGMENT_BYTES = 64 << 10;

/**
 * Writes the payload of `item` into `out` at `off` and returns its length in bytes, or -1 when
 * `out` has no room for it from `off` on (the batch then makes room and calls again).
 */
export type PayloadWriter<T> = (item: T, out: Uint8Array, off: number) => number;

/** Copies a ready payload: the {@linkcode PayloadWriter} of {@linkcode RequestBatch.addPayload}. */
function copyPayload(payload: Uint8Array, out: Uint8Array, off: number): number {
  if (payload.length > out.length - off) return -1;
  out.set(payload, off);
  return payload.length;
}

/** One buffer of a {@linkcode RequestBatch} and a view of it. */
export interface Segment {
  /** The bytes. */
  buffer: Uint8Array;
  /** A view of `buffer`. */
  view: DataView;
}

/**
 * Requests in the order they were added, each an `nlmsghdr` (length, type,
 * `NLM_F_REQUEST | flags`; sequence number and port id left 0 for the sender to set) and its
 * payload, padded to 4 bytes, in segments: request `i` is bytes `startOf(i)` to `endOf(i)` of
 * `segment(i)`, and the requests of one segment follow each other without a gap.
 *
 * @example
 * ```ts
 * import { RequestBatch } from "./request_batch.ts";
 * const batch = new RequestBatch();
 * batch.addPayload(24, 0x600, new Uint8Array(12)); // RTM_NEWROUTE, CREATE | EXCL
 * batch.length; // 1
 * batch.endOf(0); // 28: the header and the payload
 * ```
 */
export class RequestBatch {
  #buffer: Uint8Array;
  #view: DataView;
  #used = 0;
  readonly #segments: Segment[] = [];
  // Per request, in columns that double when full: numbers in typed arrays are no garbage for
  // the young generation, where growing arrays of 10k numbers were ~120 bytes per request.
  #count = 0;
  #segmentOf = new Int32Array(INITIAL_ROWS);
  #starts = new Int32Array(INITIAL_ROWS);
  #ends = new Int32Array(INITIAL_ROWS);

  /**
   * An empty batch whose first segment has room for `capacity` bytes (at most
   * {@linkcode SEGMENT_BYTES}); later ones are full segments.
   */
  constructor(capacity = 4096) {
    this.#buffer = new Uint8Array(Math.min(Math.max(capacity, 64), SEGMENT_BYTES));
    this.#view = new DataView(this.#buffer.buffer);
    this.#segments.push({ buffer: this.#buffer, view: this.#view });
  }

  /** The number of requests. */
  get length(): number {
    return this.#count;
  }

  /** The segment request `index` is in. */
  segment(index: number): Segment {
    return this.#segments[this.#segmentOf[index]];
  }

  /** Whether requests `a` and `b` are in the same segment. */
  sameSegment(a: number, b: number): boolean {
    return this.#segmentOf[a] === this.#segmentOf[b];
  }

  /** Where request `index` starts (its header) in its segment. */
  startOf(index: number): number {
    return this.#starts[index];
  }

  /** Where request `index` ends (after its padding) in its segment. */
  endOf(index: number): number {
    return this.#ends[index];
  }

  /**
   * Appends a request of message `type` with `NLM_F_REQUEST | flags`, whose payload
   * `write(item, ...)` puts in place.
   */
  add<T>(type: number, flags: number, write: PayloadWriter<T>, item: T): void {
    let length: number;
    while ((length = write(item, this.#buffer, this.#used + NLMSG_HDRLEN)) < 0) this.#makeRoom();
    const start = this.#used;
    const size = NLMSG_HDRLEN + length;
    const end = start + align(size);
    if (end > this.#buffer.length) throw new RangeError("a payload writer wrote past its room");
    const view = this.#view;
    view.setUint32(start, size, true);
    view.setUint16(start + 4, type, true);
    view.setUint16(start + 6, (flags | NLM_F.REQUEST) & 0xffff, true);
    view.setUint32(start + 8, 0, true);
    view.setUint32(start + 12, 0, true);
    if (end > start + size) this.#buffer.fill(0, start + size, end);
    const row = this.#count;
    if (row === this.#starts.length) this.#growRows();
    this.#segmentOf[row] = this.#segments.length - 1;
    this.#starts[row] = start;
    this.#ends[row] = end;
    this.#count = row + 1;
    this.#used = end;
  }

  /** Appends a request whose payload is ready (it is copied). */
  addPayload(type: number, flags: number, payload: Uint8Array): void {
    this.add(type, flags, copyPayload, payload);
  }

  /** Doubles the columns of per-request offsets. */
  #growRows(): void {
    const grown = (column: Int32Array) => {
      const bigger = new Int32Array(column.length * 2);
      bigger.set(column);
      return bigger;
    };
    this.#segmentOf = grown(this.#segmentOf);
    this.#starts = grown(this.#starts);
    this.#ends = grown(this.#ends);
  }

  /**
   * A new full segment after one that holds requests; an empty one (a request larger than it)
   * is replaced by one twice its size.
   */
  #makeRoom(): void {
    const grow = this.#used === 0;
    this.#buffer = new Uint8Array(grow ? this.#buffer.length * 2 : SEGMENT_BYTES);
    this.#view = new DataView(this.#buffer.buffer);
    this.#used = 0;
    const segment = { buffer: this.#buffer, view: this.#view };
    if (grow) this.#segments[this.#segments.length - 1] = segment;
    else this.#segments.push(segment);
  }
}
