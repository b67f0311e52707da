/**
 * Upgrade from copies an earlier version made at the source's metric: the new copy (metric +
 * 2^31) is added before the old one is deleted, so the LAN is never without a route in the VPN's
 * table. Proven by the order of the kernel's own notifications (`ip monitor route`: the new copy's
 * RTM_NEWROUTE before the old copy's RTM_DELROUTE, both families), and probed with traffic to the
 * LAN peer throughout.
 */

import { deepEqual, equal, ok } from "node:assert/strict";
import { firezone, FIREZONE_TABLE, LAN } from "./firezone.ts";
import { linkmirror, spawnLinkmirror } from "./linkmirror.ts";
import { kernelTest, type Netns, waitFor } from "./netns.ts";
import { copies, deviceFor } from "./security.ts";

/** What the earlier version made: copies at the source's metric (0; IPv6 256 for kernel routes). */
async function oldCopies(ns: Netns): Promise<void> {
  const t = ["table", FIREZONE_TABLE, "proto", "77"];
  await ns.ip("route", "add", LAN.prefix, "dev", LAN.dev, "src", LAN.address, ...t);
  await ns.ip("-6", "route", "add", LAN.prefix6, "dev", LAN.dev, "metric", "256", ...t);
  await ns.ip("-6", "route", "add", "fe80::/64", "dev", LAN.dev, "metric", "256", ...t);
}

/** Starts `ip monitor route` in `ns` and waits until it demonstrably listens. */
async function monitor(ns: Netns) {
  // Line-buffered: ip buffers its output into a pipe otherwise.
  const mon = ns.spawn(["stdbuf", "-oL", "ip", "monitor", "route"]);
  // Marker routes in another table, a new one each try: once the monitor prints one, it hears
  // everything after.
  let marker = 0;
  await waitFor(async () => {
    const prefix = `10.255.${marker++ % 256}.0/24`;
    await ns.ip("route", "add", prefix, "dev", LAN.dev, "table", "100");
    return mon.stdoutLines.some((l) => l.startsWith(`${prefix} `));
  }, { message: "ip monitor listening", timeoutMs: 15_000 });
  return mon;
}

/** Index of the first monitor line matching all `parts`. */
function lineOf(lines: readonly string[], ...parts: (string | RegExp)[]): number {
  return lines.findIndex((l) =>
    parts.every((p) => typeof p === "string" ? l.includes(p) : p.test(l))
  );
}

/** Asserts, per prefix, that the new copy appeared before the old one was deleted. */
function assertMakeBeforeBreak(lines: readonly string[], when: string): void {
  const cases: [string, RegExp, RegExp][] = [
    [LAN.prefix, /metric 2147483648/, /^Deleted .*proto 77(?!.*metric)/],
    [LAN.prefix6, /metric 2147483904/, /^Deleted .*proto 77 metric 256 /],
    ["fe80::/64", /metric 2147483904/, /^Deleted .*proto 77 metric 256 /],
  ];
  for (const [prefix, added, deleted] of cases) {
    const dst = `${prefix} dev ${LAN.dev} table ${FIREZONE_TABLE}`;
    const add = lineOf(lines, new RegExp(`^${escape(dst)}`), added);
    const del = lineOf(lines, `Deleted ${dst}`, deleted);
    ok(add >= 0, `${when}: no RTM_NEWROUTE of the new copy of ${prefix}:\n${lines.join("\n")}`);
    ok(del >= 0, `${when}: no RTM_DELROUTE of the old copy of ${prefix}:\n${lines.join("\n")}`);
    ok(
      add < del,
      `${when}: ${prefix}: the old copy went before the new came:\n${lines.join("\n")}`,
    );
  }
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Pings the LAN peer every 2 ms, `count` times, in the background; resolves with the summary. */
function probe(ns: Netns, count: number) {
  return ns.exec(["ping", "-n", "-q", "-i", "0.002", "-c", String(count), "-W", "1", LAN.peer], {
    timeoutMs: 60_000,
  });
}

for (const how of ["sync", "watch"] as const) {
  kernelTest(
    `upgrade by ${how}: copies at the source metric move make-before-break`,
    async (ns) => {
      await firezone(ns);
      await oldCopies(ns);
      equal(await deviceFor(ns, LAN.peer), LAN.dev, "the old copies carry the LAN");
      const mon = await monitor(ns);
      // Traffic to the LAN peer for the whole migration (about 3 s of probes at 2 ms).
      const pinging = probe(ns, 1500);
      if (how === "sync") {
        equal((await linkmirror(ns, ["sync"])).code, 0);
      } else {
        const daemon = spawnLinkmirror(ns, ["watch", "--log-level", "debug"]);
        await daemon.waitForLine(/"message":"Watching"/, { timeoutMs: 15_000 });
        equal((await daemon.stop()).code, 0, daemon.output());
      }
      deepEqual(await copies(ns), [
        `${LAN.prefix} ${LAN.dev}`,
        `${LAN.prefix6} ${LAN.dev}`,
        `fe80::/64 ${LAN.dev}`,
      ]);
      // The monitor has printed everything once the last change is visible in a dump: wait for it.
      await waitFor(() => lineOf(mon.stdoutLines, `Deleted fe80::/64`) >= 0, {
        message: "the last deletion in the monitor",
      });
      await mon.stop(2000);
      assertMakeBeforeBreak(mon.stdoutLines, how);
      const ping = await pinging;
      const summary = ping.stdout.match(/(\d+) packets transmitted, (\d+) received/);
      ok(summary, ping.stdout + ping.stderr);
      equal(summary[2], summary[1], `every probe answered during the migration: ${summary[0]}`);
    },
  );
}
