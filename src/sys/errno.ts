/**
 * Linux errno numbers by name, their symbolic names, and {@linkcode SyscallError} for a libc call
 * that failed.
 *
 * @module
 */

/** Linux errno numbers by name, for the errors rtnetlink and the socket calls can return. */
export const ERRNO = Object.freeze({
  EPERM: 1,
  ENOENT: 2,
  ESRCH: 3,
  EINTR: 4,
  EIO: 5,
  ENXIO: 6,
  E2BIG: 7,
  EBADF: 9,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  ENODEV: 19,
  ENOTDIR: 20,
  EINVAL: 22,
  EMFILE: 24,
  ENOSPC: 28,
  ERANGE: 34,
  EMSGSIZE: 90,
  EPROTONOSUPPORT: 93,
  EOPNOTSUPP: 95,
  EAFNOSUPPORT: 97,
  EADDRINUSE: 98,
  EADDRNOTAVAIL: 99,
  ENETDOWN: 100,
  ENETUNREACH: 101,
  ENOBUFS: 105,
  ETIMEDOUT: 110,
  ECONNREFUSED: 111,
  EHOSTUNREACH: 113,
});

const NAMES = new Map<number, string>(Object.entries(ERRNO).map(([k, v]) => [v, k]));

/**
 * The symbolic name of an errno value.
 *
 * @example
 * ```ts
 * import { errnoName } from "./errno.ts";
 * errnoName(17); // "EEXIST"
 * errnoName(4242); // "errno 4242"
 * ```
 */
export function errnoName(errno: number): string {
  return NAMES.get(errno) ?? `errno ${errno}`;
}

/** A libc call that failed with an errno. */
export class SyscallError extends Error {
  /** The call, e.g. `"bind"`. */
  readonly op: string;
  /** The positive errno value. */
  readonly errno: number;
  /** The errno's symbolic name, e.g. `"EADDRINUSE"`. */
  readonly code: string;
  /** Creates the error for `op` failing with `errno`. */
  constructor(op: string, errno: number) {
    const code = errnoName(errno);
    super(`${op}: ${code}`);
    this.name = "SyscallError";
    this.op = op;
    this.errno = errno;
    this.code = code;
  }
}
