/**
 * Whether this process may change routes: `CAP_NET_ADMIN` in its effective capability set, read
 * from `/proc/self/status` so that commands can refuse with one clear line before they start.
 *
 * @module
 */

/** Bit number of `CAP_NET_ADMIN` in the capability sets. */
export const CAP_NET_ADMIN = 12;

/**
 * Whether the `CapEff:` line of a `/proc/<pid>/status` text has `CAP_NET_ADMIN`. Returns
 * undefined when the text has no such line (not Linux, or no procfs).
 *
 * @example
 * ```ts
 * import { hasNetAdmin } from "./capabilities.ts";
 * hasNetAdmin("Name:\tx\nCapEff:\t000001ffffffffff\n"); // true
 * hasNetAdmin("CapEff:\t0000000000000000\n"); // false
 * ```
 */
export function hasNetAdmin(statusText: string): boolean | undefined {
  const match = /^CapEff:\s*([0-9a-f]+)\s*$/m.exec(statusText);
  if (!match) return undefined;
  return (BigInt(`0x${match[1]}`) >> BigInt(CAP_NET_ADMIN) & 1n) === 1n;
}

/** Reads this process's capability: true, false, or undefined when it cannot be told. */
export function processHasNetAdmin(): boolean | undefined {
  try {
    return hasNetAdmin(Deno.readTextFileSync("/proc/self/status"));
  } catch {
    return undefined;
  }
}
