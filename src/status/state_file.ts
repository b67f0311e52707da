/**
 * The daemon's state file: what `watch` is doing — since when, with which configuration, its last
 * apply and its counters — as one JSON document under `/run/linkmirror/`, replaced atomically
 * (write a temporary file in the same directory, then rename) so that `linkmirror status` never
 * reads half a file. No socket server: the file is the interface.
 *
 * One file per daemon, named after its (first) target table — `table-<id>.json` — since one daemon
 * per table runs (the table lock). Only its owner removes it, on a clean exit.
 * A {@linkcode StateLocation} (from the option table's `--state-file` and `--state-dir`, or their
 * variables) names one file instead, or moves the directory.
 *
 * The document ({@linkcode DaemonState}, `version` 1) is stable: fields may be added, none
 * removed or changed in meaning without a new version.
 *
 * @module
 */

import type { WatchCounters } from "../daemon/watcher.ts";
import type { MirrorConfig } from "../engine/config.ts";
import type { ApplyRecord } from "../engine/reconcile.ts";
import {
  persistConfig,
  PERSISTED,
  type PersistedConfig,
  restoreConfig,
} from "../options/persist.ts";
import { DEFAULT_STATE_DIR } from "../options/table.ts";
import { UsageError } from "../options/values.ts";
import { ERRNO } from "../netlink/errors.ts";
import { daemonLibc, lastErrno } from "../sys/libc.ts";

/** The state file of versions that ran one daemon only; `status` still reads it. */
export const STATE_FILE = `${DEFAULT_STATE_DIR}/state.json`;
/** The version of the document's shape. */
export const STATE_VERSION = 1;

/** The counters every version of the file has. */
const COUNTERS = [
  "events",
  "applies",
  "overruns",
  "conflicts",
  "droppedForeign",
  "failedApplies",
] as const satisfies readonly (keyof WatchCounters)[];

/**
 * The daemon's counters since it started, as the file keeps them: the watcher's
 * {@linkcode WatchCounters}, of which files of earlier versions may lack all but
 * {@linkcode COUNTERS}; `throttled` only in files of versions before fights.
 */
export type DaemonCounters =
  & Pick<WatchCounters, typeof COUNTERS[number]>
  & Partial<Omit<WatchCounters, typeof COUNTERS[number]>>
  & { throttled?: number };

/** Fields of an apply that files of earlier versions lack. */
type LaterApplyFields = "replaced" | "resync";

/** An {@linkcode ApplyRecord} whose later fields may be absent (files of earlier versions). */
export type EarlierApplyRecord =
  & Omit<ApplyRecord, LaterApplyFields>
  & Partial<Pick<ApplyRecord, LaterApplyFields>>;

/** The last apply of the daemon as the file keeps it: `at` as RFC 3339 (UTC). */
export type LastApply = Omit<EarlierApplyRecord, "at"> & { at: string };

/**
 * The configuration the daemon runs with (`--table auto` already resolved), as the option table's
 * `persist` encoders write it: one field per recorded option (docs/options.md lists them), read
 * back by {@linkcode restoreConfig} through the same table; a field that files of earlier
 * versions lack takes the option's default.
 */
export type DaemonConfigSummary = PersistedConfig["config"];

/** The state file's document. */
export interface DaemonState {
  /** {@linkcode STATE_VERSION}. */
  version: number;
  /** The daemon's process id. */
  pid: number;
  /** When it started, RFC 3339 (UTC). */
  startedAt: string;
  /** When this document was written, RFC 3339 (UTC). */
  updatedAt: string;
  /** Target table ids. */
  tables: number[];
  /** Its configuration. */
  config: DaemonConfigSummary;
  /** Its last apply; null before the first. */
  lastApply: LastApply | null;
  /** Its counters. */
  counters: DaemonCounters;
}

/** What {@linkcode daemonState} builds a document from. */
export interface DaemonStateInput {
  /** The resolved configuration. */
  config: MirrorConfig;
  /** Start time (ms since the epoch, or a Date). */
  startedAt: number | Date;
  /** The counters so far (the watcher's counters fit). */
  counters: DaemonCounters;
  /** The last apply, if any (the watcher's). */
  lastApply?: EarlierApplyRecord | null;
  /** Process id; default `Deno.pid`. */
  pid?: number;
  /** "Now", ms since the epoch; default `Date.now()`. */
  now?: number;
}

/** A state file that exists but cannot be read as a {@linkcode DaemonState}. */
export class StateFileError extends Error {
  /** The file's path. */
  readonly path: string;
  /** Creates the error for `path`. */
  constructor(path: string, problem: string) {
    super(`State file ${path}: ${problem}`);
    this.name = "StateFileError";
    this.path = path;
  }
}

/** Where the state files are: `--state-dir` (`LINKMIRROR_STATE_DIR`) and `--state-file`. */
export interface StateLocation {
  /** The one state file to write (`watch`) or read (`status`), instead of the per-table ones. */
  file?: string;
  /** The directory of the per-table state files, `/run/linkmirror` by default. */
  dir: string;
}

/**
 * The state file of a daemon whose target tables are `tables`: `location.file` when given, else
 * `table-<first table>.json` in `location.dir`.
 *
 * @example
 * ```ts
 * import { daemonStatePath } from "./state_file.ts";
 * daemonStatePath([539098368], { dir: "/run/linkmirror" }); // "/run/linkmirror/table-539098368.json"
 * ```
 */
export function daemonStatePath(tables: readonly number[], location: StateLocation): string {
  return location.file ?? `${location.dir}/table-${tables[0]}.json`;
}

/** One state file found by {@linkcode readStates}: its document, or why it could not be read. */
export type StateEntry =
  | { path: string; state: DaemonState; error?: undefined }
  | { path: string; state?: undefined; error: string };

/**
 * Every state file in `dir`: the per-table ones (`table-<id>.json`) and a legacy `state.json`,
 * sorted by path. A missing directory holds none.
 */
export function readStates(dir: string): StateEntry[] {
  const names: string[] = [];
  try {
    for (const entry of Deno.readDirSync(dir)) {
      if (!entry.isFile) continue;
      if (/^table-\d+\.json$/.test(entry.name) || entry.name === "state.json") {
        names.push(entry.name);
      }
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw new StateFileError(dir, e instanceof Error ? e.message : String(e));
  }
  const out: StateEntry[] = [];
  for (const name of names.sort()) {
    const path = `${dir}/${name}`;
    try {
      const state = readState(path);
      if (state) out.push({ path, state });
    } catch (e) {
      if (!(e instanceof StateFileError)) throw e;
      out.push({ path, error: e.message });
    }
  }
  return out;
}

/** Summarises a configuration for the state file: the recorded rows of the option table. */
export function configSummary(config: MirrorConfig): DaemonConfigSummary {
  return persistConfig(config).config;
}

/**
 * Builds the state document for the daemon.
 *
 * @example
 * ```ts
 * import { daemonState } from "./state_file.ts";
 * const state = daemonState({
 *   config: { tables: [539098368], source: 254, protocol: 77, families: [2, 10], exclude: [],
 *     excludeDevices: [] },
 *   startedAt: 0, pid: 42, now: 1000,
 *   counters: { events: 3, applies: 1, overruns: 0, conflicts: 0, droppedForeign: 0,
 *     failedApplies: 0 },
 *   lastApply: { at: 900, added: 2, replaced: 0, deleted: 0, failed: 0, conflicts: 0,
 *     durationMs: 1.5, resync: false },
 * });
 * state.lastApply?.at; // "1970-01-01T00:00:00.900Z"
 * ```
 */
export function daemonState(input: DaemonStateInput): DaemonState {
  const iso = (t: number | Date) => new Date(t).toISOString();
  const last = input.lastApply;
  return {
    version: STATE_VERSION,
    pid: input.pid ?? Deno.pid,
    startedAt: iso(input.startedAt),
    updatedAt: iso(input.now ?? Date.now()),
    tables: [...input.config.tables],
    config: configSummary(input.config),
    lastApply: last
      ? {
        at: iso(last.at),
        added: last.added,
        ...(last.replaced !== undefined ? { replaced: last.replaced } : {}),
        deleted: last.deleted,
        conflicts: last.conflicts,
        failed: last.failed,
        durationMs: Math.round(last.durationMs * 1000) / 1000,
        ...(last.resync !== undefined ? { resync: last.resync } : {}),
      }
      : null,
    counters: { ...input.counters },
  };
}

const OPTIONAL_COUNTERS = [
  "changingApplies",
  "resyncs",
  "malformed",
  "throttled",
  "fights",
  "undone",
] as const satisfies readonly (keyof DaemonCounters)[];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const isCount = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v) && v >= 0;
const isTime = (v: unknown): v is string => typeof v === "string" && !Number.isNaN(Date.parse(v));

/**
 * Parses and checks a state document; throws {@linkcode StateFileError} naming the first field
 * that is missing or of the wrong type. Unknown fields are dropped.
 *
 * @example
 * ```ts
 * import { parseState } from "./state_file.ts";
 * try {
 *   parseState('{"version": 1}', "/run/linkmirror/state.json");
 * } catch (e) {
 *   (e as Error).message; // "State file /run/linkmirror/state.json: pid is missing or ..."
 * }
 * ```
 */
export function parseState(text: string, path = STATE_FILE): DaemonState {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new StateFileError(path, `not JSON (${e instanceof Error ? e.message : e})`);
  }
  const bad = (field: string): never => {
    throw new StateFileError(path, `${field} is missing or not what a state file holds`);
  };
  if (!isRecord(doc)) return bad("the document");
  if (doc.version !== STATE_VERSION) {
    throw new StateFileError(path, `version ${doc.version} is not ${STATE_VERSION}`);
  }
  if (!Number.isInteger(doc.pid) || (doc.pid as number) <= 0) bad("pid");
  if (!isTime(doc.startedAt)) bad("startedAt");
  if (!isTime(doc.updatedAt)) bad("updatedAt");
  if (!Array.isArray(doc.tables) || !doc.tables.every(isCount)) bad("tables");
  const config = doc.config;
  if (!isRecord(config)) return bad("config");
  try {
    // Checked by the option table's parsers, like the command line.
    restoreConfig(doc.tables, config);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    throw new StateFileError(path, e.message);
  }
  const counters = doc.counters;
  if (!isRecord(counters)) return bad("counters");
  const parsedCounters: Record<string, number> = {};
  for (const name of COUNTERS) {
    if (!isCount(counters[name])) bad(`counters.${name}`);
    parsedCounters[name] = counters[name] as number;
  }
  for (const name of OPTIONAL_COUNTERS) {
    if (counters[name] === undefined) continue;
    if (!isCount(counters[name])) bad(`counters.${name}`);
    parsedCounters[name] = counters[name] as number;
  }
  let lastApply: LastApply | null = null;
  if (doc.lastApply !== null) {
    const last = doc.lastApply;
    if (!isRecord(last)) return bad("lastApply");
    if (!isTime(last.at)) bad("lastApply.at");
    for (const name of ["added", "deleted", "conflicts", "failed", "durationMs"]) {
      if (!isCount(last[name])) bad(`lastApply.${name}`);
    }
    if (last.resync !== undefined && typeof last.resync !== "boolean") bad("lastApply.resync");
    if (last.replaced !== undefined && !isCount(last.replaced)) bad("lastApply.replaced");
    lastApply = {
      at: last.at as string,
      added: last.added as number,
      ...(last.replaced !== undefined ? { replaced: last.replaced as number } : {}),
      deleted: last.deleted as number,
      conflicts: last.conflicts as number,
      failed: last.failed as number,
      durationMs: last.durationMs as number,
      ...(last.resync !== undefined ? { resync: last.resync as boolean } : {}),
    };
  }
  return {
    version: STATE_VERSION,
    pid: doc.pid as number,
    startedAt: doc.startedAt as string,
    updatedAt: doc.updatedAt as string,
    tables: [...doc.tables as number[]],
    config: Object.fromEntries(
      PERSISTED.filter((row) => row.key !== "tables").map((row) => [row.key, config[row.key]]),
    ),
    lastApply,
    counters: parsedCounters as unknown as DaemonCounters,
  };
}

/**
 * Writes `state` to `path` atomically: into a temporary file next to it (mode 0644), then
 * renamed over it, creating the directory (0755) first if needed. Readers see the old document
 * or the new one, never a mix. Throws `Deno.errors.*` when the directory cannot be written.
 *
 * @example
 * ```ts ignore
 * import { daemonState, writeState } from "./state_file.ts";
 * writeState(daemonState({ config, startedAt, counters: watcher.counters, lastApply }));
 * ```
 */
export function writeState(state: DaemonState, path: string): void {
  const dir = path.slice(0, Math.max(path.lastIndexOf("/"), 0)) || ".";
  Deno.mkdirSync(dir, { recursive: true, mode: 0o755 });
  const temporary = `${path}.${Deno.pid}.tmp`;
  try {
    Deno.writeTextFileSync(temporary, JSON.stringify(state, null, 2) + "\n", { mode: 0o644 });
    Deno.renameSync(temporary, path);
  } catch (e) {
    try {
      Deno.removeSync(temporary);
    } catch {
      // Never written, or already renamed.
    }
    throw e;
  }
}

/**
 * {@linkcode writeState} without blocking the caller's thread: the file operations run on Deno's
 * I/O threads, so a slow file system (a rename on ext4 can wait for the data to be written) never
 * holds up the daemon's event loop.
 */
export async function writeStateAsync(state: DaemonState, path: string): Promise<void> {
  const dir = path.slice(0, Math.max(path.lastIndexOf("/"), 0)) || ".";
  await Deno.mkdir(dir, { recursive: true, mode: 0o755 });
  const temporary = `${path}.${Deno.pid}.tmp`;
  try {
    await Deno.writeTextFile(temporary, JSON.stringify(state, null, 2) + "\n", { mode: 0o644 });
    await Deno.rename(temporary, path);
  } catch (e) {
    await Deno.remove(temporary).catch(() => {});
    throw e;
  }
}

/**
 * Reads the state file at `path`: the document, or `undefined` when there is no such file.
 * Throws {@linkcode StateFileError} when it exists but is not a state document.
 */
export function readState(path: string): DaemonState | undefined {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw new StateFileError(path, e instanceof Error ? e.message : String(e));
  }
  return parseState(text, path);
}

/**
 * Removes the state file at `path` if `pid` (default: this process) owns it — the daemon's clean
 * exit; a file another daemon has written since is left alone. A missing file is not an error.
 * Returns whether it removed the file.
 */
export function removeState(path: string, pid: number = Deno.pid): boolean {
  let state: DaemonState | undefined;
  try {
    state = readState(path);
  } catch (e) {
    if (!(e instanceof StateFileError)) throw e;
    return false;
  }
  if (state === undefined || state.pid !== pid) return false;
  try {
    Deno.removeSync(path);
    return true;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
    return false;
  }
}

/**
 * Whether a process with `pid` exists: `kill(pid, 0)` through libc (Deno's permissions hide
 * `/proc/<pid>` from a compiled binary). `EPERM` means it exists but belongs to someone else.
 * Undefined when the call cannot be made.
 */
export function processAlive(pid: number): boolean | undefined {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    if (daemonLibc().kill(pid, 0) === 0) return true;
    const errno = lastErrno();
    if (errno === ERRNO.ESRCH) return false;
    return errno === ERRNO.EPERM ? true : undefined;
  } catch {
    return undefined;
  }
}
