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
  daemonStatePath,
  processAlive,
  readState,
  readStates,
  type StateEntry,
  StateFileError,
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
  return restoreConfig(state.tables, state.config);
}

/** The state files `status` looks at: the one named, or every one in the state directory. */
function stateEntries(explicit: string | undefined, dir: string): StateEntry[] {
  const read = (path: string): StateEntry[] => {
    try {
      const state = readState(path);
      return state ? [{ path, state }] : [];
    } catch (e) {
      if (!(e instanceof StateFileError)) throw e;
      return [{ path, error: e.message }];
    }
  };
  if (explicit !== undefined) return read(explicit);
  try {
    return readStates(dir);
  } catch (e) {
    if (!(e instanceof StateFileError)) throw e;
    return [{ path: dir, error: e.message }];
  }
}

/** The entry of the daemon guarding `table`: a running one first, then its file by name. */
function entryFor(
  entries: readonly StateEntry[],
  table: number,
  alive: (e: StateEntry) => boolean | undefined,
): StateEntry | undefined {
  const guarding = entries.filter((e) => e.state?.tables.includes(table));
  return guarding.find((e) => alive(e) !== false) ?? guarding[0] ??
    entries.find((e) => e.path.endsWith(`/table-${table}.json`));
}

/**
 * `linkmirror status [--json]`: exit 0 when the kernel could be read, in sync or not. With several
 * daemons (one per table), it reports on the one guarding the table it shows, and lists all.
 */
export function status(ctx: CommandContext, opts: StatusOptions): Promise<number> {
  const explicit = opts.stateFile;
  const entries = stateEntries(explicit, ctx.state.dir);
  const liveness = new Map<string, boolean | undefined>();
  for (const e of entries) if (e.state) liveness.set(e.path, processAlive(e.state.pid));
  const alive = (e: StateEntry) => liveness.get(e.path);
  const withState = entries.filter((e) => e.state !== undefined);
  const running = withState.filter((e) => alive(e) !== false);
  // Without mirroring options, one daemon's configuration is the one to report on.
  const sole = explicit !== undefined
    ? entries[0]
    : running.length === 1
    ? running[0]
    : running.length === 0 && entries.length === 1
    ? entries[0]
    : undefined;
  return withClient("status", (client) => {
    const fromState = sole?.state && alive(sole) !== false && !opts.configGiven
      ? sole.state
      : undefined;
    // readState checked the recorded configuration with the option table's parsers.
    const config: MirrorConfig = fromState
      ? configFromState(fromState)
      : resolveAutoTable(ctx.config, client, ctx.tableNames);
    const chosen = explicit !== undefined
      ? entries[0]
      : fromState
      ? sole
      : entryFor(entries, config.tables[0], alive);
    const state = chosen?.state;
    const { plan } = reconcile(client, config, { dryRun: true });
    const detection = readVpnDetection(client, config.families);
    const now = Date.now();
    const context = {
      source: config.source,
      protocol: config.protocol,
      includeGatewayRoutes: config.includeGatewayRoutes === true,
      names: ctx.tableNames,
      links: linkNames(client),
      routeNames: loadRouteNames(),
      detection,
      daemon: state ? daemonSummary(state, { now, alive: alive(chosen!) }) : null,
      stateFile: chosen?.path ?? explicit ?? daemonStatePath(config.tables, ctx.state),
      stateFileError: chosen?.error ?? null,
      daemons: withState.map((e) => ({
        ...daemonSummary(e.state!, { now, alive: alive(e) }),
        stateFile: e.path,
      })),
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
