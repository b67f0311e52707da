/**
 * Scenario 6, decode + plan: `main` holds `size` on-link routes and the target table their
 * copies (after one `linkmirror sync`, a sync with nothing to do); {@linkcode ../engine_probe.ts} times, inside the process,
 * the engine's `readTables` (the dumps received and decoded) and `planSync`. Reported per size:
 * the first read and plan of a process (what a one-shot `sync` pays, code still cold), their sum,
 * and the sum once warm (median of the later repetitions); the warm read beside the kernel's
 * floor (the same dumps only received, {@linkcode ../dump_floor.ts}). With `--src-b`, a second
 * `src/` is measured beside the first, alternating. The probe runs with the V8 flags of
 * linkmirror's one-shot commands (`ONE_SHOT_V8_FLAGS`), as `sync` does: "first" is what `sync`
 * pays, "warm" what a process with those flags pays once warm (no TurboFan).
 *
 * @module
 */

import { CONTENDER_LABELS } from "../contenders.ts";
import { ONE_SHOT_V8_FLAGS } from "../../scripts/compile.ts";
import type { BenchContext } from "../context.ts";
import type { EngineTimes } from "../engine_probe.ts";
import { copyLines } from "../contenders.ts";
import { hostRoutes, routeLines } from "../routes.ts";
import { DEVS } from "../topology.ts";
import { summarise } from "../stats.ts";
import { withTopology } from "./common.ts";

const PROBE = new URL("../engine_probe.ts", import.meta.url).pathname;

CONTENDER_LABELS["engine"] = "linkmirror read+plan";
CONTENDER_LABELS["engine-b"] = "linkmirror read+plan (B)";

/** Repetitions inside one probe process: the first is cold, the rest warm. */
const INNER_REPS = 5;

/** Runs scenario 6 for each of `sizes`. */
/** This checkout's entry point: its planner is the engine scenario 6 times by default. */
const CHECKOUT_MAIN = new URL("../../main.ts", import.meta.url).pathname;

export async function decodePlan(ctx: BenchContext, sizes: readonly number[]): Promise<void> {
  const sources: [string, string | undefined][] = [["engine", ctx.engineSrc]];
  if (ctx.candidateSrc) sources.push(["engine-b", ctx.candidateSrc]);
  for (const size of sizes) {
    const scenario = `6 decode+plan ${size >= 1000 ? `${size / 1000}k` : size}`;
    await withTopology(async (topo) => {
      const routes = hostRoutes({ count: size, devs: DEVS });
      await topo.ns.batch(routeLines(routes, { op: "add" }));
      await topo.ns.batch(copyLines(routes, topo.table));
      // The copies of the topology's own prefix routes: then nothing is left to do. Made by this
      // checkout's own planner (not `--bin`, which may be an older build that makes other copies).
      const sync = topo.ns.spawn([
        Deno.execPath(),
        "run",
        "-A",
        CHECKOUT_MAIN,
        "sync",
        "--table",
        topo.table,
      ]);
      if (!(await sync.status).success) {
        throw new Error(`linkmirror sync failed: ${sync.stderrLines.slice(-5).join("\n")}`);
      }
      for (let rep = 0; rep < ctx.reps; rep++) {
        for (const [contender, src] of sources) {
          ctx.progress(`${scenario}: ${CONTENDER_LABELS[contender]} (run ${rep + 1}/${ctx.reps})`);
          const process = topo.ns.spawn([
            Deno.execPath(),
            "run",
            "-A",
            ...ONE_SHOT_V8_FLAGS,
            PROBE,
            "--table",
            topo.table,
            "--reps",
            String(INNER_REPS),
            ...(src ? ["--src", src] : []),
          ], { captureStdout: true });
          const status = await process.status;
          const line = process.stdoutLines.find((l) => l.startsWith("{"));
          if (!status.success || line === undefined) {
            throw new Error(`engine probe failed: ${process.stderrLines.slice(-5).join("\n")}`);
          }
          const times = JSON.parse(line) as EngineTimes;
          const key = (metric: string) => ({ scenario, metric, unit: "ms", contender });
          ctx.results.add(key("read, first"), times.readMs[0]);
          ctx.results.add(key("plan, first"), times.planMs[0]);
          ctx.results.add(key("read+plan, first"), times.readMs[0] + times.planMs[0]);
          const warm = times.readMs.slice(1).map((ms, i) => ms + times.planMs[i + 1]);
          ctx.results.add(key("read+plan, warm"), summarise(warm).median);
          // The kernel's share of the read: the same dumps only received.
          ctx.results.add(key("read, warm"), summarise(times.readMs.slice(1)).median);
          ctx.results.add(key("dump floor, warm"), summarise(times.floorMs.slice(1)).median);
        }
      }
    });
  }
}
