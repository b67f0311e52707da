/**
 * How a test says it cannot run here, and why. `deno test` only knows "ignored"; the reason goes
 * into the test's name as ` (skipped: REASON)`, where scripts/test.ts (the `deno task test`
 * summary) finds it and lists it.
 *
 * @example
 * ```ts ignore
 * Deno.test({ ...skipUnless("mirrors a route", Deno.uid() === 0 ? null : "needs root"), fn });
 * ```
 *
 * @module
 */

/** The marker scripts/test.ts looks for in the name of an ignored test. */
export const SKIP_MARKER = " (skipped: ";

/**
 * `name` and `ignore` for `Deno.test`: the test runs when `reason` is null, and is ignored with
 * ` (skipped: REASON)` appended to its name otherwise.
 */
export function skipUnless(name: string, reason: string | null): { name: string; ignore: boolean } {
  return reason === null
    ? { name, ignore: false }
    : { name: `${name}${SKIP_MARKER}${reason})`, ignore: true };
}
