/**
 * `deno task bench`: linkmirror side by side with `ip -batch`, BIRD 2 and an `ip monitor` shell
 * loop, each in its own network namespaces, on the same work. Prints one table of median, p99,
 * min and max over repeated runs with the ratio to the best peer, then the goals of the
 * benchmark issue as met or missed.
 *
 * Usage: `deno run -A bench/main.ts [--quick | --smoke] [--json] [--json-out FILE]
 * [--only 1,2,3,4,5,6,7,8] [--reps N] [--bin PATH] [--bin-b PATH] [--src DIR] [--src-b DIR]
 * [--judge-b] [--no-install] [--linkmirror-only]`
 *
 * - `--quick`: fewer repetitions and samples (about a third of the time).
 * - `--smoke`: tiny sizes, linkmirror only, scenarios 1, 2 and 4, a few seconds: proves the
 *   benchmark works.
 * - `--json`: one JSON document instead of the table; `--json-out FILE` writes it to FILE too.
 * - `--only`: run these scenarios (1 bulk and the one-shot sweep, 2 latency, 3 scale, 4 storm,
 *   5 footprint and floor, 6 decode + plan, 7 memory at 100k, 8 churn latency).
 * - `--bin`: run this linkmirror executable instead of `deno run -A main.ts`.
 * - `--bin-b`: also run this second linkmirror ("B") beside the first, for a before/after.
 * - `--src`: time the engine (scenario 6) of this `src/` directory instead of this checkout's.
 * - `--src-b`: time the engine of this second `src/` directory beside the first.
 * - `--judge-b`: judge the goals on the second linkmirror ("B", the "after" of a before/after).
 * - `--no-install`: do not `apt-get install bird2` when BIRD is missing (it is then skipped).
 * - `--linkmirror-only`: leave out BIRD and the shell loop (`ip -batch` stays as a yardstick).
 *
 * Needs root (network namespaces). Everything it creates is removed when it ends, also on
 * failure and on Ctrl-C.
 *
 * @module
 */

import { parseArgs } from "node:util";
import {
  CONTENDER_LABELS,
  type DaemonKind,
  ensureBird,
  type LinkmirrorCommand,
} from "./contenders.ts";
import type { BenchContext, BenchMode } from "./context.ts";
import { checkGoals, type GoalVerdict } from "./goals.ts";
import { cleanupAll, onCleanup, removeLeftoverNamespaces, runCommand } from "./netns.ts";
import { renderTable, ResultSet } from "./results.ts";
import { bulk, oneShotSweep } from "./scenarios/bulk.ts";
import { eventLatency, scaleIndependence } from "./scenarios/latency.ts";
import { decodePlan } from "./scenarios/decode_plan.ts";
import { memory } from "./scenarios/memory.ts";
import { floor, startup } from "./scenarios/startup.ts";
import { storms } from "./scenarios/storm.ts";
import { churn } from "./scenarios/churn.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

/** The sizes of each mode. */
interface Plan {
  reps: number;
  bulkSizes: number[];
  /** Sizes at which scenario 1 also times the one-shots alone (`sync`, the floor, `ip -batch`). */
  oneShotSizes: number[];
  latencySamples: number;
  scaleSamples: number;
  scaleRoutes: number;
  stormHalf: number;
  stormReps: number;
  startupReps: number;
  idleSeconds: number;
  decodeSizes: number[];
  memorySize: number;
  churnSamples: number;
}

const PLANS: Record<BenchMode, Plan> = {
  full: {
    reps: 5,
    bulkSizes: [1000, 10000],
    oneShotSizes: [20_000, 30_000, 60_000],
    latencySamples: 200,
    scaleSamples: 150,
    scaleRoutes: 100_000,
    stormHalf: 5000,
    stormReps: 3,
    startupReps: 10,
    idleSeconds: 10,
    decodeSizes: [10_000, 100_000],
    memorySize: 100_000,
    churnSamples: 200,
  },
  quick: {
    reps: 2,
    bulkSizes: [1000, 10000],
    oneShotSizes: [30_000],
    latencySamples: 60,
    scaleSamples: 60,
    scaleRoutes: 100_000,
    stormHalf: 5000,
    stormReps: 1,
    startupReps: 3,
    idleSeconds: 5,
    decodeSizes: [10_000, 100_000],
    memorySize: 100_000,
    churnSamples: 150,
  },
  smoke: {
    reps: 1,
    bulkSizes: [200],
    oneShotSizes: [],
    latencySamples: 5,
    scaleSamples: 5,
    scaleRoutes: 1000,
    stormHalf: 100,
    stormReps: 1,
    startupReps: 1,
    idleSeconds: 1,
    decodeSizes: [200],
    memorySize: 0,
    churnSamples: 5,
  },
};

/** What the run was made on. */
interface Machine {
  date: string;
  nproc: number;
  kernel: string;
  deno: string;
  bird?: string;
}

async function machine(bird?: string): Promise<Machine> {
  const kernel = (await runCommand(["uname", "-r"])).stdout.trim();
  return {
    date: new Date().toISOString(),
    nproc: navigator.hardwareConcurrency,
    kernel,
    deno: Deno.version.deno,
    bird,
  };
}

async function canRun(): Promise<string | undefined> {
  if (Deno.uid() !== 0) return "the benchmark needs root (it builds network namespaces)";
  try {
    const out = await runCommand(["ip", "netns", "list"]);
    return out.code === 0 ? undefined : "`ip netns` does not work here";
  } catch {
    return "iproute2 (`ip`) is not installed";
  }
}

/** Bundles main.ts into a temporary file, as `deno task compile` does; undefined if it fails. */
async function buildArtifact(): Promise<LinkmirrorCommand | undefined> {
  const dir = await Deno.makeTempDir({ prefix: "lmb-artifact-" });
  onCleanup(() => Deno.remove(dir, { recursive: true }));
  const out = `${dir}/linkmirror.js`;
  const result = await runCommand([Deno.execPath(), "bundle", "--quiet", "--output", out, MAIN]);
  if (result.code !== 0) return undefined;
  return { prefix: [Deno.execPath(), "run", "--no-config", "--no-lock", "-A", out] };
}

function report(rows: ReturnType<ResultSet["rows"]>, goals: GoalVerdict[]): string {
  let text = renderTable(rows);
  const notes = rows.flatMap((r) => r.notes.map((n) => `  ${r.scenario} / ${r.label}: ${n}`));
  if (notes.length) text += `\nNotes:\n${notes.join("\n")}\n`;
  text += "\nGoals:\n";
  for (const g of goals) text += `  [${g.status}] ${g.goal}: ${g.detail}\n`;
  return text;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      quick: { type: "boolean", default: false },
      smoke: { type: "boolean", default: false },
      json: { type: "boolean", default: false },
      "json-out": { type: "string" },
      only: { type: "string" },
      reps: { type: "string" },
      bin: { type: "string" },
      "bin-b": { type: "string" },
      src: { type: "string" },
      "src-b": { type: "string" },
      "judge-b": { type: "boolean", default: false },
      "no-install": { type: "boolean", default: false },
      "linkmirror-only": { type: "boolean", default: false },
    },
  });
  const mode: BenchMode = values.smoke ? "smoke" : values.quick ? "quick" : "full";
  const plan = { ...PLANS[mode] };
  if (values.reps) plan.reps = Math.max(1, Number(values.reps));
  const only = new Set((values.only ?? "1,2,3,4,5,6,7,8").split(",").map((s) => s.trim()));
  const progress = (message: string) => console.error(`bench: ${message}`);

  const refusal = await canRun();
  if (refusal) {
    console.error(`bench: ${refusal}`);
    return 1;
  }
  const leftovers = await removeLeftoverNamespaces();
  if (leftovers.length) progress(`removed ${leftovers.length} namespaces of an earlier run`);

  const daemons: DaemonKind[] = values["bin-b"] ? ["watch", "watch-b"] : ["watch"];
  let birdVersion: string | undefined;
  const skipped: string[] = [];
  if (mode !== "smoke" && !values["linkmirror-only"]) {
    const bird = await ensureBird(!values["no-install"]);
    birdVersion = bird.version;
    if (bird.version) daemons.push("bird", "bird-rx");
    else skipped.push(`BIRD skipped: ${bird.reason}`);
    daemons.push("shell");
  }
  for (const line of skipped) progress(line);

  const linkmirror: LinkmirrorCommand = values.bin
    ? { prefix: [values.bin] }
    : { prefix: [Deno.execPath(), "run", "-A", MAIN] };
  const results = new ResultSet(CONTENDER_LABELS);
  const ctx: BenchContext = {
    mode,
    reps: plan.reps,
    linkmirror,
    daemons,
    withFloor: mode !== "smoke",
    results,
    progress,
    candidate: values["bin-b"] ? { prefix: [values["bin-b"]] } : undefined,
    engineSrc: values.src,
    candidateSrc: values["src-b"],
  };
  const started = performance.now();
  if (only.has("5") && mode !== "smoke") {
    ctx.artifact = values.bin ? undefined : await buildArtifact();
  }

  // One unmeasured run of each linkmirror, so that deno's transpile and code caches are warm.
  for (const command of [linkmirror, ctx.candidate]) {
    if (command) await runCommand([...command.prefix, "--version"]);
  }

  if (only.has("1") || only.has("5")) {
    for (const size of plan.bulkSizes) {
      await bulk(ctx, {
        size,
        footprint: only.has("5") && mode !== "smoke" && size === Math.max(...plan.bulkSizes),
        idleSeconds: plan.idleSeconds,
      });
    }
  }
  if (only.has("1")) {
    for (const size of plan.oneShotSizes) await oneShotSweep(ctx, size);
  }
  if (only.has("2")) await eventLatency(ctx, plan.latencySamples);
  if (only.has("3") && mode !== "smoke") {
    await scaleIndependence(ctx, plan.scaleSamples, plan.scaleRoutes);
  }
  if (only.has("4")) await storms({ ...ctx, reps: plan.stormReps }, plan.stormHalf);
  if (only.has("5") && mode !== "smoke") {
    await floor(ctx, plan.startupReps, plan.idleSeconds);
    await startup(ctx, plan.startupReps);
  }
  if (only.has("6")) await decodePlan(ctx, plan.decodeSizes);
  if (only.has("7") && plan.memorySize > 0) await memory(ctx, plan.memorySize);
  if (only.has("8")) await churn(ctx, plan.churnSamples);

  const rows = results.rows();
  const goals = checkGoals(rows, values["judge-b"] ? "-b" : "");
  const info = await machine(birdVersion);
  progress(`done in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  const document = JSON.stringify({ ...info, mode, skipped, rows, goals }, null, 2);
  if (values["json-out"]) await Deno.writeTextFile(values["json-out"], document + "\n");
  if (values.json) {
    console.log(document);
  } else {
    console.log(
      `linkmirror benchmark, ${info.date}, ${info.nproc} CPUs, Linux ${info.kernel}, ` +
        `deno ${info.deno}${info.bird ? `, ${info.bird}` : ""}, mode ${mode}\n`,
    );
    for (const line of skipped) console.log(line);
    console.log(report(rows, goals));
  }
  return 0;
}

if (import.meta.main) {
  let code = 1;
  const interrupted = async () => {
    console.error("bench: interrupted; cleaning up");
    await cleanupAll();
    Deno.exit(130);
  };
  Deno.addSignalListener("SIGINT", interrupted);
  Deno.addSignalListener("SIGTERM", interrupted);
  try {
    code = await main();
  } catch (e) {
    console.error(`bench: failed: ${e instanceof Error ? e.stack ?? e.message : e}`);
    code = 1;
  } finally {
    await cleanupAll();
  }
  Deno.exit(code);
}
