/**
 * Scenario 5, start-up: the time from starting `linkmirror watch` to its first sync being done
 * (its "Watching" line, logged right after the initial apply), for `deno run main.ts` and for the
 * built artifact (the bundle `deno task compile` makes, run by deno) when there is one.
 *
 * @module
 */

import type { BenchContext } from "../context.ts";
import type { LinkmirrorCommand } from "../contenders.ts";
import { CONTENDER_LABELS } from "../contenders.ts";
import { onLinkRoutes } from "../routes.ts";
import { DEVS } from "../topology.ts";
import { withTopology } from "./common.ts";
import { FOOTPRINT } from "./bulk.ts";

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
