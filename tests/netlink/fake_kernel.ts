/**
 * A fake kernel {@linkcode Transport} for testing the connection logic without root (in the
 * spirit of mdlayher/netlink's `nltest`): a test supplies a handler that gets every request
 * message and returns what the "kernel" queues in reply — datagrams (from the kernel or from a
 * foreign port, unicast or multicast) or socket errors such as `ENOBUFS`. Returning nothing
 * models a kernel that never answers.
 *
 * {@linkcode FakeKernel.waitSync} never sleeps: an empty queue is an immediate timeout, so
 * timeout tests run instantly.
 *
 * @module
 */

import { AttributeEncoder } from "../../src/netlink/attributes.ts";
import { NLM_F, NLMSG, NLMSGERR_ATTR } from "../../src/netlink/constants.ts";
import { NetlinkError } from "../../src/netlink/errors.ts";
import {
  concatMessages,
  decodeMessages,
  encodeMessage,
  type Message,
} from "../../src/netlink/message.ts";
import type {
  Datagram,
  ReceiveOptions,
  Transport,
  WaitResult,
} from "../../src/netlink/transport.ts";

/** Something the fake kernel queues for the socket: a datagram, or an error `recvfrom` reports. */
export type Delivery = Datagram | { errno: number };

/** Answers one request message with the deliveries to queue (none: never answers). */
export type KernelHandler = (request: Message, kernel: FakeKernel) => Delivery[] | void;

/** Options of {@linkcode FakeKernel}. */
export interface FakeKernelOptions {
  /** Port id of the fake socket. Default 4242. */
  pid?: number;
  /** Reported receive buffer size. Default 212992. */
  receiveBufferBytes?: number;
  /** Reported largest datagram. Default 212960. */
  maxSendBytes?: number;
}

/** Extended-ack details of {@linkcode FakeKernel.ack}. */
export interface FakeAckOptions {
  /** `NLMSGERR_ATTR_MSG`. */
  msg?: string;
  /** `NLMSGERR_ATTR_OFFS`. */
  offset?: number;
  /** Echo the whole request instead of only its header (no `NLM_F_CAPPED`). */
  full?: boolean;
}

/** A fake netlink socket whose kernel is a test function. */
export class FakeKernel implements Transport {
  /** The fake socket's port id. */
  readonly pid: number;
  /** Reported receive buffer size. */
  readonly receiveBufferBytes: number;
  /** Reported largest datagram. */
  readonly maxSendBytes: number;
  /** Every request message sent, in order. */
  readonly requests: Message[] = [];
  /** How many datagrams were sent. */
  datagramsSent = 0;
  /** Whether {@linkcode close} was called. */
  closed = false;
  readonly #handler: KernelHandler;
  readonly #queue: Delivery[] = [];
  #woken = false;
  #notify: (() => void) | undefined;
  #scratch = new Uint8Array(0);

  /** Creates a fake kernel answering with `handler`. */
  constructor(handler: KernelHandler, options: FakeKernelOptions = {}) {
    this.#handler = handler;
    this.pid = options.pid ?? 4242;
    this.receiveBufferBytes = options.receiveBufferBytes ?? 212992;
    this.maxSendBytes = options.maxSendBytes ?? 212960;
  }

  /** How many deliveries are queued. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Queues deliveries as if the kernel (or another socket) had sent them now. */
  inject(...deliveries: Delivery[]): void {
    this.#queue.push(...deliveries);
    this.#notify?.();
  }

  /** A datagram from the kernel (unicast unless `groups` is given) holding `messages`. */
  static datagram(messages: Uint8Array[], from: { pid?: number; groups?: number } = {}): Datagram {
    return { data: concatMessages(messages), pid: from.pid ?? 0, groups: from.groups ?? 0 };
  }

  /** A reply message to `request`: its sequence number, addressed to our port. */
  reply(request: Message, type: number, payload: Uint8Array, flags = 0): Uint8Array {
    return encodeMessage({ type, flags, seq: request.header.seq, pid: this.pid }, payload);
  }

  /** The `NLMSG_DONE` that ends a dump, optionally carrying an error. */
  done(
    request: Message,
    options: { flags?: number; errno?: number; msg?: string } = {},
  ): Uint8Array {
    const tlvs = options.msg === undefined
      ? new Uint8Array()
      : new AttributeEncoder().string(NLMSGERR_ATTR.MSG, options.msg).finish();
    const payload = new Uint8Array(4 + tlvs.length);
    new DataView(payload.buffer).setInt32(0, -(options.errno ?? 0), true);
    payload.set(tlvs, 4);
    const flags = NLM_F.MULTI | (options.flags ?? 0) | (tlvs.length ? NLM_F.ACK_TLVS : 0);
    return this.reply(request, NLMSG.DONE, payload, flags);
  }

  /** The `NLMSG_ERROR` answering `request`: an ACK (`errno` 0) or a NACK with extended ack. */
  ack(request: Message, errno = 0, options: FakeAckOptions = {}): Uint8Array {
    // The echoed header keeps the request's length even when only the header is echoed.
    const echoed = options.full
      ? encodeMessage(request.header, request.payload)
      : encodeMessage(request.header, new Uint8Array());
    new DataView(echoed.buffer).setUint32(0, 16 + request.payload.length, true);
    const ext = new AttributeEncoder();
    if (options.msg !== undefined) ext.string(NLMSGERR_ATTR.MSG, options.msg);
    if (options.offset !== undefined) ext.u32(NLMSGERR_ATTR.OFFS, options.offset);
    const tlvs = ext.finish();
    const payload = new Uint8Array(4 + echoed.length + tlvs.length);
    new DataView(payload.buffer).setInt32(0, -errno, true);
    payload.set(echoed, 4);
    payload.set(tlvs, 4 + echoed.length);
    const flags = (options.full ? 0 : NLM_F.CAPPED) | (tlvs.length ? NLM_F.ACK_TLVS : 0);
    return this.reply(request, NLMSG.ERROR, payload, flags);
  }

  /** Hands each request message of the datagram to the handler and queues its answer. */
  send(data: Uint8Array): void {
    if (this.closed) throw new NetlinkError("sendto", 9);
    this.datagramsSent++;
    for (const request of decodeMessages(data)) {
      this.requests.push(request);
      const answer = this.#handler(request, this);
      if (answer) this.inject(...answer);
    }
  }

  /**
   * Dequeues the next delivery: a datagram, `null` when empty, or throws its errno. A transient
   * receive returns it in one reused buffer, scribbled over by the next transient receive, as a
   * socket may: a caller that keeps a view into it sees the damage.
   */
  tryReceive(options?: ReceiveOptions): Datagram | null {
    if (this.closed) throw new NetlinkError("recvfrom", 9);
    const next = this.#queue.shift();
    if (next === undefined) return null;
    if ("errno" in next) throw new NetlinkError("recvfrom", next.errno);
    if (!options?.transient) return next;
    if (this.#scratch.length < next.data.length) this.#scratch = new Uint8Array(next.data.length);
    this.#scratch.fill(0xee);
    this.#scratch.set(next.data);
    return { ...next, data: this.#scratch.subarray(0, next.data.length) };
  }

  /** Whether something is queued; never sleeps. */
  waitSync(_timeoutMs: number): boolean {
    return this.#queue.length > 0;
  }

  /** Resolves when something is queued, on {@linkcode wake}, or after `timeoutMs`. */
  wait(timeoutMs?: number): Promise<WaitResult> {
    const settle = (): WaitResult | undefined => {
      if (this.#woken || this.closed) {
        this.#woken = false;
        return "woken";
      }
      return this.#queue.length > 0 ? "readable" : undefined;
    };
    const now = settle();
    if (now) return Promise.resolve(now);
    return new Promise((resolve) => {
      const timer = timeoutMs === undefined
        ? undefined
        : setTimeout(() => finish("timeout"), timeoutMs);
      const finish = (result: WaitResult) => {
        clearTimeout(timer);
        this.#notify = undefined;
        resolve(result);
      };
      this.#notify = () => {
        const result = settle();
        if (result) finish(result);
      };
    });
  }

  /** Makes the pending (or next) wait resolve `"woken"`. */
  wake(): void {
    this.#woken = true;
    this.#notify?.();
  }

  /** Marks the fake closed and wakes a pending wait. */
  close(): void {
    this.closed = true;
    this.#notify?.();
  }
}
