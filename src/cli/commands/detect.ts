/**
 * The handler of `linkmirror detect`: reads the policy rules and the tables they point at, and
 * prints the tables that capture traffic ahead of main (what `--table auto` chooses from).
 *
 * @module
 */

import { readVpnDetection } from "../../detect/auto_table.ts";
import { detectJson, detectText } from "../render_detect.ts";
import { type CommandContext, linkNames, withClient } from "./context.ts";
import { EXIT } from "../exit_codes.ts";
import { palette, stdoutWantsColor } from "../tty.ts";

/** `linkmirror detect [--json]`: always exit 0 when the kernel could be read. */
export function detect(ctx: CommandContext, opts: { json: boolean }): Promise<number> {
  return withClient("detect", (client) => {
    const detection = readVpnDetection(client, ctx.config.families);
    const context = {
      names: ctx.tableNames,
      links: linkNames(client),
      source: ctx.config.source,
    };
    ctx.print(
      opts.json
        ? JSON.stringify(detectJson(detection, context), null, 2) + "\n"
        : detectText(detection, { ...context, colors: palette(stdoutWantsColor()) }),
    );
    return EXIT.OK;
  });
}
