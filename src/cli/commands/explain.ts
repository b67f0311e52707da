/**
 * The handler of `linkmirror explain ADDRESS`: resolves `--table auto`, asks the kernel how it
 * routes the address (with and without the VPN's fwmark) and prints the explanation.
 *
 * @module
 */

import { loadRouteNames } from "../../rt_names.ts";
import { readVpnDetection, resolveAutoTable } from "../../detect/auto_table.ts";
import { explainAddress } from "../../explain/explain.ts";
import { parseIp } from "../../netlink/ip.ts";
import { type CommandContext, linkNames, withClient } from "./context.ts";
import { EXIT } from "../exit_codes.ts";

import { explainJson, explainText } from "../render_explain.ts";
import { palette, stdoutWantsColor } from "../tty.ts";

/** The options of `explain`. */
export interface ExplainOptions {
  /** The destination to explain, validated (IPv4 or IPv6). */
  address: string;
  /** Print one JSON document (`--json`). */
  json: boolean;
}

/** `linkmirror explain ADDRESS [--json]`: exit 0 whatever the verdict. */
export function explain(ctx: CommandContext, opts: ExplainOptions): Promise<number> {
  return withClient("explain", (client) => {
    const config = resolveAutoTable(ctx.config, client, ctx.tableNames);
    const detection = readVpnDetection(client, [parseIp(opts.address).family]);
    const explanation = explainAddress(client, opts.address, config, detection);
    const context = {
      names: ctx.tableNames,
      links: linkNames(client),
      routeNames: loadRouteNames(),
    };
    ctx.print(
      opts.json
        ? JSON.stringify(explainJson(explanation, context), null, 2) + "\n"
        : explainText(explanation, { ...context, colors: palette(stdoutWantsColor()) }),
    );
    return EXIT.OK;
  });
}
