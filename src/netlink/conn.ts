/**
 * {@linkcode Conn}: request/reply logic over a {@linkcode Transport} — sequence numbers,
 * multipart dumps (with `NLM_F_DUMP_INTR` retries), batches of acknowledged requests matched to
 * their ACKs, and draining multicast events. Pure logic: tests drive it with a fake kernel.
 *
 * Only datagrams sent by the kernel (port id 0) are accepted; others are dropped and counted in
 * {@linkcode Conn.droppedForeign}. Replies are recognised by their sequence number and our port
 * id; multicast datagrams that arrive during a request are kept for {@linkcode Conn.drainEvents}.
 *
 * @module
 */

import { decodeAck, decodeDone } from "./ack.ts";
import { NLM_F, NLMSG, NLMSG_HDRLEN, RTM } from "./constants.ts";
import { DecodeError, ERRNO, NetlinkError } from "./errors.ts";
import {
  align,
  decodeMessages,
  encodeMessage,
  type Message,
  messageAt,
  messageLengthAt,
} from "./message.ts";
import { RequestBatch } from "./request_batch.ts";
import type { Datagram, Transport, WaitResult } from "./transport.ts";

/**
 * Receive-buffer cost of one queued ACK, in bytes: the skb's truesize (about 768 bytes for a
 * capped ACK on x86-64 Linux 6.x) plus headroom for extended-ack messages on errors.
 */
export const ACK_RECEIVE_COST = 1024;

/** Options of {@linkcode Conn}. */
export interface ConnOptions {
  /** How long to wait for the kernel's next reply before failing with `ETIMEDOUT`. Default 5000. */
  timeoutMs?: number;
  /** How often a dump cut by a concurrent change (`NLM_F_DUMP_INTR`) is repeated. Default 8. */
  dumpRetries?: number;
  /** Largest datagram of batched requests. Default `transport.maxSendBytes`, at most 64 KiB. */
  maxBatchBytes?: number;
  /**
   * Most requests in one datagram, so that their ACKs fit the receive buffer. Default
   * `receiveBufferBytes / ACK_RECEIVE_COST`, less a quarter for headroom.
   */
  maxBatchMessages?: number;
  /** First sequence number. Default: random. */
  firstSeq?: number;
}

/** One request of {@linkcode Conn.execute}. */
export interface NetlinkRequest {
  /** Message type (`RTM_NEWROUTE`, ...). */
  type: number;
  /** Extra `NLM_F_*` flags (`CREATE`, `EXCL`, `REPLACE`, ...); `REQUEST | ACK` are added. */
  flags?: number;
  /** The message payload (e.g. an encoded `rtmsg` and its attributes). */
  payload: Uint8Array;
  /**
   * What the request does, for error messages, e.g. `"add route 10.0.0.0/24"`; a function is
   * called only when the request failed.
   */
  op?: string | (() => string);
}

/**
 * Decodes one message in place, for {@linkcode Conn.dumpDecoded} (a dump's replies) and
 * {@linkcode Conn.drainEventsDecoded} (events): the message's `nlmsghdr` starts at `offset` in
 * the datagram `data` (read through `view`, which covers all of `data`) and it is `length` bytes
 * long (header included, checked to lie inside `data`). Returns the value to keep, or `undefined`
 * to skip the message. Must not keep views into `data`: the datagram's bytes are the socket's,
 * reused by later receives.
 */
export type MessageDecoder<T> = (
  data: Uint8Array,
  view: DataView,
  offset: number,
  length: number,
) => T | undefined;

/** What {@linkcode Conn.drainEvents} read. */
export interface EventBatch {
  /** Messages of kernel datagrams, in arrival order; control messages (`NLMSG_*`) left out. */
  messages: Message[];
  /** Whether events were lost to a receive-buffer overrun (`ENOBUFS`): the caller must resync. */
  overrun: boolean;
}

/**
 * Calls `visit` with each message of the datagram `data` that is not a control message
 * (`NLMSG_*`): the bytes and a view of `data`'s whole buffer, the message's offset in them and
 * its length. `whole` holds the last buffer's bytes and view: the datagrams of a drain lie in one
 * receive arena, and a view per datagram was garbage per event. Throws {@linkcode DecodeError}
 * (offsets counted from the datagram's start) when the datagram's framing is broken.
 */
function forEachEventMessage(
  data: Uint8Array,
  whole: WholeBuffer,
  visit: (bytes: Uint8Array, view: DataView, offset: number, length: number) => void,
): void {
  if (whole.bytes.buffer !== data.buffer) {
    whole.bytes = new Uint8Array(data.buffer);
    whole.view = new DataView(data.buffer);
  }
  const { bytes, view } = whole;
  const start = data.byteOffset;
  const end = start + data.byteLength;
  for (let off = start; off < end;) {
    const len = messageLengthAt(view, off, end, start);
    if (view.getUint16(off + 4, true) >= NLMSG_MIN_TYPE) visit(bytes, view, off, len);
    off += align(len);
  }
}

/** The bytes and a view of the buffer that the last datagram walked lies in. */
interface WholeBuffer {
  bytes: Uint8Array;
  view: DataView;
}

/** Most multicast messages kept aside while a request runs, before they count as lost. */
const MAX_STASHED_EVENTS = 65536;
/** The options of a transient receive ({@linkcode Transport.tryReceive}). */
const TRANSIENT = Object.freeze({ transient: true });
/** Smallest message type that is not a control message. */
const NLMSG_MIN_TYPE = 0x10;

const RTM_NAMES = new Map<number, string>(Object.entries(RTM).map(([k, v]) => [v, `RTM_${k}`]));

function typeName(type: number): string {
  return RTM_NAMES.get(type) ?? `message type ${type}`;
}

/**
 * The index of `seq` among `count` sequence numbers from `firstSeq` on (as `Conn` counts them:
 * up by one, skipping 0 at the wrap), or -1 when it is not one of them.
 */
function seqIndex(seq: number, firstSeq: number, count: number): number {
  if (seq === 0) return -1;
  let k = (seq - firstSeq) >>> 0;
  if (seq < firstSeq) k -= 1; // 0 was skipped at the wrap.
  return k < count ? k : -1;
}

/** Checks the framing of the messages from `off` to `end` ({@linkcode messageLengthAt}). */
function checkFraming(view: DataView, off: number, end: number): void {
  while (off < end) off += align(messageLengthAt(view, off, end));
}

/**
 * A netlink connection: requests, dumps, batches and events over one {@linkcode Transport}.
 * Requests are synchronous (they block the thread until the kernel answered, at most
 * `timeoutMs` per reply); {@linkcode Conn.wait} is the asynchronous way to await events.
 *
 * @example
 * ```ts ignore
 * import { Conn } from "./conn.ts";
 * import { NetlinkSocket } from "./socket.ts";
 * import { RTM } from "./constants.ts";
 * const conn = new Conn(NetlinkSocket.open());
 * const links = conn.dump(RTM.GETLINK, new Uint8Array(16));
 * const [error] = conn.execute([{ type: RTM.NEWROUTE, flags: 0x600, payload, op: "add route" }]);
 * ```
 */
export class Conn {
  /** The transport this connection speaks over. */
  readonly transport: Transport;
  readonly #timeoutMs: number;
  readonly #dumpRetries: number;
  readonly #maxBatchBytes: number;
  #maxBatchMessages: number;
  #seq: number;
  #droppedForeign = 0;
  /** Event messages that came during a request, each as its own bytes (header included). */
  #stash: Uint8Array[] = [];
  #stashOverrun = false;
  /** See {@linkcode forEachEventMessage}. */
  readonly #whole: WholeBuffer = {
    bytes: new Uint8Array(0),
    view: new DataView(new ArrayBuffer(0)),
  };

  /** Creates a connection over `transport`. */
  constructor(transport: Transport, options: ConnOptions = {}) {
    this.transport = transport;
    this.#timeoutMs = options.timeoutMs ?? 5000;
    this.#dumpRetries = options.dumpRetries ?? 8;
    this.#maxBatchBytes = options.maxBatchBytes ?? Math.min(transport.maxSendBytes, 64 << 10);
    this.#maxBatchMessages = Math.max(
      1,
      options.maxBatchMessages ??
        Math.floor((transport.receiveBufferBytes / ACK_RECEIVE_COST) * 0.75),
    );
    this.#seq = (options.firstSeq ?? Math.floor(Math.random() * 0x7fffffff) + 1) >>> 0;
  }

  /** Datagrams dropped because another socket, not the kernel, sent them. */
  get droppedForeign(): number {
    return this.#droppedForeign;
  }

  /** The current limit of requests per datagram in {@linkcode Conn.execute}. */
  get maxBatchMessages(): number {
    return this.#maxBatchMessages;
  }

  #nextSeq(): number {
    const seq = this.#seq;
    this.#seq = (this.#seq + 1) >>> 0 || 1;
    return seq;
  }

  /**
   * The next queued datagram, `null` when none is, or `"overrun"` when the socket lost some;
   * `transient`: see {@linkcode Transport.tryReceive}.
   */
  #tryReceive(transient = false): Datagram | null | "overrun" {
    try {
      return transient ? this.transport.tryReceive(TRANSIENT) : this.transport.tryReceive();
    } catch (e) {
      if (e instanceof NetlinkError && e.errno === ERRNO.ENOBUFS) return "overrun";
      throw e;
    }
  }

  /**
   * Receives the next datagram from the kernel, waiting until `deadline` (a `performance.now()`
   * time). Foreign datagrams are dropped and counted; multicast ones are stashed for
   * {@linkcode drainEvents}. Returns the messages of a unicast kernel datagram, `"overrun"` after
   * `ENOBUFS`, or `null` at the deadline.
   */
  #receiveUnicast(deadline: number): Message[] | "overrun" | null {
    const datagram = this.#receiveUnicastDatagram(deadline);
    return datagram === null || datagram === "overrun" ? datagram : decodeMessages(datagram.data);
  }

  /**
   * {@linkcode #receiveUnicast}, returning the datagram itself rather than its messages;
   * `transient`: its bytes may be overwritten by the next receive.
   */
  #receiveUnicastDatagram(deadline: number, transient = false): Datagram | "overrun" | null {
    for (;;) {
      const datagram = this.#tryReceive(transient);
      if (datagram === "overrun") {
        this.#stashOverrun = true;
        return "overrun";
      }
      if (datagram === null) {
        const remaining = deadline - performance.now();
        if (remaining <= 0 || !this.transport.waitSync(Math.ceil(remaining))) return null;
        continue;
      }
      if (datagram.pid !== 0) {
        this.#droppedForeign++;
        continue;
      }
      if (datagram.groups !== 0) {
        this.#keep(datagram.data);
        continue;
      }
      return datagram;
    }
  }

  #keep(data: Uint8Array): void {
    forEachEventMessage(data, this.#whole, (bytes, _view, at, len) => {
      if (this.#stash.length >= MAX_STASHED_EVENTS) this.#stashOverrun = true;
      else this.#stash.push(bytes.slice(at, at + len));
    });
  }

  #isReply(m: Message, seq: number): boolean {
    return m.header.seq === seq && m.header.pid === this.transport.pid;
  }

  /**
   * Dumps all objects of a kind: sends `type` with `NLM_F_REQUEST | NLM_F_DUMP | flags` and
   * returns the reply messages up to `NLMSG_DONE`. A dump the kernel marks interrupted
   * (`NLM_F_DUMP_INTR`) is repeated, up to `dumpRetries` times, then fails with `EINTR`.
   * Throws {@linkcode NetlinkError} for an error reply, and `ETIMEDOUT` when the kernel stops
   * answering. Note: a route dump filtered by a table that does not exist (yet) fails with
   * `ENOENT` ("ipv4: FIB table does not exist"); callers treat that as an empty table.
   *
   * @example
   * ```ts ignore
   * const routes = conn.dump(RTM.GETROUTE, rtmsgWithTableAttribute); // filtered by strict check
   * ```
   */
  dump(type: number, payload: Uint8Array, flags = 0): Message[] {
    // The messages are views into the datagrams: those must stay, not be received transiently.
    return this.#dump(type, payload, messageAt, flags, false);
  }

  /**
   * {@linkcode dump} with each reply message decoded in place by `decode` as its datagram is
   * walked, without a {@linkcode Message} per reply: returns the values `decode` returned, in
   * order (`undefined` ones left out). A {@linkcode DecodeError} that `decode` throws is thrown
   * once the dump has been read to its end (an interrupted dump is repeated first), so that no
   * part of it is left queued; the first one is thrown.
   *
   * @example
   * ```ts ignore
   * const types = conn.dumpDecoded(RTM.GETLINK, new Uint8Array(16), (_d, view, at) => view.getUint16(at + 4, true));
   * ```
   */
  dumpDecoded<T>(type: number, payload: Uint8Array, decode: MessageDecoder<T>, flags = 0): T[] {
    return this.#dump(type, payload, decode, flags, true);
  }

  /** {@linkcode dumpDecoded}, receiving the datagrams transiently or not. */
  #dump<T>(
    type: number,
    payload: Uint8Array,
    decode: MessageDecoder<T>,
    flags: number,
    transient: boolean,
  ): T[] {
    const op = `dump ${typeName(type)}`;
    for (let attempt = 0;; attempt++) {
      const seq = this.#nextSeq();
      const header = {
        type,
        flags: NLM_F.REQUEST | NLM_F.DUMP | flags,
        seq,
        pid: this.transport.pid,
      };
      this.transport.send(encodeMessage(header, payload));
      const { values, interrupted, error } = this.#collectDump(seq, op, decode, transient);
      if (!interrupted) {
        if (error !== undefined) throw error;
        return values;
      }
      if (attempt >= this.#dumpRetries) {
        throw new NetlinkError(
          op,
          ERRNO.EINTR,
          `interrupted by concurrent changes ${attempt + 1} times`,
        );
      }
    }
  }

  #collectDump<T>(
    seq: number,
    op: string,
    decode: MessageDecoder<T>,
    transient: boolean,
  ): { values: T[]; interrupted: boolean; error?: unknown } {
    const values: T[] = [];
    let interrupted = false;
    let error: unknown;
    let deadline = performance.now() + this.#timeoutMs;
    const pid = this.transport.pid;
    for (;;) {
      const received = this.#receiveUnicastDatagram(deadline, transient);
      if (received === null) {
        throw new NetlinkError(op, ERRNO.ETIMEDOUT, `no reply within ${this.#timeoutMs} ms`);
      }
      if (received === "overrun") continue; // Dump parts are paced by reads: only events were lost.
      deadline = performance.now() + this.#timeoutMs;
      const data = received.data;
      const end = data.length;
      const view = new DataView(data.buffer, data.byteOffset, end);
      for (let off = 0; off < end;) {
        const at = off;
        const len = messageLengthAt(view, at, end);
        off += align(len);
        if (view.getUint32(at + 8, true) !== seq || view.getUint32(at + 12, true) !== pid) continue;
        const messageFlags = view.getUint16(at + 6, true);
        if (messageFlags & NLM_F.DUMP_INTR) interrupted = true;
        const messageType = view.getUint16(at + 4, true);
        // A datagram with bad framing is refused whole, also when the dump ends before it.
        if (messageType === NLMSG.DONE || messageType === NLMSG.ERROR) checkFraming(view, off, end);
        switch (messageType) {
          case NLMSG.DONE: {
            const done = decodeDone(data.subarray(at + NLMSG_HDRLEN, at + len), messageFlags);
            if (done.errno > 0) {
              throw new NetlinkError(op, done.errno, done.extAck?.msg, done.extAck?.offset);
            }
            return { values, interrupted, error };
          }
          case NLMSG.ERROR: {
            const ack = decodeAck(data.subarray(at + NLMSG_HDRLEN, at + len), messageFlags);
            if (ack.errno === 0) continue; // The ACK of a dump sent with NLM_F_ACK follows DONE.
            throw new NetlinkError(op, ack.errno, ack.extAck?.msg, ack.extAck?.offset);
          }
          case NLMSG.NOOP:
          case NLMSG.OVERRUN:
            continue;
          default: {
            if (error !== undefined) continue;
            try {
              const value = decode(data, view, at, len);
              if (value !== undefined) values.push(value);
            } catch (e) {
              if (!(e instanceof DecodeError)) throw e;
              error = e;
            }
          }
        }
      }
    }
  }

  /**
   * Sends one request with `NLM_F_REQUEST | NLM_F_ACK | flags` and returns the kernel's reply
   * messages up to its ACK (e.g. the route of an `RTM_GETROUTE`). An error ACK throws
   * {@linkcode NetlinkError}; a kernel that stops answering, `ETIMEDOUT`.
   *
   * @example
   * ```ts ignore
   * const [reply] = conn.request(RTM.GETROUTE, rtmsgWithDestination);
   * ```
   */
  request(type: number, payload: Uint8Array, flags = 0, op = typeName(type)): Message[] {
    const seq = this.#nextSeq();
    const header = { type, flags: NLM_F.REQUEST | NLM_F.ACK | flags, seq, pid: this.transport.pid };
    this.transport.send(encodeMessage(header, payload));
    const replies: Message[] = [];
    for (;;) {
      const received = this.#receiveUnicast(performance.now() + this.#timeoutMs);
      if (received === null) {
        throw new NetlinkError(op, ERRNO.ETIMEDOUT, `no reply within ${this.#timeoutMs} ms`);
      }
      if (received === "overrun") continue; // Only events were lost: replies are not dropped.
      for (const m of received) {
        if (!this.#isReply(m, seq)) continue;
        if (m.header.type !== NLMSG.ERROR) {
          replies.push(m);
          continue;
        }
        const ack = decodeAck(m.payload, m.header.flags);
        if (ack.errno !== 0) {
          throw new NetlinkError(op, ack.errno, ack.extAck?.msg, ack.extAck?.offset);
        }
        return replies;
      }
    }
  }

  /**
   * Sends requests, many per datagram, and checks every outcome: the result at index `i` is
   * `null` when request `i` succeeded, or a {@linkcode NetlinkError} (`op`, errno, the kernel's
   * extended-ack message) when it failed. See {@linkcode Conn.executeBatch}, which this lays the
   * requests out for.
   *
   * Use a socket not subscribed to multicast groups: events compete with replies for the buffer.
   */
  execute(requests: readonly NetlinkRequest[]): (NetlinkError | null)[] {
    const batch = new RequestBatch(
      requests.reduce((n, r) => n + align(NLMSG_HDRLEN + r.payload.length), 0),
    );
    for (const r of requests) batch.addPayload(r.type, r.flags ?? 0, r.payload);
    return this.executeBatch(batch, (i) => {
      const op = requests[i].op;
      return typeof op === "function" ? op() : op ?? typeName(requests[i].type);
    });
  }

  /**
   * Sends the requests of `batch`, many per datagram (runs of its buffer, as they are: each
   * message's sequence number and port id are set here), and checks every outcome: the result
   * at index `i` is `null` when request `i` succeeded, or a {@linkcode NetlinkError} (`opOf(i)`,
   * default the message type's name; errno; the kernel's extended-ack message) when it failed.
   * Only the last request of each datagram carries `NLM_F_ACK`: the kernel handles a datagram's
   * messages in order and answers every failure whether asked or not, so that one ACK says that
   * the requests before it without an error reply succeeded — one reply per datagram instead of
   * one per request. A request whose outcome was lost to a receive-buffer overrun gets `ENOBUFS`
   * (unknown) and later batches are made smaller. Throws `ETIMEDOUT` when the kernel stops
   * answering, and send errors.
   *
   * Use a socket not subscribed to multicast groups: events compete with replies for the buffer.
   *
   * @example
   * ```ts ignore
   * const batch = new RequestBatch();
   * for (const route of routes) batch.add(RTM.NEWROUTE, NLM_F.CREATE, encodeRouteInto, route);
   * const errors = conn.executeBatch(batch, (i) => `add route ${routes[i].dst}`);
   * ```
   */
  executeBatch(batch: RequestBatch, opOf?: (index: number) => string): (NetlinkError | null)[] {
    const count = batch.length;
    const results: (NetlinkError | null)[] = new Array(count).fill(null);
    const op = (i: number) =>
      opOf !== undefined
        ? opOf(i)
        : typeName(batch.segment(i).view.getUint16(batch.startOf(i) + 4, true));
    const pid = this.transport.pid >>> 0;
    let next = 0;
    while (next < count) {
      // Which requests go into this datagram: a run of one segment.
      const first = next;
      const from = batch.startOf(first);
      while (next < count && next - first < this.#maxBatchMessages) {
        if (
          next > first &&
          (!batch.sameSegment(first, next) || batch.endOf(next) - from > this.#maxBatchBytes)
        ) break;
        next++;
      }
      const { buffer, view } = batch.segment(first);
      const firstSeq = this.#seq;
      let lastSeq = 0;
      for (let i = first; i < next; i++) {
        const off = batch.startOf(i);
        lastSeq = this.#nextSeq();
        view.setUint32(off + 8, lastSeq, true);
        view.setUint32(off + 12, pid, true);
        if (i === next - 1) {
          view.setUint16(off + 6, view.getUint16(off + 6, true) | NLM_F.ACK, true);
        }
      }
      this.transport.send(buffer.subarray(from, batch.endOf(next - 1)));
      const sent = { first, count: next - first, firstSeq, lastSeq };
      if (this.#collectAcks(sent, op, results)) {
        this.#maxBatchMessages = Math.max(1, Math.floor(this.#maxBatchMessages / 2));
      }
    }
    return results;
  }

  /**
   * Reads the replies of one datagram (requests `first` to `first + count - 1`, sequence numbers
   * `firstSeq` on) into `results`: error replies, then the ACK of `lastSeq`, which settles every
   * request still pending. Returns whether replies were lost to an overrun.
   */
  #collectAcks(
    sent: { first: number; count: number; firstSeq: number; lastSeq: number },
    opOf: (index: number) => string,
    results: (NetlinkError | null)[],
  ): boolean {
    const { first, count, firstSeq, lastSeq } = sent;
    const settled = new Uint8Array(count);
    let pending = count;
    const firstPending = () => first + settled.indexOf(0);
    let overrun = false;
    let deadline = performance.now() + this.#timeoutMs;
    while (pending > 0) {
      // After an overrun, whatever is not queued yet was dropped: stop at the first empty read.
      const received = this.#receiveUnicast(overrun ? 0 : deadline);
      if (received === "overrun") {
        overrun = true;
        continue;
      }
      if (received === null) {
        if (!overrun) {
          throw new NetlinkError(
            opOf(firstPending()),
            ERRNO.ETIMEDOUT,
            `no ACK within ${this.#timeoutMs} ms (${pending} requests unanswered)`,
          );
        }
        for (let k = 0; k < count; k++) {
          if (settled[k]) continue;
          results[first + k] = new NetlinkError(
            opOf(first + k),
            ERRNO.ENOBUFS,
            "ACK lost to a receive buffer overrun",
          );
        }
        break;
      }
      deadline = performance.now() + this.#timeoutMs;
      for (const m of received) {
        if (m.header.type !== NLMSG.ERROR || m.header.pid !== this.transport.pid) continue;
        const k = seqIndex(m.header.seq, firstSeq, count);
        if (k < 0 || settled[k]) continue;
        settled[k] = 1;
        pending--;
        const ack = decodeAck(m.payload, m.header.flags);
        if (ack.errno !== 0) {
          results[first + k] = new NetlinkError(
            opOf(first + k),
            ack.errno,
            ack.extAck?.msg,
            ack.extAck?.offset,
          );
        }
        // Replies come in order: the last request's says that the rest succeeded.
        if (m.header.seq === lastSeq) pending = 0;
      }
    }
    return overrun;
  }

  /**
   * Reads every queued datagram without blocking and returns the kernel's messages: multicast
   * events of the groups the socket joined (and any kept aside during requests). `ENOBUFS` sets
   * `overrun` (events were lost; resync by dumping) and reading goes on. Foreign datagrams are
   * dropped and counted.
   */
  drainEvents(): EventBatch {
    const { values, overrun } = this.drainEventsDecoded(messageAt);
    return { messages: values, overrun };
  }

  /**
   * {@linkcode Conn.drainEvents} with each event message decoded in place by `decode` (see
   * {@linkcode MessageDecoder}): no `Message`, header object or payload view per event. Returns
   * the values, in arrival order, and how many event messages were read (decoded or skipped).
   * Throws {@linkcode DecodeError} for a datagram whose framing is broken.
   */
  drainEventsDecoded<T>(
    decode: MessageDecoder<T>,
  ): { values: T[]; messages: number; overrun: boolean } {
    const values: T[] = [];
    let messages = 0;
    // One closure per drain, not per datagram.
    const visit = (bytes: Uint8Array, view: DataView, off: number, len: number) => {
      messages++;
      const value = decode(bytes, view, off, len);
      if (value !== undefined) values.push(value);
    };
    const take = (data: Uint8Array) => forEachEventMessage(data, this.#whole, visit);
    const stash = this.#stash;
    let overrun = this.#stashOverrun;
    this.#stash = [];
    this.#stashOverrun = false;
    for (let i = 0; i < stash.length; i++) take(stash[i]);
    for (;;) {
      const datagram = this.#tryReceive();
      if (datagram === "overrun") {
        overrun = true;
        continue;
      }
      if (datagram === null) return { values, messages, overrun };
      if (datagram.pid !== 0) {
        this.#droppedForeign++;
        continue;
      }
      take(datagram.data);
    }
  }

  /**
   * Waits without blocking the event loop until events can be drained (`"readable"`), the
   * transport is woken (`"woken"`), or `timeoutMs` passed (`"timeout"`).
   */
  wait(timeoutMs?: number): Promise<WaitResult> {
    if (this.#stash.length > 0 || this.#stashOverrun) return Promise.resolve("readable");
    return this.transport.wait(timeoutMs);
  }
}
