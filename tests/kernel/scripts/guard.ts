/**
 * The safety check every kernel-test script runs first: it refuses to run unless it was started
 * by the fixture (`LMT_NETNS` set) inside a namespace other than the test runner's
 * (`LMT_HOST_NETNS_INODE`), so a script run by hand cannot change the host's routes.
 *
 * @module
 */

/**
 * Throws unless this process runs inside a test namespace created by `tests/kernel/netns.ts`.
 *
 * @example
 * ```ts ignore
 * import { assertInsideTestNetns } from "./guard.ts";
 * assertInsideTestNetns();
 * ```
 */
export function assertInsideTestNetns(): string {
  const name = Deno.env.get("LMT_NETNS");
  const hostInode = Deno.env.get("LMT_HOST_NETNS_INODE");
  if (!name?.startsWith("lmt-") || !hostInode) {
    throw new Error("Refusing to run: not started by the kernel-test fixture (LMT_NETNS unset)");
  }
  const here = String(Deno.statSync("/proc/self/ns/net").ino);
  if (here === hostInode) {
    throw new Error("Refusing to run: this process is in the test runner's network namespace");
  }
  return name;
}
