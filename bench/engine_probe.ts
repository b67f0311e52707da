/**
 * The engine's read and plan, timed in-process: the part of `sync` between start-up and the
 * writes. Runs inside a scenario's namespace (started by {@linkcode ./scenarios/decode_plan.ts}),
 * imports the engine from a `src/` directory (this checkout's, or another build's for a
 * before/after), and for each repetition times `readTables` (dumps of the source and target
 * tables and the links, received and decoded) and `planSync` on what was read, then the same
 * dumps merely received ({@linkcode DumpFloor}: the kernel's share, a floor for `readTables`).
 * Prints one JSON line: `{ readMs: number[], planMs: number[], floorMs: number[], routes: number }`;
 * the first repetition is what a one-shot `sync` pays (cold code), the others show the warmed-up
 * cost.
 *
 * Usage (inside a namespace): `deno run -A bench/engine_probe.ts --table 539098368 --reps 5
 * [--src DIR]`
 *
 * @module
 */

import { parseArgs } from "node:util";
import { DumpFloor } from "./dump_floor.ts";

type ReconcileModule = typeof import("../src/engine/reconcile.ts");
type PlanModule = typeof import("../src/planner/plan.ts");
type OptionsModule = typeof import("../src/planner/options.ts");
type ClientModule = typeof import("../src/rtnl/client.ts");

/** What one run of the probe measured. */
export interface EngineTimes {
  /** Milliseconds of `readTables` per repetition (dumps, receive, decode). */
  readMs: number[];
  /** Milliseconds of `planSync` per repetition. */
  planMs: number[];
  /** Milliseconds of the same dumps only received, per repetition (after `readTables`). */
  floorMs: number[];
  /** Routes read per repetition (source and target tables). */
  routes: number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      table: { type: "string" },
      reps: { type: "string", default: "5" },
      src: { type: "string", default: new URL("../src/", import.meta.url).pathname },
    },
  });
  const src = values.src.endsWith("/") ? values.src : `${values.src}/`;
  const reconcile: ReconcileModule = await import(`${src}engine/reconcile.ts`);
  const { planSync }: PlanModule = await import(`${src}planner/plan.ts`);
  const { planOptions }: OptionsModule = await import(`${src}planner/options.ts`);
  const { RtnlClient }: ClientModule = await import(`${src}rtnl/client.ts`);
  const config = {
    ...planOptions(),
    tables: [Number(values.table)],
    source: 254,
  };
  const client = RtnlClient.open({ receiveBuffer: 32 << 20 });
  const floor = new DumpFloor(Number(values.table));
  const times: EngineTimes = { readMs: [], planMs: [], floorMs: [], routes: 0 };
  try {
    for (let rep = 0; rep < Number(values.reps); rep++) {
      const t0 = performance.now();
      const state = reconcile.readTables(client, config);
      const t1 = performance.now();
      const plan = planSync(reconcile.planInput(state, config));
      const t2 = performance.now();
      times.readMs.push(t1 - t0);
      times.planMs.push(t2 - t1);
      times.floorMs.push(floor.time());
      times.routes = state.source.length +
        [...state.targets.values()].reduce((n, routes) => n + routes.length, 0);
      if (plan.adds.length + plan.deletes.length !== 0) {
        throw new Error(`expected an empty plan, got ${plan.adds.length} adds`);
      }
    }
  } finally {
    client.close();
    floor.close();
  }
  console.log(JSON.stringify(times));
}

if (import.meta.main) await main();
