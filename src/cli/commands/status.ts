/**
 * The handler of `linkmirror status`: a dry-run plan of every target table (what linkmirror owns,
 * what is missing or stale, conflicts, exclusions) and the daemon's state file. Without mirroring
 * options it reports on the configuration of the running daemon.
 *
 * @module
 */

import { loadRouteNames } from "../../rt_names.ts";
import { readVpnDetection, resolveAutoTable } from "../../detect/auto_table.ts";
import type { MirrorConfig } from "../../engine/config.ts";
import { reconcile } from "../../engine/reconcile.ts";
import { restoreConfig } from "../../options/persist.ts";
import { daemonSummary } from "../../status/daemon_summary.ts";
import {
  type DaemonState,
  processAlive,
  readState,
  StateFileError,
  stateFilePath,
} from "../../status/state_file.ts";
import { tableStatuses } from "../../status/table_status.ts";
import { type CommandContext, linkNames, withClient } from "./context.ts";
import { EXIT } from "../exit_codes.ts";
import { statusJson, statusText } from "../render_status.ts";
import { palette, stdoutWantsColor } from "../tty.ts";

/** The options `status` adds to the mirroring options. */
export interface StatusOptions {
  /** Print one JSON document (`--json`). */
  json: boolean;
  /** The daemon's state file (`--state-file`); undefined: the default. */
  stateFile?: string;
  /**
   * Whether any mirroring option was given (command line or environment). Without one, `status`
   * reports on the configuration of the running daemon, read from its state file.
   */
  configGiven: boolean;
}

/**
 * The configuration a daemon's state file records, as a {@linkcode MirrorConfig}.
 *
 * @example
 * ```ts ignore
 * configFromState(readState()!).tables; // [539098368]
 * ```
 */
export function configFromState(state: DaemonState): MirrorConfig {
  return restoreConfig(state.tables, state.config as unknown as Record<string, unknown>);
}

/** `linkmirror status [--json]`: exit 0 when the kernel could be read, in sync or not. */
export function status(ctx: CommandContext, opts: StatusOptions): Promise<number> {
  const path = opts.stateFile ?? stateFilePath();
  let state: DaemonState | undefined;
  let stateFileError: string | null = null;
  try {
    state = readState(path);
  } catch (e) {
    if (!(e instanceof StateFileError)) throw e;
    stateFileError = e.message;
  }
  const alive = state ? processAlive(state.pid) : undefined;
  return withClient("status", (client) => {
    // readState checked the recorded configuration with the option table's parsers.
    const config: MirrorConfig = state && alive !== false && !opts.configGiven
      ? configFromState(state)
      : resolveAutoTable(ctx.config, client, ctx.tableNames);
    const { plan } = reconcile(client, config, { dryRun: true });
    const detection = readVpnDetection(client, config.families);
    const context = {
      source: config.source,
      protocol: config.protocol,
      includeGatewayRoutes: config.includeGatewayRoutes === true,
      names: ctx.tableNames,
      links: linkNames(client),
      routeNames: loadRouteNames(),
      detection,
      daemon: state ? daemonSummary(state, { now: Date.now(), alive }) : null,
      stateFile: path,
      stateFileError,
    };
    const tables = tableStatuses(plan, config.tables);
    ctx.print(
      opts.json
        ? JSON.stringify(statusJson(tables, context), null, 2) + "\n"
        : statusText(tables, { ...context, colors: palette(stdoutWantsColor()) }),
    );
    return EXIT.OK;
  });
}
