/**
 * The seam between the connection logic ({@linkcode ./conn.ts}) and a real netlink socket
 * ({@linkcode ./socket.ts}): a {@linkcode Transport} sends datagrams to the kernel, receives
 * datagrams without blocking, and waits for readability (synchronously or as a promise). Tests
 * implement it with a fake kernel.
 *
 * @module
 */

/** One received datagram and its sender's address (`struct sockaddr_nl`). */
export interface Datagram {
  /** The datagram's bytes: one or more netlink messages. */
  data: Uint8Array;
  /** The sender's port id (`nl_pid`): 0 for the kernel. */
  pid: number;
  /** The multicast group mask it was sent to (`nl_groups`): 0 for unicast. */
  groups: number;
}

/** Options of {@linkcode Transport.tryReceive}. */
export interface ReceiveOptions {
  /** The bytes are read before the next receive and not kept: they may lie in a reused buffer. */
  transient?: boolean;
}

/** How a {@linkcode Transport.wait} ended. */
export type WaitResult = "readable" | "woken" | "timeout";

/** A netlink datagram socket, as the connection logic sees it. */
export interface Transport {
  /** Our port id (`nl_pid`), as bound. */
  readonly pid: number;
  /** The receive buffer the kernel granted, in bytes (`SO_RCVBUF` as read back). */
  readonly receiveBufferBytes: number;
  /** The largest datagram {@linkcode Transport.send} accepts, in bytes. */
  readonly maxSendBytes: number;
  /** Sends one datagram to the kernel. Throws `NetlinkError("sendto", errno)`. */
  send(data: Uint8Array): void;
  /**
   * Receives one queued datagram without blocking; `null` when none is queued. Errors reported
   * by the socket (`ENOBUFS` after an overrun, ...) throw `NetlinkError("recvfrom", errno)`.
   * With `options.transient`, the datagram's bytes may be overwritten by the next receive (a
   * socket reuses one buffer for them): for a caller that copies what it keeps.
   */
  tryReceive(options?: ReceiveOptions): Datagram | null;
  /** Blocks the thread until a datagram is queued (`true`) or `timeoutMs` passed (`false`). */
  waitSync(timeoutMs: number): boolean;
  /**
   * Waits without blocking the event loop until a datagram is queued, {@linkcode Transport.wake}
   * is called, or `timeoutMs` passed (forever when omitted). One wait at a time.
   */
  wait(timeoutMs?: number): Promise<WaitResult>;
  /**
   * Makes the pending {@linkcode Transport.wait} resolve `"woken"`; with none pending, the next
   * one does (a wake-up is never lost).
   */
  wake(): void;
  /** Releases the socket. Idempotent; a pending wait resolves `"woken"`. */
  close(): void;
}
