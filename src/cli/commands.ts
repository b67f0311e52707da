/**
 * The handlers of `sync`, `plan` and `flush`: open the kernel connection, run the engine, print
 * the outcome, and turn expected failures into one line and an exit code.
 *
 * @module
 */

import { AutoTableError, resolveAutoTable } from "../detect/auto_table.ts";
import { applyCounts, flushChanges, reconcile } from "../engine/reconcile.ts";
import { log } from "../log.ts";
import { DecodeError, ERRNO, NetlinkError } from "../netlink/errors.ts";
import { MissingTableError, RtnlClient } from "../rtnl/client.ts";
import { EXIT } from "./exit_codes.ts";
import type { CommandContext, Handlers } from "./program.ts";
import { type LinkNames, planJson, planText, resultsText } from "./render.ts";
import { detect } from "./commands_detect.ts";
import { explain } from "./commands_explain.ts";
import { status } from "./commands_status.ts";

/** A failure the user can act on: one line on stderr, exit 1. */
export class CommandFailure extends Error {
  /** Creates the failure with its one-line message. */
  constructor(message: string) {
    super(message);
    this.name = "CommandFailure";
  }
}

/** The one line for a missing `CAP_NET_ADMIN`. */
export function needsNetAdmin(command: string): CommandFailure {
  return new CommandFailure(
    `${command} needs CAP_NET_ADMIN to change routes: run it as root (sudo) or grant the capability`,
  );
}

/**
 * Refuses when the kernel will not let `client` change routes. The kernel is asked, not the
 * process's capability set: root of a user namespace that does not own the network namespace
 * has every capability on paper and still may not change its routes.
 */
export function requireRouteChanges(command: string, client: RtnlClient): void {
  if (!client.canChangeRoutes()) throw needsNetAdmin(command);
}

/** Interface names by index, for display. */
export function linkNames(client: RtnlClient): LinkNames {
  return new Map(client.links().map((l) => [l.index, l.name]));
}

/** Runs `body` with a fresh client, closing it after; maps kernel errors to one line. */
export async function withClient(
  command: string,
  body: (client: RtnlClient) => number | Promise<number>,
): Promise<number> {
  let client: RtnlClient | undefined;
  try {
    client = RtnlClient.open();
    return await body(client);
  } catch (e) {
    throw asFailure(command, e);
  } finally {
    client?.close();
  }
}

/** Turns an expected error into a {@linkcode CommandFailure}; others pass through. */
export function asFailure(command: string, e: unknown): unknown {
  if (e instanceof AutoTableError) return new CommandFailure(e.message);
  if (e instanceof NetlinkError) {
    if (e.errno === ERRNO.EPERM || e.errno === ERRNO.EACCES) return needsNetAdmin(command);
    return new CommandFailure(`${command}: ${e.message}`);
  }
  if (e instanceof MissingTableError) {
    return new CommandFailure(`${command}: --source: ${e.message}`);
  }
  if (e instanceof DecodeError) {
    return new CommandFailure(`${command}: unexpected reply from the kernel: ${e.message}`);
  }
  return e;
}

/** `linkmirror sync`. */
export function sync(ctx: CommandContext): Promise<number> {
  return withClient("sync", (client) => {
    requireRouteChanges("sync", client);
    const started = performance.now();
    const config = resolveAutoTable(ctx.config, client, ctx.tableNames);
    const { plan, results } = reconcile(client, config);
    const links = linkNames(client);
    const counts = applyCounts(plan, results);
    ctx.print(resultsText(results, links));
    for (const c of plan.conflicts) {
      log().warn("Conflict: {dst} in table {table} is held by a route linkmirror did not make", {
        dst: `${c.wanted.dst}/${c.wanted.dstLen}`,
        table: c.table,
      });
    }
    const failedResults = results.filter((r) => r.error);
    for (const r of failedResults) {
      log().error("Change failed: {error}", { error: r.error?.message, op: r.change.op });
    }
    log().info("Sync done", {
      ...counts,
      tables: config.tables,
      durationMs: Math.round((performance.now() - started) * 100) / 100,
    });
    ctx.print(
      `sync: ${counts.added} added, ${counts.deleted} deleted, ${counts.failed} failed, ` +
        `${counts.conflicts} conflicts, ${counts.unchanged} unchanged\n`,
    );
    if (failedResults.some((r) => r.error?.errno === ERRNO.EPERM)) throw needsNetAdmin("sync");
    return counts.failed === 0 ? EXIT.OK : EXIT.FAILURE;
  });
}

/** `linkmirror plan`. */
export function plan(ctx: CommandContext, opts: { json: boolean }): Promise<number> {
  return withClient("plan", (client) => {
    const config = resolveAutoTable(ctx.config, client, ctx.tableNames);
    const { plan } = reconcile(client, config, { dryRun: true });
    const links = linkNames(client);
    if (opts.json) {
      const doc = planJson(plan, { ...config, links });
      ctx.print(JSON.stringify(doc, null, 2) + "\n");
    } else {
      ctx.print(planText(plan, { tables: config.tables, links, verbose: true }));
    }
    return EXIT.OK;
  });
}

/** `linkmirror flush`. */
export function flush(ctx: CommandContext): Promise<number> {
  return withClient("flush", (client) => {
    requireRouteChanges("flush", client);
    const config = resolveAutoTable(ctx.config, client, ctx.tableNames);
    const results = client.apply(flushChanges(client, config));
    const links = linkNames(client);
    ctx.print(resultsText(results, links));
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

/** The handlers of the one-shot commands, with `watch` supplied by the daemon module. */
export const oneShotHandlers: Omit<Handlers, "watch"> = {
  sync,
  plan,
  flush,
  detect,
  status,
  explain,
};
