/**
 * Scenario 8, latency under churn: while a daemon runs, on-link routes appear in and disappear
 * from `main` one at a time with random pauses of 5–60 ms (a host where containers, DHCP and RAs
 * come and go), each pause counted from the previous change's copy. The probe measures each
 * change's latency from its event in `main` to its copy's event, as in scenario 2 — but without
 * the quiet period before each change, which is where a fixed coalescing window or an apply
 * budget shows.
 *
 * @module
 */

import { CONTENDER_LABELS } from "../contenders.ts";
import type { BenchContext } from "../context.ts";
import { measureLatency } from "./latency.ts";

/** The scenario's name in the table. */
export const CHURN_SCENARIO = "8 churn latency";
/** Shortest pause between changes, ms. */
export const CHURN_MIN_GAP_MS = 5;
/** Longest pause between changes, ms. */
export const CHURN_MAX_GAP_MS = 60;

/** Scenario 8: every daemon contender, `samples` adds and deletes each (2 × samples changes). */
export async function churn(ctx: BenchContext, samples: number): Promise<void> {
  for (const kind of ctx.daemons) {
    ctx.progress(
      `8 churn: ${CONTENDER_LABELS[kind]} (${2 * samples} changes, pauses ${CHURN_MIN_GAP_MS}–` +
        `${CHURN_MAX_GAP_MS} ms)`,
    );
    await measureLatency(ctx, {
      scenario: CHURN_SCENARIO,
      kind,
      contender: kind,
      samples,
      gapMs: CHURN_MIN_GAP_MS,
      maxGapMs: CHURN_MAX_GAP_MS,
    });
  }
}
