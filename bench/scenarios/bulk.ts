/**
 * Scenario 1, bulk convergence: `size` on-link routes (half /32 host routes, half /24s) appear in
 * `main`; how long until the target table holds all their copies. `linkmirror sync` and `ip
 * -batch` are timed as whole processes over routes already in `main`; the daemons (`watch`,
 * BIRD) are running when the routes appear, and the probe times the injection's start to the
 * last copy ("converge"), and from the injection's end (its last ACK) to the last copy ("converge
 * after burst", the lag behind a burst such as a 10k-route `ip -batch`). Every run ends with the
 * oracle checking the table is exact.
 *
 * The one-shot sweep ({@linkcode oneShotSweep}, "1 one-shots N") times only the one-shots at
 * larger sizes: where `sync` stops being slower than `ip -batch`, which splits its time into what
 * it pays once (start, module loading, the first, unoptimised pass) and per route. Beside them,
 * at every size but in smoke runs, the floor of a one-shot (`bench/sync_floor.ts`, "deno: bare
 * IPv4 copy"): the same system calls from the smallest Deno program.
 *
 * Each `sync` also gives its steps ("sync step: …", from its `Sync done` log line): from the
 * runtime's start to the command's work (loading linkmirror, opening the socket, the permission
 * check), then detection, read, plan, apply and the listing, so that a run says where `sync`'s
 * time goes beside `ip -batch`.
 *
 * The last 10k run of each daemon also gives the footprint figures of scenario 5: RSS after
 * start and after the 10k routes, and wake-ups and CPU over two windows of idleness once the
 * daemon has finished with the burst.
 *
 * @module
 */

import { CONTENDER_LABELS, copyLines, type DaemonKind, syncFloorCommand } from "../contenders.ts";
import type { BenchContext } from "../context.ts";
import {
  contextSwitches,
  processCpuMilliseconds,
  rssMegabytes,
  settle,
  switchesBetween,
} from "../proc.ts";
import { onLinkRoutes, routeKey, routeLines, type RouteSpec } from "../routes.ts";
import { DEVS, type Topology } from "../topology.ts";
import { readyDaemon, tableIsExact, withProbe, withTopology } from "./common.ts";

/** The footprint scenario's name in the table. */
export const FOOTPRINT = "5 footprint";

/** Options of {@linkcode bulk}. */
export interface BulkOptions {
  /** Number of routes. */
  size: number;
  /** Also take the footprint figures (on the last repetition). */
  footprint: boolean;
  /** Seconds of idleness over which wake-ups are counted. */
  idleSeconds: number;
}

/** `10k` for 10000, `200` for 200. */
function sizeName(size: number): string {
  return size >= 1000 ? `${size / 1000}k` : `${size}`;
}

function scenarioName(size: number): string {
  return `1 bulk ${sizeName(size)}`;
}

/** Runs `command` in the topology's namespace; its wall time and its standard error. */
async function timedProcess(
  topo: Topology,
  command: string[],
): Promise<{ ms: number; stderrLines: string[] }> {
  const process = topo.ns.spawn(command);
  const status = await process.status;
  const ms = performance.timeOrigin + performance.now() - process.spawnedAt;
  if (!status.success) {
    throw new Error(
      `${command.join(" ")} failed (${status.code}): ${process.stderrLines.slice(-5).join("\n")}`,
    );
  }
  return { ms, stderrLines: process.stderrLines };
}

/**
 * The steps of a `sync`'s time that its `Sync done` log line gives (milliseconds), with the
 * metric each is reported as: from the runtime's start to the command's, then the command's
 * own steps. A build older than these fields gives none.
 */
const SYNC_STEPS: readonly [field: string, metric: string][] = [
  ["startupMs", "sync step: startup"],
  ["detectMs", "sync step: detect"],
  ["readMs", "sync step: read"],
  ["planMs", "sync step: plan"],
  ["applyMs", "sync step: apply"],
  ["printMs", "sync step: print"],
];

/**
 * The step times of the `Sync done` line among `stderrLines` (JSON log lines), by metric name;
 * empty when there is no such line or it has none of {@linkcode SYNC_STEPS}.
 *
 * @example
 * ```ts ignore
 * syncSteps(['{"message":"Sync done","readMs":7.1,"planMs":8.4}']);
 * // Map { "sync step: read" => 7.1, "sync step: plan" => 8.4 }
 * ```
 */
function syncSteps(stderrLines: readonly string[]): Map<string, number> {
  const steps = new Map<string, number>();
  for (let i = stderrLines.length - 1; i >= 0; i--) {
    const line = stderrLines[i];
    if (!line.startsWith("{") || !line.includes('"Sync done"')) continue;
    const record = JSON.parse(line) as Record<string, unknown>;
    if (record.message !== "Sync done") continue;
    for (const [field, metric] of SYNC_STEPS) {
      const ms = record[field];
      if (typeof ms === "number") steps.set(metric, ms);
    }
    break;
  }
  return steps;
}

/**
 * `list` rotated by `rep` places: each repetition starts with another contender, so that none
 * always runs first (or last) on a noisy machine.
 */
function rotated<T>(list: readonly T[], rep: number): T[] {
  return list.map((_, i) => list[(i + rep) % list.length]);
}

/** The contenders timed as whole processes over routes already in `main`. */
type OneShot = "sync" | "sync-b" | "sync-floor" | "ip-batch";

/** The one-shots of a run: linkmirror's `sync` (and the second's), the floor, `ip -batch`. */
function oneShots(ctx: BenchContext): OneShot[] {
  return [
    "sync",
    ...(ctx.candidate ? ["sync-b" as const] : []),
    ...(ctx.withFloor ? ["sync-floor" as const] : []),
    "ip-batch",
  ];
}

/**
 * Times `contender` over `routes` in a fresh topology and checks the table is exact, then records
 * the time as `scenario`'s "converge" and, for a linkmirror `sync`, its steps
 * ({@linkcode syncSteps}).
 */
async function oneShot(
  ctx: BenchContext,
  scenario: string,
  contender: OneShot,
  routes: RouteSpec[],
): Promise<void> {
  const { ms, steps } = await timedOneShot(ctx, contender, routes);
  ctx.results.add({ scenario, metric: "converge", unit: "ms", contender }, ms);
  for (const [metric, stepMs] of steps) {
    ctx.results.add({ scenario, metric, unit: "ms", contender }, stepMs);
  }
}

/** {@linkcode oneShot}'s run: the wall time, and a `sync`'s steps (none for the others). */
async function timedOneShot(
  ctx: BenchContext,
  contender: OneShot,
  routes: RouteSpec[],
): Promise<{ ms: number; steps: Map<string, number> }> {
  return await withTopology(async (topo) => {
    await topo.ns.batch(routeLines(routes, { op: "add" }));
    let ms: number;
    let steps = new Map<string, number>();
    if (contender === "sync-floor") {
      ({ ms } = await timedProcess(topo, syncFloorCommand(topo.table)));
    } else if (contender !== "ip-batch") {
      const command = contender === "sync-b" && ctx.candidate ? ctx.candidate : ctx.linkmirror;
      const run = await timedProcess(topo, [
        ...command.prefix,
        "sync",
        "--table",
        topo.table,
        "--log-format",
        "json",
      ]);
      ms = run.ms;
      steps = syncSteps(run.stderrLines);
    } else {
      const file = await Deno.makeTempFile({ prefix: "lmb-batch-" });
      try {
        await Deno.writeTextFile(file, copyLines(routes, topo.table).join("\n") + "\n");
        ({ ms } = await timedProcess(topo, ["ip", "-batch", file]));
      } finally {
        await Deno.remove(file);
      }
    }
    if (!(await tableIsExact(topo, routes))) {
      throw new Error(`${contender}: the table is not exact`);
    }
    return { ms, steps };
  });
}

async function daemonRun(
  ctx: BenchContext,
  kind: DaemonKind,
  routes: RouteSpec[],
  options: BulkOptions & { lastRep: boolean },
): Promise<number | null> {
  const scenario = scenarioName(options.size);
  return await withTopology((topo) =>
    withProbe(topo, async (probe) => {
      const daemon = await readyDaemon(ctx, kind, topo, probe, []);
      try {
        const footprint = options.footprint && options.lastRep;
        const key = (metric: string, unit: string) => ({
          scenario: FOOTPRINT,
          metric,
          unit,
          contender: kind,
        });
        if (options.footprint) {
          ctx.results.add(key("RSS after start", "MiB"), rssMegabytes(daemon.pid));
        }
        const reply = await probe.converge({
          ops: routes.map((r) => ({ ...r, op: "add" as const })),
          expect: routes.map(routeKey),
          timeoutMs: 60_000,
          quietMs: 0,
        });
        const series = { scenario, metric: "converge", unit: "ms", contender: kind };
        if (reply.overruns > 0) {
          ctx.results.note(series, "the probe overran; its view was re-read");
        }
        if (!reply.converged) {
          ctx.results.note(series, `not converged in 60 s (${reply.missing} missing)`);
          return null;
        }
        if (!(await tableIsExact(topo, routes))) {
          ctx.results.note(series, "the oracle found the table not exact");
          return null;
        }
        if (reply.afterBurstMs !== null) {
          // The burst lag: from the last ACK of the injection until every copy exists.
          ctx.results.add({ ...series, metric: "converge after burst" }, reply.afterBurstMs);
        }
        if (footprint) {
          ctx.results.add(key(`RSS after ${scenario.slice(7)}`, "MiB"), rssMegabytes(daemon.pid));
          // Idle starts once the daemon has finished with the burst's echoes (at most 5 s: BIRD
          // rescans every second). Two windows: V8 tidies its heap some seconds after work.
          await settle(daemon.pid);
          const cpu = processCpuMilliseconds(daemon.pid);
          for (const window of ["1st", "2nd"]) {
            const switches = contextSwitches(daemon.pid);
            await new Promise((r) => setTimeout(r, options.idleSeconds * 1000));
            ctx.results.add(
              key(`wake-ups, ${window} ${options.idleSeconds} s idle`, "count"),
              switchesBetween(switches, contextSwitches(daemon.pid)),
            );
          }
          ctx.results.add(
            key(`idle CPU over ${2 * options.idleSeconds} s`, "% core"),
            (processCpuMilliseconds(daemon.pid) - cpu) / (2 * options.idleSeconds * 10),
          );
          ctx.results.add(
            key(`RSS after ${2 * options.idleSeconds} s idle`, "MiB"),
            rssMegabytes(daemon.pid),
          );
        }
        return reply.convergedMs;
      } finally {
        await daemon.stop();
      }
    })
  );
}

/**
 * Times the one-shots alone (`sync`, the second linkmirror's `sync`, the floor, `ip -batch`) over
 * `size` routes, as scenario "1 one-shots N": no daemons, no footprint.
 */
export async function oneShotSweep(ctx: BenchContext, size: number): Promise<void> {
  const scenario = `1 one-shots ${sizeName(size)}`;
  const routes = onLinkRoutes({ count: size, devs: DEVS });
  const contenders = oneShots(ctx);
  for (let rep = 0; rep < ctx.reps; rep++) {
    for (const contender of rotated(contenders, rep)) {
      ctx.progress(`${scenario}: ${CONTENDER_LABELS[contender]} (run ${rep + 1}/${ctx.reps})`);
      await oneShot(ctx, scenario, contender, routes);
    }
  }
}

/** Runs scenario 1 for `options.size` routes. */
export async function bulk(ctx: BenchContext, options: BulkOptions): Promise<void> {
  const scenario = scenarioName(options.size);
  const routes = onLinkRoutes({ count: options.size, devs: DEVS });
  const shots: string[] = oneShots(ctx);
  const contenders = [...shots, ...ctx.daemons.filter((d) => d !== "shell")];
  for (let rep = 0; rep < ctx.reps; rep++) {
    for (const contender of rotated(contenders, rep)) {
      ctx.progress(`${scenario}: ${CONTENDER_LABELS[contender]} (run ${rep + 1}/${ctx.reps})`);
      const series = { scenario, metric: "converge", unit: "ms", contender };
      if (shots.includes(contender)) {
        await oneShot(ctx, scenario, contender as OneShot, routes);
      } else {
        const ms = await daemonRun(ctx, contender as DaemonKind, routes, {
          ...options,
          lastRep: rep === ctx.reps - 1,
        });
        if (ms !== null) ctx.results.add(series, ms);
      }
    }
  }
}
