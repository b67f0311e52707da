/**
 * A lock that is a name: a listening Unix stream socket bound to an *abstract* address (a name
 * that starts with a NUL byte and lives in no file system). The kernel lets one socket per network
 * namespace hold a name and frees it when the socket closes — however the process ends, `kill -9`
 * included — so there is no stale lock to clean up, no file to write, and nothing that
 * `ProtectSystem=strict` or a dynamic user gets in the way of (abstract names have no owner or
 * mode). `RestrictAddressFamilies=AF_UNIX` allows it.
 *
 * Whoever fails to bind the name connects to it and reads the holder's pid with `SO_PEERCRED`:
 * the kernel records the credentials of the process that called `listen`, and hands them to the
 * connecting side without the holder doing anything. The holder accepts and closes such probes
 * ({@linkcode AbstractLock.acceptPending}) so its backlog never fills.
 *
 * @module
 */

import { ERRNO, SyscallError } from "./errno.ts";
import { daemonLibc, lastErrno, libc, SOCK } from "./libc.ts";

const AF_UNIX = 1;
const SOL_SOCKET = 1;
const SO_PEERCRED = 17;
/** Size of `struct ucred` (pid i32, uid u32, gid u32). */
const UCRED_SIZE = 12;
/** Pending probes the kernel queues before a connect fails with `EAGAIN`. */
const BACKLOG = 128;
/** Bind/connect rounds before giving up on a holder that comes and goes. */
const ATTEMPTS = 50;

/** What {@linkcode AbstractLock.acquire} got: the lock, or the holder's pid (if it could tell). */
export type LockAttempt =
  | { lock: AbstractLock; holder?: undefined }
  | { lock?: undefined; holder: { pid?: number; problem?: string } };

/** The `struct sockaddr_un` of an abstract name and its length (no terminating NUL). */
function abstractAddress(name: string): Uint8Array<ArrayBuffer> {
  const bytes = new TextEncoder().encode(name);
  if (bytes.length + 3 > 108) throw new RangeError(`Abstract socket name is too long: ${name}`);
  const out = new Uint8Array(2 + 1 + bytes.length);
  new DataView(out.buffer).setUint16(0, AF_UNIX, true);
  out.set(bytes, 3);
  return out;
}

function openSocket(): number {
  const fd = libc().socket(AF_UNIX, SOCK.STREAM | SOCK.CLOEXEC | SOCK.NONBLOCK, 0);
  if (fd < 0) throw new SyscallError("socket AF_UNIX", lastErrno());
  return fd;
}

/**
 * A held abstract-socket lock.
 *
 * @example
 * ```ts ignore
 * import { AbstractLock } from "./abstract_lock.ts";
 * const attempt = AbstractLock.acquire("linkmirror/table/51820");
 * if (attempt.lock) {
 *   // ... work; attempt.lock.acceptPending() now and then ...
 *   attempt.lock.release();
 * } else console.error(`held by pid ${attempt.holder.pid}`);
 * ```
 */
export class AbstractLock {
  /** The name (without the leading NUL). */
  readonly name: string;
  #fd: number;

  private constructor(name: string, fd: number) {
    this.name = name;
    this.#fd = fd;
  }

  /**
   * Takes the lock `name`, or finds out who holds it. Throws {@linkcode SyscallError} when the
   * socket calls fail for another reason than the name being taken.
   */
  static acquire(name: string): LockAttempt {
    const address = abstractAddress(name);
    const c = libc();
    const d = daemonLibc();
    let problem = "";
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const fd = openSocket();
      if (c.bind(fd, address, address.length) === 0) {
        if (d.listen(fd, BACKLOG) === 0) return { lock: new AbstractLock(name, fd) };
        const errno = lastErrno();
        c.close(fd);
        throw new SyscallError("listen", errno);
      }
      const bindErrno = lastErrno();
      if (bindErrno !== ERRNO.EADDRINUSE) {
        c.close(fd);
        throw new SyscallError("bind", bindErrno);
      }
      // Taken: ask the holder who it is.
      const result = d.connect(fd, address, address.length);
      const connectErrno = result === 0 ? 0 : lastErrno();
      if (result === 0) {
        const pid = peerPid(fd);
        c.close(fd);
        return { holder: pid === undefined ? { problem: "SO_PEERCRED failed" } : { pid } };
      }
      c.close(fd);
      // ECONNREFUSED: bound but not listening yet, or just closed: look again. EAGAIN: its
      // backlog is full of probes: it holds the lock, but will not say who it is.
      if (connectErrno === ERRNO.EAGAIN) return { holder: { problem: "its backlog is full" } };
      problem = `connect: ${new SyscallError("connect", connectErrno).code}`;
    }
    return { holder: { problem } };
  }

  /** Accepts and closes the probes of processes that asked who holds the lock. */
  acceptPending(): void {
    if (this.#fd < 0) return;
    const c = libc();
    for (let i = 0; i < BACKLOG; i++) {
      const fd = daemonLibc().accept4(this.#fd, null, null, SOCK.CLOEXEC | SOCK.NONBLOCK);
      if (fd < 0) return;
      c.close(fd);
    }
  }

  /** Whether the lock is still held by this process. */
  get held(): boolean {
    return this.#fd >= 0;
  }

  /** Releases the lock (closes the socket). Idempotent; exiting releases it too. */
  release(): void {
    if (this.#fd < 0) return;
    libc().close(this.#fd);
    this.#fd = -1;
  }

  /** Same as {@linkcode release}, for `using`. */
  [Symbol.dispose](): void {
    this.release();
  }
}

/** The pid of the peer of a connected Unix socket (`SO_PEERCRED`), or undefined. */
function peerPid(fd: number): number | undefined {
  const cred = new Uint8Array(UCRED_SIZE);
  const len = new Uint8Array(4);
  new DataView(len.buffer).setUint32(0, UCRED_SIZE, true);
  if (libc().getsockopt(fd, SOL_SOCKET, SO_PEERCRED, cred, len) !== 0) return undefined;
  const pid = new DataView(cred.buffer).getInt32(0, true);
  return pid > 0 ? pid : undefined;
}
