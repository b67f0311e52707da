/**
 * `linkmirror plan`: what `sync` would change, as text or one JSON document; changes nothing.
 *
 * @module
 */

import { resolveAutoTable } from "../../detect/auto_table.ts";
import { reconcile } from "../../engine/reconcile.ts";
import { EXIT } from "../exit_codes.ts";
import { loadRouteNames } from "../../rt_names.ts";
import { planJson, planText } from "../render.ts";
import { type CommandContext, linkNames, withClient } from "./context.ts";

/** `linkmirror plan`. */
export function plan(ctx: CommandContext, opts: { json: boolean }): Promise<number> {
  return withClient("plan", (client) => {
    const config = resolveAutoTable(ctx.config, client, ctx.tableNames);
    const { plan } = reconcile(client, config, { dryRun: true });
    const links = linkNames(client);
    const routeNames = loadRouteNames();
    if (opts.json) {
      const doc = planJson(plan, { ...config, links, routeNames });
      ctx.print(JSON.stringify(doc, null, 2) + "\n");
    } else {
      ctx.print(planText(plan, { tables: config.tables, links, verbose: true, routeNames }));
    }
    return EXIT.OK;
  });
}
