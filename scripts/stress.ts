/**
 * The long form of the reliability tests (the bounded forms run in tests/reliability/):
 *
 *     deno task stress -- --cycles 5000 --seed 42
 *
 * Model-based random testing: runs of up to `--steps-per-run` seeded host actions (run k uses
 * seed S+k, and `watch` options by seed: defaults, `--coalesce 0`, short waits, 1 s resyncs)
 * under `linkmirror watch`, each run in network namespaces of its own, checking after every
 * step that the target tables are exact and that no foreign route changed. On a failure it
 * prints the seed and a shrunk step list, writes that list to a file and exits 1; replay it with
 * `--replay FILE`. `--crashes N` also runs N kill -9 rounds (tests/reliability/crash_rounds.ts).
 *
 * Needs root (network namespaces). Prints the figures at the end.
 *
 * @module
 */

import { generateSteps, type Step } from "../tests/reliability/host_model.ts";
import {
  failureReport,
  runInFreshNetns,
  type RunStats,
  shrink,
  watchVariant,
} from "../tests/reliability/model_runner.ts";
import { runCrashRounds } from "../tests/reliability/crash_rounds.ts";
import { Netns } from "../tests/kernel/netns.ts";

interface Flags {
  cycles: number;
  seed: number;
  stepsPerRun: number;
  settleMs: number;
  crashes: number;
  replay?: string;
  shrinkReplays: number;
}

function usage(message: string): never {
  console.error(`stress: ${message}`);
  console.error(
    "usage: deno task stress -- [--cycles N] [--seed S] [--steps-per-run N] [--settle-ms MS] " +
      "[--crashes N] [--shrink-replays N] [--replay FILE]",
  );
  Deno.exit(2);
}

function parseFlags(args: readonly string[]): Flags {
  const flags: Flags = {
    cycles: 1000,
    seed: Date.now() % 1_000_000,
    stepsPerRun: 250,
    settleMs: 5000,
    crashes: 0,
    shrinkReplays: 200,
  };
  const numeric: Record<string, keyof Flags> = {
    "--cycles": "cycles",
    "--seed": "seed",
    "--steps-per-run": "stepsPerRun",
    "--settle-ms": "settleMs",
    "--crashes": "crashes",
    "--shrink-replays": "shrinkReplays",
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") continue;
    if (arg === "--replay") {
      flags.replay = args[++i] ?? usage("--replay needs a file");
      continue;
    }
    const key = numeric[arg];
    if (!key) usage(`unknown argument ${arg}`);
    const value = Number(args[++i]);
    if (!Number.isSafeInteger(value) || value < 0) usage(`${arg} needs a non-negative integer`);
    (flags as unknown as Record<string, number>)[key] = value;
  }
  if (flags.stepsPerRun < 1) usage("--steps-per-run must be at least 1");
  return flags;
}

async function replay(file: string, settleMs: number): Promise<number> {
  const { seed, steps } = JSON.parse(await Deno.readTextFile(file)) as {
    seed: number;
    steps: Step[];
  };
  console.error(`replaying ${steps.length} steps of seed ${seed}`);
  const outcome = await runInFreshNetns(steps, {
    settleMs,
    watchArgs: watchVariant(seed),
    progress: (line) => console.error(line),
  });
  if (outcome.ok) {
    console.log(`replay passed: ${JSON.stringify(outcome.stats)}`);
    return 0;
  }
  console.error(`replay failed (${outcome.kind}) at step ${outcome.failedAt}: ${outcome.message}`);
  return 1;
}

async function main(): Promise<number> {
  const flags = parseFlags(Deno.args);
  if (Deno.uid() !== 0) usage("needs root (it creates network namespaces)");
  if (flags.replay) return await replay(flags.replay, flags.settleMs);

  const started = performance.now();
  const totals = { cycles: 0, runs: 0, refused: 0, foreignTouched: 0, overruns: 0, applies: 0 };
  for (let run = 0; totals.cycles < flags.cycles; run++) {
    const seed = flags.seed + run;
    const count = Math.min(flags.stepsPerRun, flags.cycles - totals.cycles);
    const steps = generateSteps(seed, count);
    const watchArgs = watchVariant(seed);
    const outcome = await runInFreshNetns(steps, { settleMs: flags.settleMs, watchArgs });
    if (!outcome.ok) {
      console.error(
        `seed ${seed}: failed (${outcome.kind}) at step ${outcome.failedAt}: ${outcome.message}`,
      );
      console.error("shrinking...");
      const shrunk = await shrink(steps, outcome, {
        settleMs: flags.settleMs,
        watchArgs,
        maxReplays: flags.shrinkReplays,
        budgetMs: 30 * 60_000,
      });
      const file = await Deno.makeTempFile({
        prefix: `linkmirror-stress-${seed}-`,
        suffix: ".json",
      });
      await Deno.writeTextFile(file, JSON.stringify({ seed, steps: shrunk.steps }, null, 1));
      console.error(failureReport(seed, shrunk, file));
      return 1;
    }
    const stats: RunStats = outcome.stats;
    totals.cycles += stats.steps;
    totals.runs++;
    totals.refused += stats.refused;
    totals.foreignTouched += stats.foreignTouched;
    totals.overruns += Number(stats.daemon.overruns ?? 0);
    totals.applies += Number(stats.daemon.applies ?? 0);
    const { time: _t, severity: _s, message: _m, ...counters } = stats.daemon;
    console.error(
      `seed ${seed} (watch ${watchArgs.join(" ") || "defaults"}): ${stats.steps} steps exact, ` +
        `${stats.finalCopies} copies at the end, ` +
        `${stats.refused} commands refused, daemon ${JSON.stringify(counters)}`,
    );
  }
  let crashes = 0;
  if (flags.crashes > 0) {
    const ns = await Netns.create();
    try {
      const report = await runCrashRounds(ns, { rounds: flags.crashes, seed: flags.seed });
      crashes = report.killed;
      const { killPoints: _points, ...summary } = report;
      console.error(`crash rounds: ${JSON.stringify(summary)}`);
    } finally {
      await ns.dispose();
    }
  }
  const seeds = totals.runs > 0 ? ` (seeds ${flags.seed}..${flags.seed + totals.runs - 1})` : "";
  console.log(
    `stress: ${totals.cycles} cycles in ${totals.runs} runs${seeds}, ${totals.applies} applies, ` +
      `${totals.overruns} overruns, ${crashes} crashes survived, ` +
      `${totals.foreignTouched} foreign routes touched, ${totals.refused} commands refused, ` +
      `${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  return 0;
}

if (import.meta.main) Deno.exit(await main());
