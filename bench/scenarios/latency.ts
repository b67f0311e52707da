/**
 * Scenarios 2 and 3, event latency: while a daemon runs, one on-link route at a time appears in
 * (then disappears from) `main`, each after a quiet gap; the probe measures the time from the
 * event in `main` to the event of the copy in the target table, and the daemon's CPU time is read
 * from `/proc` before and after. Scenario 3 repeats it for linkmirror with 0 and 100k unrelated
 * gateway routes in `main`.
 *
 * @module
 */

import { CONTENDER_LABELS, type DaemonKind } from "../contenders.ts";
import type { BenchContext } from "../context.ts";
import { cpuNanoseconds } from "../proc.ts";
import { gatewayRouteLines } from "../routes.ts";
import { readyDaemon, SAMPLE_GAP_MS, withProbe, withTopology } from "./common.ts";

/** Unmeasured adds and deletes before the measured ones, for every contender. */
export const WARMUP_SAMPLES = 10;

/** Options of {@linkcode measureLatency}. */
export interface LatencyOptions {
  /** Scenario name in the table. */
  scenario: string;
  /** The contender. */
  kind: DaemonKind;
  /** Contender id in the table (e.g. `watch, 100k routes`). */
  contender: string;
  /** Route adds (each with its delete). */
  samples: number;
  /** Unrelated gateway routes put in `main` first. */
  gatewayRoutes?: number;
  /** Pause before each change, ms. Default {@linkcode SAMPLE_GAP_MS}. */
  gapMs?: number;
  /** Churn: pauses drawn from [`gapMs`, `maxGapMs`] instead. */
  maxGapMs?: number;
}

/** Measures one contender's event latency and CPU per change. */
export async function measureLatency(ctx: BenchContext, options: LatencyOptions): Promise<void> {
  const { scenario, contender } = options;
  await withTopology(async (topo) => {
    if (options.gatewayRoutes) {
      await topo.ns.batch(gatewayRouteLines(options.gatewayRoutes, topo.gateway));
    }
    await withProbe(topo, async (probe) => {
      const daemon = await readyDaemon(
        ctx,
        options.kind,
        topo,
        probe,
        [],
        ctx.mode === "smoke" ? 0 : WARMUP_SAMPLES,
      );
      try {
        const cpu = cpuNanoseconds(daemon.pid);
        const reply = await probe.latency({
          samples: options.samples,
          gapMs: options.gapMs ?? SAMPLE_GAP_MS,
          maxGapMs: options.maxGapMs,
          dev: topo.devs[0],
          timeoutMs: 1000,
        });
        const changes = reply.add.length + reply.del.length + reply.missed;
        const cpuUs = (cpuNanoseconds(daemon.pid) - cpu) / 1000 / changes;
        ctx.results.add({ scenario, metric: "appear", unit: "ms", contender }, reply.add);
        ctx.results.add({ scenario, metric: "disappear", unit: "ms", contender }, reply.del);
        // The shell loop's work is done by short-lived `ip` children, invisible here.
        if (options.kind !== "shell") {
          ctx.results.add({ scenario, metric: "CPU per change", unit: "µs", contender }, cpuUs);
        }
        if (reply.missed > 0) {
          ctx.results.note(
            { scenario, metric: "appear", unit: "ms", contender },
            `${reply.missed} of ${changes} changes not mirrored within 1 s`,
          );
        }
      } finally {
        await daemon.stop();
      }
    });
  });
}

/** Scenario 2: every daemon contender, `samples` adds and deletes each. */
export async function eventLatency(ctx: BenchContext, samples: number): Promise<void> {
  for (const kind of ctx.daemons) {
    ctx.progress(`2 event latency: ${CONTENDER_LABELS[kind]} (${samples} adds + deletes)`);
    await measureLatency(ctx, { scenario: "2 event latency", kind, contender: kind, samples });
  }
}

/** Scenario 3: linkmirror with 0 and with `gatewayRoutes` unrelated routes in `main`. */
export async function scaleIndependence(
  ctx: BenchContext,
  samples: number,
  gatewayRoutes: number,
): Promise<void> {
  const big = `${gatewayRoutes >= 1000 ? `${gatewayRoutes / 1000}k` : gatewayRoutes}`;
  const arms = [
    { contender: "watch-0", routes: 0 },
    { contender: `watch-${big}`, routes: gatewayRoutes },
  ];
  CONTENDER_LABELS["watch-0"] = "linkmirror watch, 0 other routes";
  CONTENDER_LABELS[`watch-${big}`] = `linkmirror watch, ${big} other routes`;
  for (const arm of arms) {
    ctx.progress(`3 scale: ${CONTENDER_LABELS[arm.contender]} (${samples} adds + deletes)`);
    await measureLatency(ctx, {
      scenario: "3 scale independence",
      kind: "watch",
      contender: arm.contender,
      samples,
      gatewayRoutes: arm.routes,
    });
  }
}
