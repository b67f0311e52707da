/**
 * The handler of `linkmirror watch`: takes the table locks, subscribes to events, runs the
 * {@linkcode Watcher} until SIGINT/SIGTERM (SIGHUP: a full resync), optionally flushes, and
 * releases everything.
 *
 * @module
 */

import { TableLockedError, TableLocks } from "../../daemon/table_lock.ts";
import { WATCH_GROUPS, Watcher } from "../../daemon/watcher.ts";
import { log } from "../../log.ts";
import { RtnlClient } from "../../rtnl/client.ts";
import type { Subscription } from "../../rtnl/subscription.ts";
import { SdNotifier } from "../../sd_notify.ts";
import { resolveAutoTable } from "../../detect/auto_table.ts";
import {
  type DaemonState,
  daemonState,
  daemonStatePath,
  removeState,
  writeStateAsync,
} from "../../status/state_file.ts";
import { StateWriter } from "../../status/state_writer.ts";
import { asFailure, type CommandContext, requireRouteChanges } from "./context.ts";
import { CommandFailure, EXIT } from "../exit_codes.ts";
import type { WatchOptions } from "../../options/resolve.ts";

/** `linkmirror watch`. */
export async function watch(ctx: CommandContext, opts: WatchOptions): Promise<number> {
  const logger = log("daemon");
  let events: Subscription | undefined;
  let client: RtnlClient | undefined;
  let locks: TableLocks | undefined;
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  let onSignal: (() => void) | undefined;
  let onHangup: (() => void) | undefined;
  const notifier = SdNotifier.fromEnv(Deno.env, {
    onError: (e) => logger.warn("sd_notify failed: {error}", { error: e.message }),
  });
  try {
    client = RtnlClient.open();
    requireRouteChanges("watch", client);
    const config = resolveAutoTable(ctx.config, client, ctx.tableNames);
    // One daemon per target table in this network namespace: lock before anything is read.
    locks = TableLocks.acquire(config.tables);
    // Subscribe before the first dump, so that no change in between is lost.
    // Our own IPv4 changes are not read back: the daemon applies them to its view itself.
    events = client.subscribe(WATCH_GROUPS, {
      receiveBuffer: opts.receiveBufferBytes,
      dropOwnIpv4Routes: true,
    });
    const statePath = daemonStatePath(config.tables, ctx.state);
    const startedAt = Date.now();
    let stateWarned = false;
    // Written in the background: a slow file system never holds up the event loop.
    const stateWriter = new StateWriter(
      statePath,
      (e) => {
        // A read-only or missing /run must not stop the daemon: `status` just sees less.
        if (!stateWarned) {
          logger.warn("Cannot write the state file: {error}", {
            error: e instanceof Error ? e.message : String(e),
          });
        }
        stateWarned = true;
      },
      async (state, path) => {
        await writeStateAsync(state, path);
        stateWarned = false;
      },
    );
    const saveState = (state: DaemonState) => stateWriter.save(state);
    const heldLocks = locks;
    let lastAccept = -Infinity;
    const watcher = new Watcher(config, opts, {
      events,
      client,
      log: logger,
      onReady: () =>
        notifier.ready(`Mirroring table ${config.source} into ${config.tables.join(", ")}`),
      onApply: (counters, last) => {
        heldLocks.acceptPending();
        saveState(daemonState({ config, startedAt, counters, lastApply: last }));
        if (notifier.enabled) {
          notifier.status(
            `Last apply: ${last.added} added, ${last.replaced} replaced, ${last.deleted} deleted, ` +
              `${last.conflicts} ` +
              `conflicts; ${counters.applies} applies, ${counters.overruns} overruns`,
          );
        }
      },
      onTick: () => {
        // Probes of would-be second daemons: answered now and then, not on every turn.
        const now = performance.now();
        if (now - lastAccept < 1000) return;
        lastAccept = now;
        heldLocks.acceptPending();
      },
      watchdog: notifier.watchdogIntervalMs
        ? { intervalMs: notifier.watchdogIntervalMs, ping: () => notifier.watchdog() }
        : undefined,
    });
    onSignal = () => {
      notifier.stopping();
      watcher.stop();
    };
    onHangup = () => watcher.resync("SIGHUP");
    for (const s of signals) Deno.addSignalListener(s, onSignal);
    Deno.addSignalListener("SIGHUP", onHangup);
    logger.debug("Event socket open", { receiveBufferBytes: events.receiveBufferBytes });
    await watcher.run();
    if (opts.flushOnExit) {
      const results = watcher.flush();
      logger.info("Flushed on exit", {
        deleted: results.filter((r) => !r.error).length,
        failed: results.filter((r) => r.error).length,
      });
    }
    logger.info("Stopped", { ...watcher.counters });
    await stateWriter.settle();
    try {
      removeState(statePath);
    } catch {
      // Nothing to clean up.
    }
    return EXIT.OK;
  } catch (e) {
    if (e instanceof TableLockedError) throw new CommandFailure(`watch: ${e.message}`);
    throw asFailure("watch", e);
  } finally {
    if (onSignal) { for (const s of signals) Deno.removeSignalListener(s, onSignal); }
    if (onHangup) Deno.removeSignalListener("SIGHUP", onHangup);
    events?.close();
    client?.close();
    locks?.release();
  }
}
