/**
 * The runtime's floor: a Deno program that only opens libc over FFI and makes one call, what any
 * Deno daemon speaking netlink through libc pays before its own code. Scenario 5 times it and
 * reads its peak RSS beside `linkmirror --version` and a no-op `linkmirror sync`.
 *
 * Usage: `deno run -A bench/floor.ts`
 *
 * @module
 */

const libc = Deno.dlopen("libc.so.6", { getpid: { parameters: [], result: "i32" } });
libc.symbols.getpid();
libc.close();
