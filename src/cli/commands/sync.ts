/**
 * `linkmirror sync`: reconcile the target tables once, print what changed, log conflicts and
 * failures; warn (and still mirror) when no traffic reaches a target table. Its closing log line
 * (`Sync done`) says where the time went: `startupMs` (from the runtime's start to the command's
 * work: loading linkmirror, opening the socket, the permission check), `detectMs` (the table and
 * VPN detection), `readMs`, `planMs`, `applyMs` (see `ReconcileTimings`), `printMs` (the
 * listing) and `durationMs` (the command's own time, all but `startupMs`).
 *
 * @module
 */

import { readVpnDetection, resolveAutoTable } from "../../detect/auto_table.ts";
import { uncapturedTables } from "../../detect/uncaptured.ts";
import {
  applyCounts,
  logConflict,
  logOutsideLocalSpace,
  reconcile,
} from "../../engine/reconcile.ts";
import { log, logMs } from "../../log.ts";
import { ERRNO } from "../../netlink/errors.ts";
import { CachedReads } from "../../rtnl/cached_reads.ts";
import { loadRouteNames } from "../../rt_names.ts";
import { EXIT } from "../exit_codes.ts";
import { resultsText } from "../render.ts";
import { type CommandContext, needsNetAdmin, requireRouteChanges, withClient } from "./context.ts";

/** `linkmirror sync`. */
export function sync(ctx: CommandContext): Promise<number> {
  return withClient("sync", (client) => {
    requireRouteChanges("sync", client);
    // Milliseconds since the runtime's time origin: loading linkmirror, opening the socket and
    // checking the permission.
    const started = performance.now();
    // The detection dumps the target tables too: the plan reads them (and the links) from it.
    const store = new CachedReads(client);
    const config = resolveAutoTable(ctx.config, store, ctx.tableNames);
    for (const { table, why } of uncapturedTables(readVpnDetection(store), config.tables)) {
      log().warn(
        "Table {table} gets no traffic ({why}): its copies change nothing until the VPN uses it; " +
          "is the VPN connected? `linkmirror detect` lists the tables that capture traffic",
        { table, why },
      );
    }
    const detected = performance.now();
    const { plan, results, links: read, timings } = reconcile(store, config);
    // The device names of the links the plan was made from: a second dump would only cost time.
    const links = new Map(read.map((l) => [l.index, l.name]));
    const counts = applyCounts(plan, results);
    const printing = performance.now();
    ctx.print(resultsText(results, links, loadRouteNames()));
    const printed = performance.now();
    for (const c of plan.conflicts) logConflict(log(), c);
    for (const e of plan.excluded) {
      if (e.reason === "outside-local-space") logOutsideLocalSpace(log(), e);
    }
    const failedResults = counts.failed === 0 ? [] : results.filter((r) => r.error);
    for (const r of failedResults) {
      log().error("Change failed: {error}", { error: r.error?.message, op: r.change.op });
    }
    log().info("Sync done", {
      ...counts,
      tables: config.tables,
      durationMs: logMs(performance.now() - started),
      startupMs: logMs(started),
      detectMs: logMs(detected - started),
      readMs: logMs(timings.readMs),
      planMs: logMs(timings.planMs),
      applyMs: logMs(timings.applyMs),
      printMs: logMs(printed - printing),
    });
    ctx.print(
      `sync: ${counts.added} added, ${counts.replaced} replaced, ${counts.deleted} deleted, ` +
        `${counts.failed} failed, ` +
        `${counts.conflicts} conflicts, ${counts.unchanged} unchanged\n`,
    );
    if (failedResults.some((r) => r.error?.errno === ERRNO.EPERM)) throw needsNetAdmin("sync");
    return counts.failed === 0 ? EXIT.OK : EXIT.FAILURE;
  });
}
