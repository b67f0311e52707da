/**
 * What `status` says about the daemon, from its state file: running or not, uptime, how long ago
 * it last applied and wrote the file, its counters. Pure.
 *
 * @module
 */

import type { DaemonCounters, DaemonState, LastApply } from "./state_file.ts";

/** The daemon as `status` reports it. */
export interface DaemonSummary {
  /**
   * Whether the process named in the state file exists; `null` when it cannot be told. A state
   * file whose process is gone is left over from a daemon that did not exit cleanly.
   */
  running: boolean | null;
  /** Its process id. */
  pid: number;
  /** When it started, RFC 3339. */
  startedAt: string;
  /** Seconds since it started (while running). */
  uptimeS: number;
  /** When it last wrote the state file, RFC 3339. */
  updatedAt: string;
  /** Seconds since it last wrote the state file. */
  updatedAgoS: number;
  /** Its last apply, or null. */
  lastApply: (LastApply & { agoS: number }) | null;
  /** Its counters. */
  counters: DaemonCounters;
  /** Target tables it guards. */
  tables: number[];
}

function secondsBetween(from: string, now: number): number {
  return Math.max(0, Math.round((now - Date.parse(from)) / 100) / 10);
}

/**
 * Summarises a state document at time `now` (ms since the epoch); `alive` says whether its
 * process exists (`processAlive`).
 *
 * @example
 * ```ts
 * import { daemonSummary } from "./daemon_summary.ts";
 * import type { DaemonState } from "./state_file.ts";
 * const state: DaemonState = { version: 1, pid: 42, startedAt: "1970-01-01T00:00:00.000Z",
 *   updatedAt: "1970-01-01T00:00:05.000Z", tables: [51820], lastApply: null,
 *   config: { source: 254, protocol: 77, families: ["inet"], exclude: [], excludeDevices: [],
 *     includeGatewayRoutes: false },
 *   counters: { events: 0, applies: 0, overruns: 0, conflicts: 0, droppedForeign: 0,
 *     failedApplies: 0 } };
 * daemonSummary(state, { now: 60_000, alive: true }).uptimeS; // 60
 * ```
 */
export function daemonSummary(
  state: DaemonState,
  options: { now: number; alive: boolean | undefined },
): DaemonSummary {
  return {
    running: options.alive ?? null,
    pid: state.pid,
    startedAt: state.startedAt,
    uptimeS: secondsBetween(state.startedAt, options.now),
    updatedAt: state.updatedAt,
    updatedAgoS: secondsBetween(state.updatedAt, options.now),
    lastApply: state.lastApply
      ? { ...state.lastApply, agoS: secondsBetween(state.lastApply.at, options.now) }
      : null,
    counters: { ...state.counters },
    tables: [...state.tables],
  };
}

/**
 * A duration for people: `42s`, `3m 12s`, `5h 02m`, `2d 03h`.
 *
 * @example
 * ```ts
 * import { durationText } from "./daemon_summary.ts";
 * durationText(3725); // "1h 02m"
 * ```
 */
export function durationText(seconds: number): string {
  const s = Math.floor(seconds);
  if (s < 60) return `${seconds < 10 ? Math.round(seconds * 10) / 10 : s}s`;
  const pad = (n: number) => String(n).padStart(2, "0");
  if (s < 3600) return `${Math.floor(s / 60)}m ${pad(s % 60)}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${pad(Math.floor(s / 60) % 60)}m`;
  return `${Math.floor(s / 86400)}d ${pad(Math.floor(s / 3600) % 24)}h`;
}
