/**
 * Scenario 5, start-up: the time from starting `linkmirror watch` to its first sync being done
 * (its "Watching" line, logged right after the initial apply), for `deno run main.ts` and for the
 * built artifact (the bundle `deno task compile` makes, run by deno) when there is one. Beside
 * them, in an empty namespace, the floor: the wall time and peak RSS (`/usr/bin/time`'s maximum
 * resident set) of a Deno program that only opens libc ({@linkcode ../floor.ts}), of
 * `linkmirror --version`, and of a `linkmirror sync` with nothing to do; and the idle floor
 * ({@linkcode ../idle_floor.ts}): the resident set and idle wake-ups of a Deno program waiting in
 * `poll` through libc, beside the daemons' figures of scenario 1.
 *
 * @module
 */

import type { BenchContext } from "../context.ts";
import type { LinkmirrorCommand } from "../contenders.ts";
import { CONTENDER_LABELS } from "../contenders.ts";
import { onLinkRoutes } from "../routes.ts";
import { DEVS } from "../topology.ts";
import { withTopology } from "./common.ts";
import { BenchNetns } from "../netns.ts";
import { FOOTPRINT } from "./bulk.ts";
import { FLOOR_RUN } from "../contenders.ts";
import { contextSwitches, rssMegabytes, settle, switchesBetween } from "../proc.ts";

async function startOnce(command: LinkmirrorCommand): Promise<number> {
  return await withTopology(async (topo) => {
    const routes = onLinkRoutes({ count: 16, devs: DEVS });
    await topo.ns.batch(routes.map((r) => `route add ${r.dst}/${r.len} dev ${r.dev}`));
    const process = topo.ns.spawn([
      ...command.prefix,
      "watch",
      "--table",
      topo.table,
      "--log-format",
      "json",
    ]);
    try {
      const { at } = await process.waitForLine(/"message":"Watching"/, 30_000);
      return at - process.spawnedAt;
    } finally {
      await process.stop();
    }
  });
}

/** Measures start-up `reps` times for each way of running linkmirror. */
export async function startup(ctx: BenchContext, reps: number): Promise<void> {
  const variants: [string, LinkmirrorCommand][] = [["watch", ctx.linkmirror]];
  if (ctx.artifact) variants.push(["watch-artifact", ctx.artifact]);
  CONTENDER_LABELS["watch-artifact"] = "linkmirror watch (bundle)";
  // One unmeasured start each, so that deno's module cache is warm as on a running system.
  for (const [, command] of variants) await startOnce(command);
  for (let rep = 0; rep < reps; rep++) {
    for (const [contender, command] of variants) {
      ctx.progress(`5 footprint: start-up of ${CONTENDER_LABELS[contender]} (${rep + 1}/${reps})`);
      ctx.results.add(
        { scenario: FOOTPRINT, metric: "start to first sync", unit: "ms", contender },
        await startOnce(command),
      );
    }
  }
}

const FLOOR = new URL("../floor.ts", import.meta.url).pathname;
const IDLE_FLOOR = new URL("../idle_floor.ts", import.meta.url).pathname;
const TIME = "/usr/bin/time";
const MAXRSS = "lmb-maxrss";

CONTENDER_LABELS["floor"] = "deno: dlopen libc only";
CONTENDER_LABELS["idle-floor"] = "deno: libc, waiting in poll";
CONTENDER_LABELS["version"] = "linkmirror --version";
CONTENDER_LABELS["version-b"] = "linkmirror --version (B)";
CONTENDER_LABELS["noop-sync"] = "linkmirror sync, nothing to do";
CONTENDER_LABELS["noop-sync-b"] = "linkmirror sync, nothing to do (B)";

async function hasTime(): Promise<boolean> {
  try {
    await Deno.stat(TIME);
    return true;
  } catch {
    return false;
  }
}

/** Runs `command` in `ns`; its wall time in ms and its peak RSS in MiB (NaN without `time`). */
async function floorOnce(
  ns: BenchNetns,
  command: string[],
  time: boolean,
): Promise<{ ms: number; rss: number }> {
  const process = ns.spawn(time ? [TIME, "-f", `${MAXRSS} %M`, ...command] : command);
  const status = await process.status;
  const ms = performance.timeOrigin + performance.now() - process.spawnedAt;
  if (!status.success) {
    throw new Error(`${command.join(" ")} failed: ${process.stderrLines.slice(-5).join("\n")}`);
  }
  const line = process.stderrLines.find((l) => l.startsWith(MAXRSS));
  return { ms, rss: line ? Number(line.split(" ")[1]) / 1024 : NaN };
}

/**
 * Measures the floor `reps` times, alternating: the libc-only Deno program, `linkmirror
 * --version` and a `linkmirror sync` with nothing to do, each in one empty namespace.
 */
export async function floor(ctx: BenchContext, reps: number, idleSeconds: number): Promise<void> {
  const time = await hasTime();
  const table = "539098368";
  const variants: [string, string[]][] = [
    ["floor", [Deno.execPath(), ...FLOOR_RUN, FLOOR]],
    ["version", [...ctx.linkmirror.prefix, "--version"]],
    ["noop-sync", [...ctx.linkmirror.prefix, "sync", "--table", table, "--log-format", "json"]],
  ];
  if (ctx.candidate) {
    variants.push(
      ["version-b", [...ctx.candidate.prefix, "--version"]],
      ["noop-sync-b", [...ctx.candidate.prefix, "sync", "--table", table, "--log-format", "json"]],
    );
  }
  const ns = await BenchNetns.create();
  try {
    // One unmeasured run each: deno's caches warm, as on a running system.
    for (const [, command] of variants) await floorOnce(ns, command, false);
    for (let rep = 0; rep < reps; rep++) {
      ctx.progress(`5 footprint: floor and start of linkmirror (${rep + 1}/${reps})`);
      for (const [contender, command] of variants) {
        const { ms, rss } = await floorOnce(ns, command, time);
        ctx.results.add({ scenario: FOOTPRINT, metric: "run time", unit: "ms", contender }, ms);
        if (Number.isFinite(rss)) {
          ctx.results.add({ scenario: FOOTPRINT, metric: "peak RSS", unit: "MiB", contender }, rss);
        }
      }
    }
    await idleFloor(ctx, ns, idleSeconds);
  } finally {
    await ns.dispose();
  }
}

/**
 * The idle floor once ({@linkcode ../idle_floor.ts}), in `ns`: its resident set once it waits
 * (a live figure, as the daemons' "RSS after start", not a peak) and its wake-ups over two
 * windows of `idleSeconds`, counted as the daemons' are in scenario 1.
 */
async function idleFloor(ctx: BenchContext, ns: BenchNetns, idleSeconds: number): Promise<void> {
  ctx.progress("5 footprint: the idle floor");
  const process = ns.spawn([Deno.execPath(), ...FLOOR_RUN, IDLE_FLOOR]);
  const key = (metric: string, unit: string) => ({
    scenario: FOOTPRINT,
    metric,
    unit,
    contender: "idle-floor",
  });
  try {
    await process.waitForLine(/^ready$/);
    await settle(process.pid);
    ctx.results.add(key("RSS after start", "MiB"), rssMegabytes(process.pid));
    for (const window of ["1st", "2nd"]) {
      const switches = contextSwitches(process.pid);
      await new Promise((r) => setTimeout(r, idleSeconds * 1000));
      ctx.results.add(
        key(`wake-ups, ${window} ${idleSeconds} s idle`, "count"),
        switchesBetween(switches, contextSwitches(process.pid)),
      );
    }
  } finally {
    await process.stop();
  }
}
