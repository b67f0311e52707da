/**
 * Churn: hundreds of distinct route changes, one after another, are each mirrored right after
 * they happen — no throttling, no fight WARN. Each change is checked (polling `ip -j` up to a
 * deadline) before the next one is made, so the gaps between changes are whatever a check takes.
 */

import { deepEqual, equal } from "node:assert/strict";
import { copyRoutes, firezone, LAN } from "./firezone.ts";
import { logLines, spawnLinkmirror } from "./linkmirror.ts";
import { kernelTest, type Netns, waitFor } from "./netns.ts";

const CHANGES = 300;

async function copies(ns: Netns): Promise<Set<string>> {
  const routes = await copyRoutes(ns);
  return new Set(routes.map((r) => r.dst));
}

kernelTest(
  "churn: hundreds of distinct changes, each copy in place right after, no WARN",
  async (ns) => {
    await firezone(ns);
    const daemon = spawnLinkmirror(ns, ["watch"]);
    await daemon.waitForLine(/"message":"Watching"/, { timeoutMs: 20_000 });
    const live: string[] = [];
    for (let i = 0; i < CHANGES; i++) {
      // Mostly adds of new prefixes, every third change deletes the oldest one still there.
      if (i % 3 === 2 && live.length > 0) {
        const prefix = live.shift()!;
        await ns.ip("route", "del", prefix, "dev", LAN.dev);
        await waitFor(async () => !(await copies(ns)).has(prefix), {
          message: `change ${i}: the copy of ${prefix} gone`,
        });
      } else {
        const prefix = `10.${70 + (i >> 8)}.${i & 255}.0/24`;
        await ns.ip("route", "add", prefix, "dev", LAN.dev);
        live.push(prefix);
        await waitFor(async () => (await copies(ns)).has(prefix), {
          message: `change ${i}: the copy of ${prefix}`,
        });
      }
    }
    const all = await copies(ns);
    deepEqual([...all].filter((d) => d.startsWith("10.")).sort(), [...live].sort());
    const warnings = logLines(daemon.stderrLines).filter((l) => l.severity === "WARN");
    deepEqual(warnings.map((l) => l.message), [], "no WARN: churn is not a fight");
    const stopped = await daemon.stop();
    equal(stopped.code, 0, daemon.output());
    const counters = logLines(daemon.stderrLines).find((l) => l.message === "Stopped");
    equal(counters?.fights, 0);
  },
);
