/**
 * {@linkcode MirrorConfig}: what every mirroring command works on — the planner's options plus
 * which tables to read and write.
 *
 * @module
 */

import type { PlanOptions } from "../planner/options.ts";

/** The validated configuration of `sync`, `plan`, `flush` and `watch`. */
export interface MirrorConfig extends PlanOptions {
  /** Target table ids, deduplicated, in the order given. */
  tables: number[];
  /** Source table id (254, `main`, by default). */
  source: number;
}
