/**
 * `linkmirror flush`: delete every route linkmirror owns in the target tables.
 *
 * @module
 */

import { resolveAutoTable } from "../../detect/auto_table.ts";
import { flushChanges } from "../../engine/reconcile.ts";
import { log } from "../../log.ts";
import { EXIT } from "../exit_codes.ts";
import { loadRouteNames } from "../../rt_names.ts";
import { resultsText } from "../render.ts";
import { type CommandContext, linkNames, requireRouteChanges, withClient } from "./context.ts";

/** `linkmirror flush`. */
export function flush(ctx: CommandContext): Promise<number> {
  return withClient("flush", (client) => {
    requireRouteChanges("flush", client);
    const config = resolveAutoTable(ctx.config, client, ctx.tableNames);
    const results = client.apply(flushChanges(client, config));
    const links = linkNames(client);
    ctx.print(resultsText(results, links, loadRouteNames()));
    const failed = results.filter((r) => r.error).length;
    log().info("Flush done", {
      deleted: results.length - failed,
      failed,
      tables: config.tables,
    });
    ctx.print(`flush: ${results.length - failed} deleted, ${failed} failed\n`);
    return failed === 0 ? EXIT.OK : EXIT.FAILURE;
  });
}
