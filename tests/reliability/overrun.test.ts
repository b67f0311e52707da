/**
 * Overruns: a storm of more than 50,000 route changes against a daemon whose event socket has a
 * 4 KiB receive buffer. The kernel drops events (`ENOBUFS`); the daemon must notice (a WARN
 * line), resync from a full dump, and end with the VPN's table exact — no copy missing, none
 * stale, none twice.
 */

import { equal, ok } from "node:assert/strict";
import { firezone, FIREZONE_TABLE, LAN } from "../kernel/firezone.ts";
import { logLines, spawnLinkmirror } from "../kernel/linkmirror.ts";
import { kernelTest } from "../kernel/netns.ts";
import { waitExact } from "./oracle.ts";

/** Routes added in the storm, and how many of them are deleted again. */
const ADDED = 30_000;
const DELETED = 25_000;

function hostRoute(i: number): string {
  return `10.${100 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}/32`;
}

kernelTest(
  `overrun: ${ADDED + DELETED} changes with a 4 KiB receive buffer end exact`,
  async (ns) => {
    await firezone(ns);
    const daemon = spawnLinkmirror(ns, ["watch"], {
      env: { LINKMIRROR_RECEIVE_BUFFER: "4096" },
    });
    await daemon.waitForLine(/"message":"Watching"/, { timeoutMs: 20_000 });
    await waitExact(ns, [FIREZONE_TABLE], { message: "copies after start" });

    const started = performance.now();
    const adds = Array.from(
      { length: ADDED },
      (_, i) => `route add ${hostRoute(i)} dev ${LAN.dev}`,
    );
    const dels = Array.from({ length: DELETED }, (_, i) => `route del ${hostRoute(3000 + i)}`);
    // One batch of adds, then deletes of most of them, while the daemon is still catching up.
    const storm = await ns.exec(["ip", "-batch", "-"], {
      stdin: [...adds, ...dels].join("\n") + "\n",
    });
    equal(storm.code, 0, storm.stderr);
    const { copies } = await waitExact(ns, [FIREZONE_TABLE], {
      timeoutMs: 40_000,
      message: "the table after the storm",
    });
    const convergedMs = performance.now() - started;
    // The LAN's three copies (IPv4, IPv6, fe80) plus the 5,000 host routes left.
    equal(copies.get(FIREZONE_TABLE)?.length, 3 + ADDED - DELETED);

    const lines = logLines(daemon.stderrLines);
    const warning = lines.find((l) => /receive buffer overrun/.test(String(l.message)));
    ok(warning, "the overrun was logged");
    equal(warning.severity, "WARN");
    equal(daemon.exited, undefined, "still running");
    equal((await daemon.stop()).code, 0);
    const stopped = logLines(daemon.stderrLines).find((l) => l.message === "Stopped");
    ok(stopped, daemon.output());
    ok(Number(stopped.overruns) >= 1, JSON.stringify(stopped));
    ok(Number(stopped.resyncs) >= 2, `a full resync followed: ${JSON.stringify(stopped)}`);
    console.log(
      `overrun: ${ADDED + DELETED} changes, ${stopped.overruns} overruns survived, ` +
        `${stopped.resyncs} full dumps, exact after ${Math.round(convergedMs)} ms ` +
        `(including ip -batch), ${stopped.applies} applies`,
    );
  },
  { timeoutMs: 60_000 },
);
