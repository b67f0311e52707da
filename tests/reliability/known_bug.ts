/**
 * Kernel tests that document a product bug: registered like {@linkcode kernelTest} but ignored,
 * with the bug in the name, until the fix lands. `LINKMIRROR_RUN_KNOWN_BUGS=1` runs them (to
 * check a fix; then drop the wrapper and use `kernelTest`).
 *
 * @module
 */

import { kernelTestSkipReason, Netns } from "../kernel/netns.ts";

/** Registers a namespace test for a known bug; ignored unless `LINKMIRROR_RUN_KNOWN_BUGS=1`. */
export function knownBugTest(
  name: string,
  bug: string,
  fn: (ns: Netns) => Promise<void>,
  options: { timeoutMs?: number } = {},
): void {
  const run = Deno.env.get("LINKMIRROR_RUN_KNOWN_BUGS") === "1" && kernelTestSkipReason() === null;
  Deno.test({
    name: `${name} (known bug: ${bug})`,
    ignore: !run,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      const ns = await Netns.create();
      let timer: ReturnType<typeof setTimeout> | undefined;
      try {
        await Promise.race([
          fn(ns),
          new Promise<never>((_, reject) => {
            timer = setTimeout(
              () => reject(new Error("Known-bug test timed out")),
              options.timeoutMs ?? 60_000,
            );
          }),
        ]);
      } finally {
        clearTimeout(timer);
        await ns.dispose();
      }
    },
  });
}
