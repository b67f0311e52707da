/**
 * {@linkcode NetlinkSocket}: a real `NETLINK_ROUTE` socket, reached through libc FFI, as a
 * {@linkcode Transport}. Sends go to the kernel; receives never block (`MSG_DONTWAIT`); waits
 * block either the thread (`poll`) or a helper thread (`poll` with `nonblocking: true`), and an
 * eventfd wakes the latter.
 *
 * @module
 */

import { AF, NETLINK_OPT, NETLINK_ROUTE, SO, SOL } from "./constants.ts";
import { ERRNO, NetlinkError } from "./errors.ts";
import {
  daemonLibc,
  EFD,
  EINTR,
  encodeSockaddrNl,
  lastErrno,
  libc,
  MSG,
  POLL,
  POLLFD_SIZE,
  retryEintr,
  SOCK,
  SOCKADDR_NL_SIZE,
} from "../sys/libc.ts";
import type { Datagram, ReceiveOptions, Transport, WaitResult } from "./transport.ts";

/** Options of {@linkcode NetlinkSocket.open}. */
export interface NetlinkSocketOptions {
  /** Multicast groups (`RTNLGRP_*`) to join with `NETLINK_ADD_MEMBERSHIP`. */
  groups?: readonly number[];
  /**
   * Receive buffer to ask for, in bytes: `SO_RCVBUFFORCE`, or `SO_RCVBUF` (capped by
   * `net.core.rmem_max`) without `CAP_NET_ADMIN`. What was granted is
   * {@linkcode NetlinkSocket.receiveBufferBytes}.
   */
  receiveBuffer?: number;
  /** Send buffer to ask for, in bytes (`SO_SNDBUFFORCE`, else `SO_SNDBUF`); bounds a datagram. */
  sendBuffer?: number;
  /** Ask for extended ACKs with error messages (`NETLINK_EXT_ACK`). Default `true`. */
  extAck?: boolean;
  /** Echo only the header of a request in its ACK (`NETLINK_CAP_ACK`). Default `true`. */
  capAck?: boolean;
  /** Strict checking of dump requests, so dumps filter (`NETLINK_GET_STRICT_CHK`). Default on. */
  strictCheck?: boolean;
  /**
   * A classic BPF program (`struct sock_filter` array) attached with `SO_ATTACH_FILTER` before
   * any group is joined: datagrams it drops are never queued.
   */
  filter?: Uint8Array;
}

/** Size of the arena datagrams are received into, one after the other. */
const ARENA_SIZE = 1 << 20;
/**
 * Room left for each receive: kernel datagrams are at most 32 KiB (dump parts) plus one message
 * that does not fit a part on its own; grown when a larger one is seen.
 */
const MAX_DATAGRAM = 64 << 10;
/** `netlink_sendmsg` refuses datagrams longer than `sk_sndbuf - 32`. */
const SEND_OVERHEAD = 32;
const EAGAIN = 11;

/** The result of a libc call, or {@linkcode NetlinkError}`(op, errno)` when it failed. */
function check(op: string, result: number | bigint): number {
  const n = Number(result);
  if (n < 0) throw new NetlinkError(op, lastErrno());
  return n;
}

/** `SO_ATTACH_FILTER` (asm-generic/socket.h). */
const SO_ATTACH_FILTER = 26;
/** The `op` of the {@linkcode NetlinkError} when the kernel refuses a socket filter. */
export const ATTACH_FILTER_OP = "setsockopt SO_ATTACH_FILTER";

/** Attaches the classic BPF `program` (`struct sock_filter` array) through a `sock_fprog`. */
function attachFilter(fd: number, program: Uint8Array): void {
  // struct sock_fprog { unsigned short len; struct sock_filter *filter; }: 16 bytes on 64 bits.
  const fprog = new Uint8Array(16);
  const view = new DataView(fprog.buffer);
  view.setUint16(0, program.length / 8, true);
  view.setBigUint64(8, BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(program))), true);
  check(
    ATTACH_FILTER_OP,
    libc().setsockopt(fd, SOL.SOCKET, SO_ATTACH_FILTER, fprog, 16),
  );
}

function setIntOption(fd: number, level: number, name: number, value: number, op: string): void {
  const v = new Uint8Array(4);
  new DataView(v.buffer).setInt32(0, value, true);
  check(op, libc().setsockopt(fd, level, name, v, 4));
}

function getIntOption(fd: number, level: number, name: number, op: string): number {
  const v = new Uint8Array(4);
  const len = new Uint8Array(4);
  new DataView(len.buffer).setUint32(0, 4, true);
  check(op, libc().getsockopt(fd, level, name, v, len));
  return new DataView(v.buffer).getInt32(0, true);
}

/** Sets a socket buffer size, past the sysctl cap when allowed; returns the granted size. */
function setBufferSize(
  fd: number,
  force: number,
  plain: number,
  bytes: number,
  op: string,
): number {
  const v = new Uint8Array(4);
  new DataView(v.buffer).setInt32(0, bytes, true);
  if (libc().setsockopt(fd, SOL.SOCKET, force, v, 4) < 0) {
    const errno = lastErrno();
    if (errno !== ERRNO.EPERM) throw new NetlinkError(op, errno);
    check(op, libc().setsockopt(fd, SOL.SOCKET, plain, v, 4));
  }
  return getIntOption(fd, SOL.SOCKET, plain, op);
}

/**
 * A bound `NETLINK_ROUTE` socket.
 *
 * @example
 * ```ts ignore
 * import { NetlinkSocket } from "./socket.ts";
 * import { RTNLGRP } from "./constants.ts";
 * using sock = NetlinkSocket.open({ groups: [RTNLGRP.IPV4_ROUTE], receiveBuffer: 4 << 20 });
 * if ((await sock.wait(1000)) === "readable") console.log(sock.tryReceive());
 * ```
 */
export class NetlinkSocket implements Transport {
  /** Our port id, assigned by the kernel at bind time. */
  readonly pid: number;
  /** The receive buffer the kernel granted (`SO_RCVBUF` read back), in bytes. */
  readonly receiveBufferBytes: number;
  /** The largest datagram the kernel accepts from this socket, in bytes. */
  readonly maxSendBytes: number;
  /** The multicast groups joined. */
  readonly groups: readonly number[];

  readonly #fd: number;
  /**
   * The eventfd that wakes a pending {@linkcode NetlinkSocket.wait}, made by the first wait or
   * wake (-1 until then): a socket that only sends requests and reads replies never needs one.
   */
  #eventFd = -1;
  #arena = new Uint8Array(ARENA_SIZE);
  #arenaUsed = 0;
  /** The buffer of transient receives, reused by each (allocated at the first). */
  #scratch = new Uint8Array(0);
  #maxDatagram = MAX_DATAGRAM;
  /** {@linkcode NetlinkSocket.#maxDatagram} as the `size_t` that `recvfrom` takes, made once. */
  #maxDatagramSize = BigInt(MAX_DATAGRAM);
  /** `struct sockaddr_nl` of the sender, then its length (`socklen_t`), as recvfrom fills them. */
  readonly #senderBytes = new Uint8Array(SOCKADDR_NL_SIZE + 4);
  readonly #sender = this.#senderBytes.subarray(0, SOCKADDR_NL_SIZE);
  readonly #senderLen = this.#senderBytes.subarray(SOCKADDR_NL_SIZE);
  readonly #senderView = new DataView(this.#senderBytes.buffer);
  readonly #kernel = encodeSockaddrNl(0, 0);
  #closed = false;
  #waiting = false;

  private constructor(
    fd: number,
    info: { pid: number; receiveBufferBytes: number; maxSendBytes: number; groups: number[] },
  ) {
    this.#fd = fd;
    this.pid = info.pid;
    this.receiveBufferBytes = info.receiveBufferBytes;
    this.maxSendBytes = info.maxSendBytes;
    this.groups = Object.freeze(info.groups);
  }

  /**
   * Opens, configures and binds a socket; the kernel assigns its port id. Throws
   * {@linkcode NetlinkError} naming the call that failed.
   */
  static open(options: NetlinkSocketOptions = {}): NetlinkSocket {
    const c = libc();
    const fd = check("socket", c.socket(AF.NETLINK, SOCK.RAW | SOCK.CLOEXEC, NETLINK_ROUTE));
    try {
      const flag = (name: number, on: boolean | undefined, op: string) => {
        if (on ?? true) setIntOption(fd, SOL.NETLINK, name, 1, op);
      };
      flag(NETLINK_OPT.EXT_ACK, options.extAck, "setsockopt NETLINK_EXT_ACK");
      flag(NETLINK_OPT.CAP_ACK, options.capAck, "setsockopt NETLINK_CAP_ACK");
      flag(NETLINK_OPT.GET_STRICT_CHK, options.strictCheck, "setsockopt NETLINK_GET_STRICT_CHK");
      const receiveBufferBytes = options.receiveBuffer === undefined
        ? getIntOption(fd, SOL.SOCKET, SO.RCVBUF, "getsockopt SO_RCVBUF")
        : setBufferSize(
          fd,
          SO.RCVBUFFORCE,
          SO.RCVBUF,
          options.receiveBuffer,
          "setsockopt SO_RCVBUF",
        );
      const sendBufferBytes = options.sendBuffer === undefined
        ? getIntOption(fd, SOL.SOCKET, SO.SNDBUF, "getsockopt SO_SNDBUF")
        : setBufferSize(fd, SO.SNDBUFFORCE, SO.SNDBUF, options.sendBuffer, "setsockopt SO_SNDBUF");

      if (options.filter !== undefined) attachFilter(fd, options.filter);
      check("bind", c.bind(fd, encodeSockaddrNl(0, 0), SOCKADDR_NL_SIZE));
      const addr = new Uint8Array(SOCKADDR_NL_SIZE);
      const addrLen = new Uint8Array(4);
      new DataView(addrLen.buffer).setUint32(0, SOCKADDR_NL_SIZE, true);
      check("getsockname", c.getsockname(fd, addr, addrLen));
      const pid = new DataView(addr.buffer).getUint32(4, true);

      const groups = [...(options.groups ?? [])];
      for (const group of groups) {
        setIntOption(fd, SOL.NETLINK, NETLINK_OPT.ADD_MEMBERSHIP, group, "join multicast group");
      }
      return new NetlinkSocket(fd, {
        pid,
        receiveBufferBytes,
        maxSendBytes: sendBufferBytes - SEND_OVERHEAD,
        groups,
      });
    } catch (e) {
      c.close(fd);
      throw e;
    }
  }

  /** Whether {@linkcode NetlinkSocket.close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Sends one datagram to the kernel (port 0). Throws `NetlinkError("sendto", errno)`. */
  send(data: Uint8Array): void {
    if (this.#closed) throw new NetlinkError("sendto", ERRNO.EBADF);
    const buf = data as Uint8Array<ArrayBuffer>;
    const n = retryEintr(() =>
      libc().sendto(this.#fd, buf, BigInt(data.length), 0, this.#kernel, SOCKADDR_NL_SIZE)
    );
    if (n < 0) throw new NetlinkError("sendto", -n);
  }

  /**
   * Receives one queued datagram, or `null` when none is queued. A kernel datagram larger than
   * the room left for it throws `EMSGSIZE` (it cannot happen with kernel-built messages, and
   * later receives leave room for one that large); one from another socket is returned
   * truncated, to be dropped as foreign.
   *
   * Datagrams are received one after the other into a shared arena and returned as views into
   * it, without an allocation of their own: a view keeps its arena alive, so copy what must
   * outlive the message (decoders do: they build values, not views, for what they model).
   * A transient receive (`options.transient`) goes to one reused buffer instead: the bytes of
   * a dump are read once, and the arena's fresh memory (page faults as the kernel writes it)
   * is left to what is kept.
   */
  tryReceive(options?: ReceiveOptions): Datagram | null {
    if (this.#closed) throw new NetlinkError("recvfrom", ERRNO.EBADF);
    const transient = options?.transient === true;
    let room: Uint8Array;
    if (transient) {
      if (this.#scratch.length < this.#maxDatagram) {
        this.#scratch = new Uint8Array(this.#maxDatagram);
      }
      room = this.#scratch;
    } else {
      if (this.#arena.length - this.#arenaUsed < this.#maxDatagram) {
        this.#arena = new Uint8Array(Math.max(ARENA_SIZE, 2 * this.#maxDatagram));
        this.#arenaUsed = 0;
      }
      room = this.#arena.subarray(this.#arenaUsed);
    }
    // At most the room kept for a datagram (the arena may have more): one size for every
    // receive, and no BigInt made per receive.
    const limit = this.#maxDatagram;
    const c = libc();
    let n: number;
    for (;;) {
      this.#senderView.setUint32(SOCKADDR_NL_SIZE, SOCKADDR_NL_SIZE, true);
      n = c.recvfrom(
        this.#fd,
        room,
        this.#maxDatagramSize,
        MSG.DONTWAIT | MSG.TRUNC,
        this.#sender,
        this.#senderLen,
      );
      if (n >= 0) break;
      const errno = lastErrno();
      if (errno === EAGAIN) return null;
      if (errno !== EINTR) throw new NetlinkError("recvfrom", errno);
    }
    const pid = this.#senderView.getUint32(4, true);
    const groups = this.#senderView.getUint32(8, true);
    if (n > limit) {
      if (pid !== 0) return { data: room.slice(0, limit), pid, groups };
      this.#maxDatagram = Math.max(this.#maxDatagram, n);
      this.#maxDatagramSize = BigInt(this.#maxDatagram);
      throw new NetlinkError(
        "recvfrom",
        ERRNO.EMSGSIZE,
        `datagram of ${n} bytes truncated to ${limit}`,
      );
    }
    if (!transient) this.#arenaUsed += (n + 7) & ~7;
    return { data: room.subarray(0, n), pid, groups };
  }

  /** Blocks the thread until a datagram (or a socket error) is queued, or `timeoutMs` passed. */
  waitSync(timeoutMs: number): boolean {
    if (this.#closed) throw new NetlinkError("poll", ERRNO.EBADF);
    const fds = new Uint8Array(POLLFD_SIZE);
    const view = new DataView(fds.buffer);
    view.setInt32(0, this.#fd, true);
    view.setInt16(4, POLL.IN, true);
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const remaining = Math.max(0, Math.ceil(deadline - performance.now()));
      const n = libc().poll(fds, 1n, timeoutMs < 0 ? -1 : remaining);
      if (n > 0) return true;
      if (n === 0) return false;
      const errno = lastErrno();
      if (errno !== EINTR) throw new NetlinkError("poll", errno);
    }
  }

  /**
   * Waits on a helper thread until a datagram is queued (`"readable"`), {@linkcode wake} or
   * {@linkcode close} is called (`"woken"`), or `timeoutMs` passed (`"timeout"`; forever when
   * omitted). One wait at a time.
   */
  async wait(timeoutMs?: number): Promise<WaitResult> {
    if (this.#closed) return "woken";
    if (this.#waiting) throw new Error("A wait is already pending on this netlink socket");
    const eventFd = this.#openEventFd();
    this.#waiting = true;
    // Owned by this call: a nonblocking FFI call needs its buffer alive until it returns.
    const fds = new Uint8Array(2 * POLLFD_SIZE);
    const view = new DataView(fds.buffer);
    view.setInt32(0, this.#fd, true);
    view.setInt16(4, POLL.IN, true);
    view.setInt32(POLLFD_SIZE, eventFd, true);
    view.setInt16(POLLFD_SIZE + 4, POLL.IN, true);
    const deadline = timeoutMs === undefined ? Infinity : performance.now() + timeoutMs;
    try {
      for (;;) {
        const remaining = deadline === Infinity
          ? -1
          : Math.max(0, Math.min(0x7fffffff, Math.ceil(deadline - performance.now())));
        view.setInt16(6, 0, true);
        view.setInt16(POLLFD_SIZE + 6, 0, true);
        const n = await daemonLibc().pollAsync(fds, 2n, remaining);
        if (this.#closed) return "woken";
        if (view.getInt16(POLLFD_SIZE + 6, true) !== 0) {
          this.#drainEventFd();
          return "woken";
        }
        if (view.getInt16(6, true) !== 0) return "readable";
        if (n === 0) return "timeout";
        // n < 0: errno lives on the helper thread; EINTR is the only plausible cause. Poll again.
      }
    } finally {
      this.#waiting = false;
      if (this.#closed) this.#release();
    }
  }

  /** Makes the pending (or the next) {@linkcode wait} resolve `"woken"`. */
  wake(): void {
    if (this.#closed) return;
    this.#signalEventFd();
  }

  /**
   * Closes the socket. Idempotent. With a wait pending, wakes it and closes the descriptors once
   * its `poll` has returned, so no helper thread polls a closed (or reused) descriptor.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#waiting) this.#signalEventFd();
    else this.#release();
  }

  /** Same as {@linkcode close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** The eventfd, made at the first call. Throws `NetlinkError("eventfd", errno)`. */
  #openEventFd(): number {
    if (this.#eventFd < 0) {
      const fd = daemonLibc().eventfd(0, EFD.CLOEXEC | EFD.NONBLOCK);
      if (fd < 0) throw new NetlinkError("eventfd", lastErrno());
      this.#eventFd = fd;
    }
    return this.#eventFd;
  }

  #signalEventFd(): void {
    const one = new Uint8Array(8);
    one[0] = 1;
    const eventFd = this.#openEventFd();
    // EAGAIN only when the counter would overflow: it is already signalled.
    retryEintr(() => daemonLibc().write(eventFd, one, 8n));
  }

  #drainEventFd(): void {
    const sink = new Uint8Array(8);
    retryEintr(() => daemonLibc().read(this.#eventFd, sink, 8n));
  }

  #release(): void {
    libc().close(this.#fd);
    if (this.#eventFd >= 0) libc().close(this.#eventFd);
  }
}
