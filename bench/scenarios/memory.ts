/**
 * Scenario 7, memory at scale: a daemon starts on an empty `main`, 100k on-link routes appear
 * (its RSS once their copies exist: "RSS after 100k"), then two rounds of 100k changes each (50k
 * of the routes deleted, 50k others added) with the RSS after each round: flat when the second
 * round's figure is no higher than the first's. Each step waits for the target table to be
 * exact, then for the process to settle (≤ 5 s) before reading its RSS.
 *
 * @module
 */

import { CONTENDER_LABELS, type DaemonKind } from "../contenders.ts";
import type { BenchContext } from "../context.ts";
import type { RouteOp } from "../probe.ts";
import { rssMegabytes, settle } from "../proc.ts";
import { hostRoutes, routeKey, type RouteSpec } from "../routes.ts";
import { DEVS } from "../topology.ts";
import { readyDaemon, withProbe, withTopology } from "./common.ts";

const TIMEOUT_MS = 180_000;

async function memoryRun(ctx: BenchContext, kind: DaemonKind, size: number): Promise<void> {
  const scenario = `7 memory ${size / 1000}k`;
  const key = (metric: string) => ({ scenario, metric, unit: "MiB", contender: kind });
  await withTopology((topo) =>
    withProbe(topo, async (probe) => {
      const daemon = await readyDaemon(ctx, kind, topo, probe, []);
      try {
        const step = async (ops: RouteOp[], expect: RouteSpec[], metric: string) => {
          const reply = await probe.converge({
            ops,
            expect: expect.map(routeKey),
            timeoutMs: TIMEOUT_MS,
            quietMs: 0,
          });
          if (!reply.converged) {
            ctx.results.note(key(metric), `not converged (${reply.missing} missing)`);
            return false;
          }
          await settle(daemon.pid);
          ctx.results.add(key(metric), rssMegabytes(daemon.pid));
          return true;
        };
        let live = hostRoutes({ count: size, devs: DEVS });
        if (
          !await step(live.map((r) => ({ ...r, op: "add" })), live, `RSS after ${size / 1000}k`)
        ) {
          return;
        }
        for (let round = 1; round <= 2; round++) {
          const half = size / 2;
          const removed = live.slice(0, half);
          const added = hostRoutes({ count: half, devs: DEVS, offset: size + (round - 1) * half });
          const ops: RouteOp[] = [];
          for (let i = 0; i < half; i++) {
            ops.push({ ...removed[i], op: "del" }, { ...added[i], op: "add" });
          }
          live = [...live.slice(half), ...added];
          const metric = `RSS after ${round * size / 1000}k changes`;
          if (!await step(ops, live, metric)) return;
        }
      } finally {
        await daemon.stop();
      }
    })
  );
}

/** Runs scenario 7 for every daemon contender but the shell loop, `size` routes. */
export async function memory(ctx: BenchContext, size: number): Promise<void> {
  for (const kind of ctx.daemons) {
    if (kind === "shell" || kind === "bird") continue;
    ctx.progress(`7 memory ${size / 1000}k: ${CONTENDER_LABELS[kind]}`);
    await memoryRun(ctx, kind, size);
  }
}
