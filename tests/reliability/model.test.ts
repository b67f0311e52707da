/**
 * Model-based random testing, bounded for CI: seeded runs of host actions under `linkmirror
 * watch` with two target tables (Firezone's and wg-quick's), each checked against the
 * independent oracle after every step, every route linkmirror does not own checked untouched.
 * A failure prints the seed and a shrunk step list, and writes it to a file for
 * `deno task stress -- --replay FILE`.
 * `LINKMIRROR_STRESS_SEED=S` runs seed S instead of the fixed ones; the long form is
 * `deno task stress -- --cycles N --seed S`.
 */

import { ok } from "node:assert/strict";
import { kernelTest } from "../kernel/netns.ts";
import { generateSteps } from "./host_model.ts";
import { failureReport, runSteps, shrink, watchVariant } from "./model_runner.ts";

const STEPS_PER_SEED = 200;
/** Seeds whose `watch` options are the defaults and `--coalesce 0` ({@linkcode watchVariant}). */
const fixedSeeds = [20251124, 20251125];
const envSeed = Deno.env.get("LINKMIRROR_STRESS_SEED");
const seeds = envSeed ? [Number(envSeed)] : fixedSeeds;

for (const seed of seeds) {
  kernelTest(
    `model-based: ${STEPS_PER_SEED} random host actions (seed ${seed}, watch ${
      watchVariant(seed).join(" ") || "defaults"
    }) keep the target tables exact`,
    async (ns) => {
      const steps = generateSteps(seed, STEPS_PER_SEED);
      const watchArgs = watchVariant(seed);
      const outcome = await runSteps(ns, steps, { watchArgs });
      if (!outcome.ok) {
        // Shrink within a bounded budget so that CI still ends; stress shrinks further.
        const shrunk = await shrink(steps, outcome, {
          watchArgs,
          maxReplays: 12,
          budgetMs: 60_000,
        });
        const file = await Deno.makeTempFile({
          prefix: `linkmirror-model-${seed}-`,
          suffix: ".json",
        });
        await Deno.writeTextFile(file, JSON.stringify({ seed, steps: shrunk.steps }));
        throw new Error(failureReport(seed, shrunk, file));
      }
      const { stats } = outcome;
      ok(stats.steps === STEPS_PER_SEED);
      ok(stats.foreignTouched === 0);
      // The run really exercised the daemon: it applied and nothing was malformed or lost.
      ok(Number(stats.daemon.applies) > 20, JSON.stringify(stats.daemon));
      ok(stats.daemon.malformed === 0, JSON.stringify(stats.daemon));
      console.log(
        `seed ${seed}: ${stats.steps} steps exact, ${stats.commands} commands ` +
          `(${stats.refused} refused by the kernel), foreign routes touched: ${stats.foreignTouched}, ` +
          `daemon: applies ${stats.daemon.applies}, events ${stats.daemon.events}, ` +
          `resyncs ${stats.daemon.resyncs}, failed applies ${stats.daemon.failedApplies}`,
      );
    },
    { timeoutMs: 170_000 },
  );
}
