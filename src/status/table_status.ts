/**
 * The state of each target table, read off a dry-run plan: the copies linkmirror owns, the ones
 * wanted but missing, the stale ones it would delete, conflicts, and the source routes it does not
 * mirror there with the reason. Pure.
 *
 * @module
 */

import type { Route } from "../netlink/route.ts";
import { compareRoutes } from "../planner/order.ts";
import type { Conflict, Excluded, Plan } from "../planner/plan.ts";

/** One target table's state. */
export interface TableStatus {
  /** The table id. */
  table: number;
  /** Every route of linkmirror's protocol in the table (right ones and stale ones). */
  owned: Route[];
  /** Wanted copies that are not there (a sync would add them). */
  missing: Route[];
  /** linkmirror's routes that are no longer wanted or are out of date (a sync would delete them). */
  stale: Route[];
  /** Wanted copies held back by routes linkmirror did not make. */
  conflicts: Conflict[];
  /** Source routes not mirrored into this table: source-level reasons and this table's. */
  excluded: Excluded[];
  /** Whether nothing is missing and nothing is stale. */
  inSync: boolean;
}

/**
 * Splits a plan (made with `dryRun`) into the state of each of `tables`, in that order.
 *
 * @example
 * ```ts
 * import { tableStatuses } from "./table_status.ts";
 * const [status] = tableStatuses(
 *   { adds: [], deletes: [], conflicts: [], excluded: [], unchanged: [] },
 *   [539098368],
 * );
 * status.inSync; // true
 * ```
 */
export function tableStatuses(plan: Plan, tables: readonly number[]): TableStatus[] {
  return tables.map((table) => {
    const inTable = (route: Route) => route.table === table;
    const stale = plan.deletes.filter(inTable);
    const missing = plan.adds.filter(inTable);
    return {
      table,
      owned: [...plan.unchanged.filter(inTable), ...stale].sort(compareRoutes),
      missing,
      stale,
      conflicts: plan.conflicts.filter((c) => c.table === table),
      excluded: plan.excluded.filter((e) => e.table === undefined || e.table === table),
      inSync: stale.length === 0 && missing.length === 0,
    };
  });
}
