/**
 * Whether this process may change routes: `CAP_NET_ADMIN` in its effective capability set, asked
 * of the kernel with `capget(2)` (a compiled or sandboxed Deno may not read `/proc/self/status`),
 * so that commands can refuse with one clear line before they start.
 *
 * @module
 */

import { libc } from "../netlink/libc.ts";

/** Bit number of `CAP_NET_ADMIN` in the capability sets. */
export const CAP_NET_ADMIN = 12;

/** `_LINUX_CAPABILITY_VERSION_3`: 64-bit capability sets in two 32-bit words. */
const CAPABILITY_VERSION_3 = 0x20080522;

/**
 * Whether capability `cap` is set in a capability set given as its two 32-bit words (low first),
 * as `capget(2)` returns them.
 *
 * @example
 * ```ts
 * import { CAP_NET_ADMIN, hasCapability } from "./capabilities.ts";
 * hasCapability([0x1000, 0], CAP_NET_ADMIN); // true
 * hasCapability([0x0fff, 0], CAP_NET_ADMIN); // false
 * ```
 */
export function hasCapability(words: readonly [number, number], cap: number): boolean {
  const word = words[cap >> 5] >>> 0;
  return ((word >>> (cap & 31)) & 1) === 1;
}

/** The effective capability set of this process, as two 32-bit words, or undefined on failure. */
export function effectiveCapabilities(): [number, number] | undefined {
  try {
    const header = new Uint8Array(8);
    new DataView(header.buffer).setUint32(0, CAPABILITY_VERSION_3, true); // pid 0: this process
    const data = new Uint8Array(24); // two {effective, permitted, inheritable}
    if (libc().capget(header, data) !== 0) return undefined;
    const view = new DataView(data.buffer);
    return [view.getUint32(0, true), view.getUint32(12, true)];
  } catch {
    return undefined;
  }
}

/** Whether this process has `CAP_NET_ADMIN`: true, false, or undefined when it cannot be told. */
export function processHasNetAdmin(): boolean | undefined {
  const caps = effectiveCapabilities();
  return caps === undefined ? undefined : hasCapability(caps, CAP_NET_ADMIN);
}
