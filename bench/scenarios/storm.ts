/**
 * Scenario 4, storm: with 5k on-link routes in `main` and their copies in place, a burst of 10k
 * changes — either 5k deletes interleaved with 5k adds of other routes (churn), or 5k add+delete
 * flaps of one route — then the probe follows the target table until it is exact and stays so
 * for a quiet period (longer than BIRD's 1 s scan). Reported: time from the burst's start to the
 * last event that made the table exact ("converge"), the same from the burst's end ("converge
 * after burst": 0 when the table was exact as the burst ended), how long the burst itself took
 * (the probe injects it as fast as netlink takes it, competing for the CPU with the contender),
 * the kernel writes seen in the target table, and for linkmirror its applies (from its "Stopped"
 * counters).
 *
 * @module
 */

import { CONTENDER_LABELS, type DaemonKind } from "../contenders.ts";
import type { BenchContext } from "../context.ts";
import type { RouteOp } from "../probe.ts";
import { flapRoute, onLinkRoutes, routeKey, type RouteSpec } from "../routes.ts";
import { DEVS } from "../topology.ts";
import { readyDaemon, tableIsExact, withProbe, withTopology } from "./common.ts";

/** The two storms. */
export type StormKind = "churn" | "flap";

/** Quiet period that ends a storm run, ms: longer than BIRD's `scan time 1`. */
const QUIET_MS = 2000;

/** The burst of a storm and the routes `main` holds before and after it. */
export function stormPlan(kind: StormKind, half: number): {
  initial: RouteSpec[];
  ops: RouteOp[];
  final: RouteSpec[];
} {
  const initial = onLinkRoutes({ count: half, devs: DEVS });
  const ops: RouteOp[] = [];
  if (kind === "churn") {
    const added = onLinkRoutes({ count: half, devs: DEVS, offset: half });
    for (let i = 0; i < half; i++) {
      ops.push({ ...initial[i], op: "del" }, { ...added[i], op: "add" });
    }
    return { initial, ops, final: added };
  }
  const flap = flapRoute(DEVS[0]);
  for (let i = 0; i < half; i++) ops.push({ ...flap, op: "add" }, { ...flap, op: "del" });
  return { initial, ops, final: initial };
}

async function stormRun(
  ctx: BenchContext,
  kind: DaemonKind,
  storm: StormKind,
  half: number,
  timeoutMs: number,
): Promise<void> {
  const scenario = `4 storm: ${storm}`;
  const key = (metric: string, unit: string) => ({ scenario, metric, unit, contender: kind });
  const plan = stormPlan(storm, half);
  await withTopology(async (topo) => {
    await topo.ns.batch(plan.initial.map((r) => `route add ${r.dst}/${r.len} dev ${r.dev}`));
    await withProbe(topo, async (probe) => {
      const daemon = await readyDaemon(ctx, kind, topo, probe, plan.initial);
      let counters: Record<string, number> = {};
      try {
        const reply = await probe.converge({
          ops: plan.ops,
          expect: plan.final.map(routeKey),
          timeoutMs,
          quietMs: ctx.mode === "smoke" ? 300 : QUIET_MS,
        });
        const exact = reply.converged && await tableIsExact(topo, plan.final);
        ctx.results.add(key("exact", "count"), exact ? 1 : 0);
        if (exact && reply.convergedMs !== null && reply.afterBurstMs !== null) {
          ctx.results.add(key("converge", "ms"), reply.convergedMs);
          ctx.results.add(key("converge after burst", "ms"), reply.afterBurstMs);
          ctx.results.add(key("burst", "ms"), reply.injectMs);
        } else {
          ctx.results.note(
            key("exact", "count"),
            `not exact after ${timeoutMs / 1000} s: ${reply.missing} missing, ${reply.extra} extra`,
          );
        }
        ctx.results.add(key("writes", "count"), reply.copyEvents);
        if (reply.overruns > 0) {
          ctx.results.note(key("writes", "count"), "the probe overran; writes undercounted");
        }
      } finally {
        counters = await daemon.stop();
      }
      if (kind.startsWith("watch") && counters.applies !== undefined) {
        // Less the initial sync.
        ctx.results.add(key("applies", "count"), counters.applies - 1);
        if (counters.overruns) {
          ctx.results.note(key("applies", "count"), `${counters.overruns} overruns`);
        }
      }
    });
  });
}

/** Runs scenario 4: both storms, each daemon contender (the shell loop once: it is slow). */
export async function storms(ctx: BenchContext, half: number): Promise<void> {
  for (const storm of ["churn", "flap"] as const) {
    for (let rep = 0; rep < ctx.reps; rep++) {
      for (const kind of ctx.daemons) {
        if (kind === "shell" && rep > 0) continue;
        ctx.progress(
          `4 storm: ${storm}, ${CONTENDER_LABELS[kind]} (run ${rep + 1}/${
            kind === "shell" ? 1 : ctx.reps
          })`,
        );
        await stormRun(ctx, kind, storm, half, kind === "shell" ? 20_000 : 30_000);
      }
    }
  }
}
