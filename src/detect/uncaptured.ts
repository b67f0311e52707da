/**
 * Target tables that no traffic reaches: a table no rule ahead of main's sends packets to (or one
 * without a default route, which captures only some destinations) gets copies that change
 * nothing. `sync` warns about them in one line each, as `status` shows them; the VPN is then not
 * connected, or uses another table.
 *
 * @example
 * ```ts ignore
 * import { readVpnDetection } from "./auto_table.ts";
 * import { uncapturedTables } from "./uncaptured.ts";
 * uncapturedTables(readVpnDetection(client), [1234]);
 * // [{ table: 1234, why: "no rule before main's sends traffic to it" }]
 * ```
 *
 * @module
 */

import { IGNORED_REASONS, type VpnDetection } from "./vpn_tables.ts";

/** A target table that captures no traffic, and why. */
export interface UncapturedTable {
  /** The table id. */
  table: number;
  /** Why no traffic reaches it, in words. */
  why: string;
}

/** Which of `tables` are not tables the detection finds capturing traffic ahead of main. */
export function uncapturedTables(
  detection: VpnDetection,
  tables: readonly number[],
): UncapturedTable[] {
  const captured = new Set(detection.candidates.map((c) => c.table));
  return tables.filter((table) => !captured.has(table)).map((table) => {
    const ignored = detection.ignored.find((t) => t.table === table);
    return {
      table,
      why: ignored ? IGNORED_REASONS[ignored.reason] : "no rule before main's sends traffic to it",
    };
  });
}
