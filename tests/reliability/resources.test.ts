/**
 * Resources: the daemon's memory stays flat across 100,000 events, and so do its file
 * descriptors. Measured from outside: `VmRSS` in `/proc/PID/status` and the entries of
 * `/proc/PID/fd`, after warm-up rounds and after the events. Each round adds 5,000 on-link host
 * routes to main and deletes them again (10,000 events in main and as many echoes of the copies
 * linkmirror makes and removes), waiting for the VPN's table to be exact after each half.
 *
 * Two runs, both with the V8 settings `watch` ships with (a 1 MiB young generation). As
 * shipped, V8 grows and shrinks its old generation in steps whatever the load, so the bound is
 * generous (measured here: +1 to +3 MB over the 100,000 changes, at ~75 MB). With the old
 * generation capped at 48 MB as well (`DENO_V8_FLAGS`), the same load must neither crash the
 * daemon nor grow it by 20 MB: a leak of a few hundred bytes per event would exhaust that heap.
 * (Without the shipped settings V8 sizes its young generation by the allocation rate, which grew
 * RSS by 18-36 MB here: no leak, but as large as the bound.)
 */

import { equal, ok } from "node:assert/strict";
import { firezone, FIREZONE_TABLE, LAN } from "../kernel/firezone.ts";
import { logLines, spawnLinkmirror } from "../kernel/linkmirror.ts";
import { kernelTest, type Netns } from "../kernel/netns.ts";
import { waitExact } from "./oracle.ts";
import { V8_FLAGS } from "../../scripts/compile.ts";

const PER_ROUND = 5_000;
/**
 * The V8 settings `watch` ships with (scripts/compile.ts), as `DENO_V8_FLAGS` for this checkout's
 * `main.ts`: without them V8 grows its young generation with the allocation rate (up to tens of
 * MB), which is no leak but would be counted as one here.
 */
const SHIPPED_V8_FLAGS = V8_FLAGS.map((f) => f.replace(/^--v8-flags=/, "")).join(",");
const ROUNDS = 10; // 10 × 2 × 5,000 = 100,000 changes of main.
const MAX_RSS_GROWTH_KB = 20 * 1024;
const MAX_RSS_GROWTH_KB_SHIPPED = 80 * 1024;

interface Usage {
  rssKb: number;
  fds: number;
}

async function usage(pid: number): Promise<Usage> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const rssKb = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1]);
  let fds = 0;
  for await (const _ of Deno.readDir(`/proc/${pid}/fd`)) fds++;
  return { rssKb, fds };
}

async function round(ns: Netns): Promise<void> {
  const routes = Array.from(
    { length: PER_ROUND },
    (_, i) => `10.150.${i >> 8}.${i & 255}/32 dev ${LAN.dev}`,
  );
  for (const verb of ["add", "del"]) {
    const run = await ns.exec(["ip", "-batch", "-"], {
      stdin: routes.map((r) => `route ${verb} ${r}`).join("\n") + "\n",
    });
    equal(run.code, 0, run.stderr);
    await waitExact(ns, [FIREZONE_TABLE], { timeoutMs: 20_000, message: `after route ${verb}` });
  }
}

/** What one run measured. */
interface RunFigures {
  before: Usage;
  after: Usage;
  events: number;
  applies: number;
}

async function measure(ns: Netns, env: Record<string, string>): Promise<RunFigures> {
  const daemon = spawnLinkmirror(ns, ["watch"], { env });
  await daemon.waitForLine(/"message":"Watching"/, { timeoutMs: 20_000 });
  await waitExact(ns, [FIREZONE_TABLE], { message: "copies after start" });
  for (let i = 0; i < 3; i++) await round(ns); // Warm-up: the JIT, the heap, the buffers.
  const before = await usage(daemon.pid);
  for (let i = 0; i < ROUNDS; i++) await round(ns);
  const after = await usage(daemon.pid);
  equal(daemon.exited, undefined, `still running:\n${daemon.output().slice(-2000)}`);
  equal((await daemon.stop()).code, 0);
  const stopped = logLines(daemon.stderrLines).find((l) => l.message === "Stopped");
  ok(stopped, daemon.output());
  const events = Number(stopped.events);
  ok(events >= (ROUNDS + 3) * 2 * PER_ROUND, `only ${events} events seen`);
  equal(stopped.overruns, 0, "no event was lost with the default receive buffer");
  return { before, after, events, applies: Number(stopped.applies) };
}

function figures(label: string, f: RunFigures): string {
  const growth = f.after.rssKb - f.before.rssKb;
  return `${label}: RSS ${f.before.rssKb} kB → ${f.after.rssKb} kB (${
    growth >= 0 ? "+" : ""
  }${growth} kB), ` +
    `fds ${f.before.fds} → ${f.after.fds}, ${f.events} events, ${f.applies} applies`;
}

kernelTest(
  "resources: RSS and file descriptors stay flat across 100,000 events",
  async (ns) => {
    await firezone(ns);
    const shipped = await measure(ns, { DENO_V8_FLAGS: SHIPPED_V8_FLAGS });
    const capped = await measure(ns, {
      DENO_V8_FLAGS: `${SHIPPED_V8_FLAGS},--max-old-space-size=48`,
    });
    console.log(
      `resources (${ROUNDS * 2 * PER_ROUND} changes of main after warm-up):\n  ` +
        `${figures("as shipped", shipped)}\n  ${figures("old space capped at 48 MB", capped)}`,
    );
    for (const f of [shipped, capped]) {
      ok(f.after.fds <= f.before.fds + 1, `file descriptors: ${f.before.fds} → ${f.after.fds}`);
    }
    const growth = (f: RunFigures) => f.after.rssKb - f.before.rssKb;
    ok(
      growth(shipped) < MAX_RSS_GROWTH_KB_SHIPPED,
      `as shipped, RSS grew by ${growth(shipped)} kB`,
    );
    ok(growth(capped) < MAX_RSS_GROWTH_KB, `capped, RSS grew by ${growth(capped)} kB`);
  },
  { timeoutMs: 150_000 },
);
