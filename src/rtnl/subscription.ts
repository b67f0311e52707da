/**
 * {@linkcode Subscription}: rtnetlink events as decoded objects. A socket joined to multicast
 * groups (`RTNLGRP_*`) brings the kernel's notifications; a subscription drains them without
 * blocking and hands them over decoded — routes, links, addresses, rules, nexthop objects — each with the
 * notification's flags (`NLM_F_REPLACE`, ...) and the port id of the socket whose request caused
 * it, or reports that some were lost (`overrun`: the receiver must resync by dumping). Nothing
 * above this layer sees sockets or message framing.
 *
 * @module
 */

import { AF, NLMSG_HDRLEN, RTM } from "../netlink/constants.ts";
import type { Conn } from "../netlink/conn.ts";
import { DecodeError } from "../netlink/errors.ts";
import { type Message, messageAt } from "../netlink/message.ts";
import { decodeRouteAt } from "../netlink/route.ts";
import { decodeRtnlMessage, type RtnlMessage } from "../netlink/rtnl_message.ts";
import type { WaitResult } from "../netlink/transport.ts";

/** What every decoded event carries besides its object. */
interface EventMeta {
  /** The notification's `nlmsg_flags` (`NLM_F_REPLACE`, `NLM_F_CREATE`, ...). */
  flags: number;
  /**
   * The netlink port id of the socket whose request caused the change (`nlmsg_pid`), 0 when the
   * kernel made it on its own (a link went down, an address expired). A process's first netlink
   * socket usually has its pid as port id.
   */
  port: number;
}

/**
 * One event: a decoded notification (route, link, address, rule, nexthop object) with its
 * {@linkcode EventMeta}, or a message that did not decode (`malformed`, with the decoder's
 * complaint).
 */
export type RtnlEvent =
  | (Exclude<RtnlMessage, { kind: "other" }> & EventMeta)
  | { kind: "malformed"; error: string };

/** What one {@linkcode Subscription.drain} read. */
export interface EventBatch {
  /** The events, in arrival order (other message types left out). */
  events: RtnlEvent[];
  /** Netlink messages read, decodable or not. */
  messages: number;
  /** Events were lost to a receive-buffer overrun (`ENOBUFS`): dump again to know the state. */
  overrun: boolean;
}

/** A stream of rtnetlink events; {@linkcode ConnSubscription} is the real one. */
export interface Subscription {
  /** Reads every queued event without blocking. */
  drain(): EventBatch;
  /** Waits until events are queued (`"readable"`), `wake()` is called, or `timeoutMs` passed. */
  wait(timeoutMs?: number): Promise<WaitResult>;
  /** Makes the pending (or the next) `wait()` return `"woken"`; safe from a signal handler. */
  wake(): void;
  /** Datagrams dropped because their sender was not the kernel. */
  readonly droppedForeign: number;
  /**
   * The notifications of the client's own IPv4 route changes are dropped in the kernel (see
   * `SubscribeOptions.dropOwnIpv4Routes`): they never arrive; absent means false.
   */
  readonly ownIpv4RoutesDropped?: boolean;
  /** The receive buffer the kernel granted, in bytes. */
  readonly receiveBufferBytes: number;
  /** Leaves the groups and closes the socket. */
  close(): void;
}

/**
 * Decodes the messages of a drained batch into events. Pure.
 *
 * @example
 * ```ts
 * import { decodeEvents } from "./subscription.ts";
 * import { encodeRoute } from "../netlink/route.ts";
 * const payload = encodeRoute({ family: 2, table: 254, dst: "10.0.0.0", dstLen: 24, srcLen: 0,
 *   tos: 0, protocol: 2, scope: 253, type: 1, flags: 0, oif: 3 });
 * const batch = decodeEvents({
 *   messages: [{ header: { type: 24, flags: 0, seq: 0, pid: 4242 }, payload }],
 *   overrun: false,
 * });
 * batch.events[0].kind === "route" && batch.events[0].port; // 4242
 * ```
 */
export function decodeEvents(
  batch: { messages: readonly Message[]; overrun: boolean },
): EventBatch {
  const events: RtnlEvent[] = [];
  for (const message of batch.messages) {
    const event = eventOf(message);
    if (event !== undefined) events.push(event);
  }
  return { events, messages: batch.messages.length, overrun: batch.overrun };
}

/** The event of one message, `malformed` when it does not decode, none for other types. */
function eventOf(message: Message): RtnlEvent | undefined {
  let decoded: RtnlMessage;
  try {
    decoded = decodeRtnlMessage(message);
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e;
    return { kind: "malformed", error: e.message };
  }
  if (decoded.kind === "other") return undefined;
  // The decoded object is fresh: it becomes the event (no copy per event).
  const event = decoded as RtnlEvent & EventMeta;
  event.flags = message.header.flags;
  event.port = message.header.pid;
  return event;
}

/**
 * {@linkcode eventOf} the message at `offset` in a drained datagram (a `MessageDecoder`), the
 * same event: an IPv4 or IPv6 route, most events by far, is decoded in place into one literal
 * (no `Message`, payload view or `DataView` of its own); anything else goes through
 * {@linkcode eventOf}.
 */
export function eventAt(
  data: Uint8Array,
  view: DataView,
  offset: number,
  length: number,
): RtnlEvent | undefined {
  const type = view.getUint16(offset + 4, true);
  const family = data[offset + NLMSG_HDRLEN];
  if (
    (type === RTM.NEWROUTE || type === RTM.DELROUTE) && length > NLMSG_HDRLEN &&
    (family === AF.INET || family === AF.INET6)
  ) {
    try {
      return {
        kind: "route",
        op: type === RTM.NEWROUTE ? "new" : "del",
        route: decodeRouteAt(data, view, offset + NLMSG_HDRLEN, offset + length),
        flags: view.getUint16(offset + 6, true),
        port: view.getUint32(offset + 12, true),
      };
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      return { kind: "malformed", error: e.message };
    }
  }
  return eventOf(messageAt(data, view, offset, length));
}

/** A {@linkcode Subscription} over a connection whose socket joined the groups. */
export class ConnSubscription implements Subscription {
  readonly #conn: Conn;
  /** See {@linkcode Subscription.ownIpv4RoutesDropped}. */
  readonly ownIpv4RoutesDropped: boolean;

  /**
   * Wraps `conn`, whose transport must be subscribed and used for nothing else;
   * `ownIpv4RoutesDropped` says whether its socket filter drops the client's own IPv4 changes.
   */
  constructor(conn: Conn, options: { ownIpv4RoutesDropped?: boolean } = {}) {
    this.#conn = conn;
    this.ownIpv4RoutesDropped = options.ownIpv4RoutesDropped ?? false;
  }

  /** Reads and decodes every queued event. */
  drain(): EventBatch {
    const { values, messages, overrun } = this.#conn.drainEventsDecoded(eventAt);
    return { events: values, messages, overrun };
  }

  /** See {@linkcode Subscription.wait}. */
  wait(timeoutMs?: number): Promise<WaitResult> {
    return this.#conn.wait(timeoutMs);
  }

  /** See {@linkcode Subscription.wake}. */
  wake(): void {
    this.#conn.transport.wake();
  }

  /** See {@linkcode Subscription.droppedForeign}. */
  get droppedForeign(): number {
    return this.#conn.droppedForeign;
  }

  /** See {@linkcode Subscription.receiveBufferBytes}. */
  get receiveBufferBytes(): number {
    return this.#conn.transport.receiveBufferBytes;
  }

  /** See {@linkcode Subscription.close}. */
  close(): void {
    this.#conn.transport.close();
  }
}
