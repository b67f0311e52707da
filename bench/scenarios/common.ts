/**
 * Steps shared by the scenarios: a topology with a probe, a daemon contender made ready, and the
 * oracle (`ip -j route show table T`) that says whether the target table is exact.
 *
 * @module
 */

import { type Daemon, type DaemonKind, startDaemon } from "../contenders.ts";
import type { BenchContext } from "../context.ts";
import { ProbeClient } from "../probe_client.ts";
import { isTracked, routeKey, type RouteSpec } from "../routes.ts";
import { buildTopology, type Topology } from "../topology.ts";

/**
 * Gap before each single change of a latency run, so that each change is a lone event after a
 * quiet period, as in the goal, whatever the jitter of the previous apply (scenario 8 measures
 * changes with short random gaps).
 */
export const SAMPLE_GAP_MS = 100;
/** Index of the readiness canary among the sample routes (clear of the measured samples). */
const CANARY_FIRST = 60_000;

/** Builds a topology, runs `body` with it, and always deletes the namespace. */
export async function withTopology<T>(body: (topo: Topology) => Promise<T>): Promise<T> {
  const topo = await buildTopology();
  try {
    return await body(topo);
  } finally {
    await topo.ns.dispose();
  }
}

/** Starts the probe in `topo`, runs `body`, and always stops it. */
export async function withProbe<T>(
  topo: Topology,
  body: (probe: ProbeClient) => Promise<T>,
): Promise<T> {
  const probe = await ProbeClient.start(topo.ns, topo.table);
  try {
    return await body(probe);
  } finally {
    await probe.close();
  }
}

/**
 * Starts a daemon contender and waits until it mirrors: the target table holds the copies of
 * `initial`, and a canary route added to `main` gets its copy (and loses it again). Then
 * `warmup` unmeasured route adds and deletes.
 */
export async function readyDaemon(
  ctx: BenchContext,
  kind: DaemonKind,
  topo: Topology,
  probe: ProbeClient,
  initial: readonly RouteSpec[],
  warmup = 0,
): Promise<Daemon> {
  const daemon = await startDaemon(kind, {
    ns: topo.ns,
    table: topo.table,
    linkmirror: kind === "watch-b" && ctx.candidate ? ctx.candidate : ctx.linkmirror,
    initial,
  });
  try {
    const synced = await probe.converge({
      ops: [],
      expect: initial.map(routeKey),
      timeoutMs: 60_000,
      quietMs: 0,
    });
    if (!synced.converged) throw new Error(`${kind} did not make the initial copies`);
    // The shell loop's `ip monitor` may not listen yet: try a few canaries.
    for (let attempt = 0;; attempt++) {
      const canary = await probe.latency({
        samples: 1,
        gapMs: SAMPLE_GAP_MS,
        dev: topo.devs[0],
        timeoutMs: 3000,
        first: CANARY_FIRST + attempt,
      });
      if (canary.missed === 0) break;
      if (attempt >= 4) throw new Error(`${kind} does not mirror a canary route`);
    }
    if (warmup > 0) {
      // Unmeasured changes, the same for every contender: first-use costs (lazy loading, JIT)
      // are start-up, not event latency.
      await probe.latency({
        samples: warmup,
        gapMs: SAMPLE_GAP_MS,
        dev: topo.devs[0],
        timeoutMs: 3000,
        first: CANARY_FIRST + 10,
      });
    }
    return daemon;
  } catch (e) {
    await daemon.stop();
    throw e;
  }
}

/** The tracked routes of the target table, as keys, read with `ip -j route` (the oracle). */
export async function tableKeys(topo: Topology): Promise<Set<string>> {
  const routes = await topo.ns.ipJson<{ dst: string; dev?: string }[]>(
    "-4",
    "route",
    "show",
    "table",
    topo.table,
  );
  const keys = new Set<string>();
  for (const r of routes) {
    const [dst, len] = r.dst.includes("/") ? r.dst.split("/") : [r.dst, "32"];
    if (isTracked(dst)) keys.add(`${dst}/${len}@${r.dev}`);
  }
  return keys;
}

/** Whether the target table's tracked routes are exactly the copies of `wanted` (the oracle). */
export async function tableIsExact(topo: Topology, wanted: readonly RouteSpec[]): Promise<boolean> {
  const keys = await tableKeys(topo);
  if (keys.size !== wanted.length) return false;
  return wanted.every((r) => keys.has(routeKey(r)));
}
