/**
 * {@linkcode MirrorConfig}: what every mirroring command works on — the planner's options plus
 * which tables to read and write.
 *
 * @module
 */

import type { PlanOptions } from "../planner/options.ts";

/** The validated configuration of `sync`, `plan`, `flush` and `watch`. */
export interface MirrorConfig extends PlanOptions {
  /**
   * Target table ids, deduplicated, in the order given. With {@linkcode MirrorConfig.autoTable},
   * these are the tables given besides `auto` (possibly none) until `resolveAutoTable`
   * (src/detect/auto_table.ts) adds the detected one.
   */
  tables: number[];
  /** Source table id (254, `main`, by default). */
  source: number;
  /**
   * `--table auto`: the target is the one table that `linkmirror detect` finds capturing traffic
   * ahead of `main`. Resolve with `resolveAutoTable` before planning; absent means false.
   */
  autoTable?: boolean;
}
