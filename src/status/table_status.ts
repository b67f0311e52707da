/**
 * The state of each target table, read off a dry-run plan: the copies linkmirror owns, the ones
 * wanted but missing, the stale ones it would delete, conflicts, and the source routes it does not
 * mirror there with the reason. Pure.
 *
 * @module
 */

import type { Route } from "../netlink/route.ts";
import { compareRoutes } from "../planner/order.ts";
import type { Conflict, Excluded, Plan, Replacement } from "../planner/plan.ts";

/** One target table's state. */
export interface TableStatus {
  /** The table id. */
  table: number;
  /** Every route of linkmirror's protocol in the table (right ones and stale ones). */
  owned: Route[];
  /** Wanted copies that are not there (a sync would add them). */
  missing: Route[];
  /** linkmirror's routes that are no longer wanted (a sync would delete them). */
  stale: Route[];
  /** linkmirror's copies whose source changed an attribute (a sync would replace them). */
  outdated: Replacement[];
  /** Wanted copies held back by routes linkmirror did not make. */
  conflicts: Conflict[];
  /** Source routes not mirrored into this table: source-level reasons and this table's. */
  excluded: Excluded[];
  /** Whether nothing is missing, stale or outdated. */
  inSync: boolean;
}

/**
 * Splits a plan (made with `dryRun`) into the state of each of `tables`, in that order.
 *
 * @example
 * ```ts
 * import { tableStatuses } from "./table_status.ts";
 * const [status] = tableStatuses(
 *   { adds: [], replaces: [], deletes: [], conflicts: [], excluded: [], unchanged: [] },
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
    const outdated = plan.replaces.filter((r) => inTable(r.from));
    return {
      table,
      owned: [...plan.unchanged.filter(inTable), ...outdated.map((r) => r.from), ...stale]
        .sort(compareRoutes),
      missing,
      stale,
      outdated,
      conflicts: plan.conflicts.filter((c) => c.table === table),
      excluded: plan.excluded.filter((e) => e.table === undefined || e.table === table),
      inSync: stale.length === 0 && missing.length === 0 && outdated.length === 0,
    };
  });
}
