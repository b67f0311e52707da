/**
 * A bound AF_UNIX datagram socket standing in for systemd's notify socket (through the same FFI
 * layer as the sender), for the sd_notify tests and the daemon's.
 *
 * @module
 */

import { AF } from "../src/netlink/constants.ts";
import { encodeSockaddrUn, lastErrno, libc, MSG, SOCK } from "../src/sys/libc.ts";

/** A bound AF_UNIX datagram socket standing in for systemd's notify socket. */
export class NotifyReceiver {
  readonly address: string;
  readonly #fd: number;
  readonly #dir?: string;

  private constructor(address: string, fd: number, dir?: string) {
    this.address = address;
    this.#fd = fd;
    this.#dir = dir;
  }

  /** Binds to `@lmt-notify-<random>` (abstract) or to a socket file in a temporary directory. */
  static open(kind: "abstract" | "path"): NotifyReceiver {
    const dir = kind === "path" ? Deno.makeTempDirSync({ prefix: "lmt-notify-" }) : undefined;
    const address = dir ? `${dir}/notify` : `@lmt-notify-${crypto.randomUUID()}`;
    const fd = libc().socket(AF.UNIX, SOCK.DGRAM | SOCK.CLOEXEC | SOCK.NONBLOCK, 0);
    if (fd < 0) throw new Error(`socket failed: errno ${lastErrno()}`);
    const sockaddr = encodeSockaddrUn(address);
    if (libc().bind(fd, sockaddr, sockaddr.length) < 0) {
      const errno = lastErrno();
      libc().close(fd);
      throw new Error(`bind ${address} failed: errno ${errno}`);
    }
    return new NotifyReceiver(address, fd, dir);
  }

  /** The datagrams queued so far, as text (sendto is synchronous: nothing is in flight). */
  receiveAll(): string[] {
    const out: string[] = [];
    const buf = new Uint8Array(4096);
    for (;;) {
      const n = Number(
        libc().recvfrom(this.#fd, buf, BigInt(buf.length), MSG.DONTWAIT, null, null),
      );
      if (n < 0) break; // EAGAIN: queue empty
      out.push(new TextDecoder().decode(buf.subarray(0, n)));
    }
    return out;
  }

  close(): void {
    libc().close(this.#fd);
    if (this.#dir) Deno.removeSync(this.#dir, { recursive: true });
  }
}
