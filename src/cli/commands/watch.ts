/**
 * The handler of `linkmirror watch`: opens the event and request sockets, runs the
 * {@linkcode Watcher} until SIGINT/SIGTERM, optionally flushes, and closes everything.
 *
 * @module
 */

import { WATCH_GROUPS, Watcher } from "../../daemon/watcher.ts";
import { log } from "../../log.ts";
import { Conn } from "../../netlink/conn.ts";
import { NetlinkSocket } from "../../netlink/socket.ts";
import { RtnlClient } from "../../rtnl/client.ts";
import { SdNotifier } from "../../sd_notify.ts";
import { resolveAutoTable } from "../../detect/auto_table.ts";
import { type DaemonState, daemonState, removeState, writeState } from "../../status/state_file.ts";
import { asFailure, type CommandContext, requireRouteChanges } from "./context.ts";
import { EXIT } from "../exit_codes.ts";
import type { WatchOptions } from "../../options/resolve.ts";

/** `linkmirror watch`. */
export async function watch(ctx: CommandContext, opts: WatchOptions): Promise<number> {
  const logger = log("daemon");
  let events: NetlinkSocket | undefined;
  let client: RtnlClient | undefined;
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  let onSignal: (() => void) | undefined;
  const notifier = SdNotifier.fromEnv(Deno.env, {
    onError: (e) => logger.warn("sd_notify failed: {error}", { error: e.message }),
  });
  try {
    // Subscribe before the first dump, so that no change in between is lost.
    events = NetlinkSocket.open({
      groups: [...WATCH_GROUPS],
      receiveBuffer: opts.receiveBufferBytes,
    });
    client = RtnlClient.open();
    requireRouteChanges("watch", client);
    const config = resolveAutoTable(ctx.config, client, ctx.tableNames);
    const startedAt = Date.now();
    let stateWarned = false;
    const saveState = (state: DaemonState) => {
      try {
        writeState(state);
        stateWarned = false;
      } catch (e) {
        // A read-only or missing /run must not stop the daemon: `status` just sees less.
        if (!stateWarned) {
          logger.warn("Cannot write the state file: {error}", {
            error: e instanceof Error ? e.message : String(e),
          });
        }
        stateWarned = true;
      }
    };
    const conn = new Conn(events);
    const socket = events;
    const watcher = new Watcher(config, opts, {
      events: {
        drainEvents: () => conn.drainEvents(),
        wait: (ms) => conn.wait(ms),
        wake: () => socket.wake(),
        get droppedForeign() {
          return conn.droppedForeign;
        },
      },
      client,
      log: logger,
      onReady: () =>
        notifier.ready(`Mirroring table ${config.source} into ${config.tables.join(", ")}`),
      onApply: (counters, last) => {
        saveState(daemonState({ config, startedAt, counters, lastApply: last }));
        if (notifier.enabled) {
          notifier.status(
            `Last apply: ${last.added} added, ${last.deleted} deleted, ${last.conflicts} ` +
              `conflicts; ${counters.applies} applies, ${counters.overruns} overruns`,
          );
        }
      },
      watchdog: notifier.watchdogIntervalMs
        ? { intervalMs: notifier.watchdogIntervalMs, ping: () => notifier.watchdog() }
        : undefined,
    });
    onSignal = () => {
      notifier.stopping();
      watcher.stop();
    };
    for (const s of signals) Deno.addSignalListener(s, onSignal);
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
    try {
      removeState();
    } catch {
      // Nothing to clean up.
    }
    return EXIT.OK;
  } catch (e) {
    throw asFailure("watch", e);
  } finally {
    if (onSignal) { for (const s of signals) Deno.removeSignalListener(s, onSignal); }
    events?.close();
    client?.close();
  }
}
