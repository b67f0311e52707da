/**
 * What every scenario gets: the run's mode and repetitions, how to start linkmirror, which daemon
 * contenders are available, where results go, and a progress line printer.
 *
 * @module
 */

import type { DaemonKind, LinkmirrorCommand } from "./contenders.ts";
import type { ResultSet } from "./results.ts";

/** How much work a run does. */
export type BenchMode = "full" | "quick" | "smoke";

/** The shared state of a benchmark run. */
export interface BenchContext {
  /** `full`, `quick` (fewer repetitions and samples) or `smoke` (tiny, seconds). */
  mode: BenchMode;
  /** Repetitions of each whole-run measurement. */
  reps: number;
  /** How to start linkmirror. */
  linkmirror: LinkmirrorCommand;
  /** A second linkmirror (`--bin-b`) measured beside the first: before/after a change. */
  candidate?: LinkmirrorCommand;
  /** The `src/` directory whose engine scenario 6 times (`--src`); this checkout's if absent. */
  engineSrc?: string;
  /** A second `src/` directory (`--src-b`) whose engine scenario 6 times beside this one's. */
  candidateSrc?: string;
  /** linkmirror as the built artifact (a bundle run by deno), if one could be made. */
  artifact?: LinkmirrorCommand;
  /** Whether scenario 1 also times the one-shot floor (`bench/sync_floor.ts`); not in smoke runs. */
  withFloor: boolean;
  /** The daemon contenders available on this machine (BIRD may be missing). */
  daemons: DaemonKind[];
  /** Where measurements go. */
  results: ResultSet;
  /** Prints one progress line on stderr. */
  progress(message: string): void;
}
