/**
 * Crashes: `kill -9` of `linkmirror sync` and `linkmirror watch` at random points of an apply
 * (20 rounds here; `deno task stress -- --crashes N` runs more). After each kill, nothing that is
 * not linkmirror's has changed, and a restart converges exactly: no stale copy, no duplicate.
 */

import { equal, ok } from "node:assert/strict";
import { kernelTest } from "../kernel/netns.ts";
import { runCrashRounds } from "./crash_rounds.ts";

const ROUNDS = 20;

kernelTest(
  `crashes: kill -9 of sync and watch mid-apply, ${ROUNDS} rounds, restarts converge exactly`,
  async (ns) => {
    const report = await runCrashRounds(ns, { rounds: ROUNDS, seed: 20251126 });
    equal(report.rounds, ROUNDS);
    equal(report.exactRestarts, ROUNDS);
    equal(report.foreignTouched, 0);
    // Most rounds really kill mid-apply (a few may finish first: the kernel is fast).
    ok(report.killed >= ROUNDS / 2, JSON.stringify(report));
    ok(report.byKind.sync > 0 && report.byKind["watch-start"] > 0, JSON.stringify(report));
    ok(report.byKind["watch-later"] > 0, JSON.stringify(report));
    console.log(
      `crashes: ${report.killed} of ${report.rounds} rounds killed mid-apply ` +
        `(${JSON.stringify(report.byKind)}), ${report.exactRestarts} restarts exact, ` +
        `foreign routes touched: ${report.foreignTouched}; kill points ${
          report.killPoints.join(" ")
        }`,
    );
  },
  { timeoutMs: 120_000 },
);
