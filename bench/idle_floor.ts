/**
 * The idle floor: a Deno program that opens libc over FFI and then waits, as `watch` does when
 * nothing happens, in a `nonblocking: true` `poll` on an eventfd nobody writes. Scenario 5 reads
 * its resident set and counts its wake-ups over the same idle windows as the daemons': what any
 * idle Deno daemon waiting on a socket through libc pays before its own code.
 *
 * Prints `ready` on standard error once it waits; runs until killed.
 *
 * Usage: `deno run -A bench/idle_floor.ts`
 *
 * @module
 */

const POLLIN = 1;
const libc = Deno.dlopen("libc.so.6", {
  eventfd: { parameters: ["u32", "i32"], result: "i32" },
  poll: { parameters: ["buffer", "u64", "i32"], result: "i32", nonblocking: true },
});
const fd = libc.symbols.eventfd(0, 0);
if (fd < 0) throw new Error("eventfd failed");
// struct pollfd { int fd; short events; short revents; }
const pollfd = new Uint8Array(8);
new DataView(pollfd.buffer).setInt32(0, fd, true);
new DataView(pollfd.buffer).setInt16(4, POLLIN, true);
console.error("ready");
await libc.symbols.poll(pollfd, 1n, -1);
