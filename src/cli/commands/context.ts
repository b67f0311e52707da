/**
 * What every command handler shares: the {@linkcode CommandContext} it is called with, a kernel
 * connection opened and closed around its work ({@linkcode withClient}), interface names for
 * display, and expected errors turned into one {@linkcode CommandFailure} line.
 *
 * @module
 */

import { AutoTableError } from "../../detect/auto_table.ts";
import type { MirrorConfig } from "../../engine/config.ts";
import { DecodeError, ERRNO, NetlinkError } from "../../netlink/errors.ts";
import { MissingTableError, RtnlClient } from "../../rtnl/client.ts";
import type { StateLocation } from "../../status/state_file.ts";
import { CommandFailure } from "../exit_codes.ts";
import type { LinkNames } from "../render.ts";

export { CommandFailure };

/** What a command handler gets: the validated configuration and where to print. */
export interface CommandContext {
  /** Validated mirroring options. */
  config: MirrorConfig;
  /** Where the daemons' state files are (`watch` writes one, `status` reads them). */
  state: StateLocation;
  /** Table names from rt_tables, for display. */
  tableNames: ReadonlyMap<string, number>;
  /** Writes to stdout. */
  print: (text: string) => void;
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
