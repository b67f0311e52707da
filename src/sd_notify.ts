/**
 * The sending half of systemd's service notification protocol (`sd_notify(3)`): one datagram of
 * `KEY=VALUE` lines (`READY=1`, `WATCHDOG=1`, `STATUS=…`, `STOPPING=1`) to the AF_UNIX socket named
 * by `$NOTIFY_SOCKET`, sent through the same libc FFI layer as the netlink socket. Without
 * `$NOTIFY_SOCKET` (not started by systemd, or not `Type=notify`) every call is a no-op.
 *
 * Also reads the watchdog settings systemd passes (`$WATCHDOG_USEC`, `$WATCHDOG_PID`): see
 * {@linkcode watchdogInterval}.
 *
 * @example
 * ```ts ignore
 * import { SdNotifier } from "./sd_notify.ts";
 * const notifier = SdNotifier.fromEnv();
 * notifier.ready("mirroring main into 539098368");
 * if (notifier.watchdogIntervalMs) setInterval(() => notifier.watchdog(), notifier.watchdogIntervalMs);
 * // ... on SIGTERM:
 * notifier.stopping();
 * ```
 *
 * @module
 */

import { AF } from "./netlink/constants.ts";
import { errnoName } from "./netlink/errors.ts";
import { encodeSockaddrUn, lastErrno, libc, MSG, retryEintr, SOCK } from "./sys/libc.ts";

/** Where environment variables come from: `Deno.env`, or a `Map` in tests. */
export interface EnvReader {
  /** The variable's value, or undefined when it is unset. */
  get(name: string): string | undefined;
}

/** Sending a notification to `$NOTIFY_SOCKET` failed. */
export class SdNotifyError extends Error {
  /** The socket address as `$NOTIFY_SOCKET` spelt it. */
  readonly socket: string;
  /** The errno's symbolic name (e.g. `"ECONNREFUSED"`), when a system call failed. */
  readonly code?: string;
  /** Creates the error for `socket`; `errno` when a system call failed. */
  constructor(socket: string, problem: string, errno?: number) {
    const code = errno === undefined ? undefined : errnoName(errno);
    super(`Cannot notify systemd at ${socket}: ${problem}${code ? ` (${code})` : ""}`);
    this.name = "SdNotifyError";
    this.socket = socket;
    if (code) this.code = code;
  }
}

/**
 * How often to send `WATCHDOG=1`, in milliseconds: half of `$WATCHDOG_USEC` (as `sd_watchdog_enabled(3)`
 * recommends), or undefined when the watchdog is off: `$WATCHDOG_USEC` unset, not a positive
 * whole number, or `$WATCHDOG_PID` set to a process other than `pid`.
 *
 * @example
 * ```ts
 * import { watchdogInterval } from "./sd_notify.ts";
 * watchdogInterval(new Map([["WATCHDOG_USEC", "30000000"]]), 42); // 15000
 * watchdogInterval(new Map([["WATCHDOG_USEC", "30000000"], ["WATCHDOG_PID", "7"]]), 42); // undefined
 * watchdogInterval(new Map(), 42); // undefined
 * ```
 */
export function watchdogInterval(env: EnvReader, pid: number): number | undefined {
  const usecText = env.get("WATCHDOG_USEC")?.trim();
  if (!usecText || !/^[0-9]+$/.test(usecText)) return undefined;
  const usec = Number(usecText);
  if (!Number.isSafeInteger(usec) || usec === 0) return undefined;
  const pidText = env.get("WATCHDOG_PID")?.trim();
  if (pidText !== undefined && pidText !== "" && Number(pidText) !== pid) return undefined;
  return Math.max(1, Math.floor(usec / 2000));
}

/**
 * Formats notification fields as the datagram's text: one `KEY=VALUE` line each, in the given
 * order. Line breaks inside a value would start a new field, so they become spaces.
 *
 * @example
 * ```ts
 * import { formatNotification } from "./sd_notify.ts";
 * formatNotification({ READY: "1", STATUS: "3 routes\nmirrored" }); // "READY=1\nSTATUS=3 routes mirrored"
 * ```
 */
export function formatNotification(fields: Readonly<Record<string, string>>): string {
  return Object.entries(fields)
    .map(([key, value]) => `${key}=${value.replace(/[\r\n]+/g, " ")}`)
    .join("\n");
}

/**
 * Sends `message` as one datagram to the AF_UNIX socket `socket` (a path, or `@name` for an
 * abstract socket, as in `$NOTIFY_SOCKET`). Throws {@linkcode SdNotifyError} when the address is
 * not an AF_UNIX one or a system call fails. The socket is non-blocking: a full receive queue
 * fails with `EAGAIN` rather than stalling the caller.
 *
 * @example
 * ```ts ignore
 * import { sendNotification } from "./sd_notify.ts";
 * sendNotification("/run/systemd/notify", "READY=1");
 * ```
 */
export function sendNotification(socket: string, message: string): void {
  if (!socket.startsWith("/") && !socket.startsWith("@")) {
    throw new SdNotifyError(socket, "not an AF_UNIX socket path or @abstract name");
  }
  let address: Uint8Array<ArrayBuffer>;
  try {
    address = encodeSockaddrUn(socket);
  } catch (e) {
    throw new SdNotifyError(socket, e instanceof Error ? e.message : String(e));
  }
  const payload = new TextEncoder().encode(message);
  const c = libc();
  const fd = c.socket(AF.UNIX, SOCK.DGRAM | SOCK.CLOEXEC | SOCK.NONBLOCK, 0);
  if (fd < 0) throw new SdNotifyError(socket, "socket() failed", lastErrno());
  try {
    const sent = retryEintr(() =>
      c.sendto(fd, payload, BigInt(payload.length), MSG.NOSIGNAL, address, address.length)
    );
    if (sent < 0) throw new SdNotifyError(socket, "sendto() failed", -sent);
    if (sent !== payload.length) {
      throw new SdNotifyError(socket, `sent ${sent} of ${payload.length} bytes`);
    }
  } finally {
    c.close(fd);
  }
}

/** Options of {@linkcode SdNotifier}. */
export interface SdNotifierOptions {
  /** Called with every failed send (the notifier itself never throws). Default: ignore. */
  onError?: (error: SdNotifyError) => void;
}

/**
 * Notifies systemd about the service's state. Every method is a no-op returning false when
 * `$NOTIFY_SOCKET` was unset; a failed send is passed to `onError` and also returns false, so a
 * watchdog timer or a shutdown path never throws because of it.
 *
 * @example
 * ```ts
 * import { SdNotifier } from "./sd_notify.ts";
 * const off = SdNotifier.fromEnv(new Map());
 * off.enabled; // false
 * off.ready(); // false: nothing to notify
 * ```
 */
export class SdNotifier {
  /** `$NOTIFY_SOCKET`, or undefined when notifications are off. */
  readonly socket: string | undefined;
  /** How often to call {@linkcode watchdog}, or undefined when systemd runs no watchdog. */
  readonly watchdogIntervalMs: number | undefined;
  readonly #onError: (error: SdNotifyError) => void;

  /** Creates a notifier for `socket` (undefined: off) with the given watchdog interval. */
  constructor(
    socket: string | undefined,
    watchdogIntervalMs: number | undefined,
    options: SdNotifierOptions = {},
  ) {
    this.socket = socket === "" ? undefined : socket;
    this.watchdogIntervalMs = watchdogIntervalMs;
    this.#onError = options.onError ?? (() => {});
  }

  /**
   * The notifier systemd's environment describes: `$NOTIFY_SOCKET`, `$WATCHDOG_USEC` and
   * `$WATCHDOG_PID` (compared with `pid`, default this process).
   */
  static fromEnv(
    env: EnvReader = Deno.env,
    options: SdNotifierOptions & { pid?: number } = {},
  ): SdNotifier {
    const socket = env.get("NOTIFY_SOCKET");
    const interval = socket ? watchdogInterval(env, options.pid ?? Deno.pid) : undefined;
    return new SdNotifier(socket, interval, options);
  }

  /** Whether notifications go anywhere (`$NOTIFY_SOCKET` was set). */
  get enabled(): boolean {
    return this.socket !== undefined;
  }

  /** Sends `fields` as one notification; true when it was sent. */
  notify(fields: Readonly<Record<string, string>>): boolean {
    if (this.socket === undefined) return false;
    try {
      sendNotification(this.socket, formatNotification(fields));
      return true;
    } catch (e) {
      if (!(e instanceof SdNotifyError)) throw e;
      this.#onError(e);
      return false;
    }
  }

  /** `READY=1` (startup finished: the first full sync is done), with an optional status line. */
  ready(status?: string): boolean {
    return this.notify(status === undefined ? { READY: "1" } : { READY: "1", STATUS: status });
  }

  /** `WATCHDOG=1`: the service is alive. */
  watchdog(): boolean {
    return this.notify({ WATCHDOG: "1" });
  }

  /** `STOPPING=1` (shutdown has begun), with an optional status line. */
  stopping(status?: string): boolean {
    return this.notify(
      status === undefined ? { STOPPING: "1" } : { STOPPING: "1", STATUS: status },
    );
  }

  /** `STATUS=text`: the one-line status `systemctl status` shows. */
  status(text: string): boolean {
    return this.notify({ STATUS: text });
  }
}
