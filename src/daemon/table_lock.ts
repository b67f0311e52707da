/**
 * One daemon per target table per network namespace: `watch` takes a lock per target table
 * before its first dump, an abstract Unix socket named `linkmirror/table/<id>`
 * ({@linkcode AbstractLock}). The kernel scopes the name to the network namespace and frees it
 * when the process ends, however it ends. A second daemon on the same table learns the holder's
 * pid and gives up ({@linkcode TableLockedError}).
 *
 * @module
 */

import { AbstractLock } from "../sys/abstract_lock.ts";

/** The abstract socket name of the lock of `table`. */
export function tableLockName(table: number): string {
  return `linkmirror/table/${table}`;
}

/** Another process holds the lock of a table. */
export class TableLockedError extends Error {
  /** The table. */
  readonly table: number;
  /** The holder's pid, when it could be read. */
  readonly pid?: number;
  /** Creates the error; `problem` says why the pid is unknown. */
  constructor(table: number, pid: number | undefined, problem?: string) {
    const who = pid !== undefined
      ? `pid ${pid}`
      : `a process whose pid could not be read${problem ? ` (${problem})` : ""}`;
    super(
      `table ${table} is already mirrored by another linkmirror in this network namespace: ${who}`,
    );
    this.name = "TableLockedError";
    this.table = table;
    if (pid !== undefined) this.pid = pid;
  }
}

/**
 * The locks of a daemon's target tables, all held.
 *
 * @example
 * ```ts ignore
 * import { TableLocks } from "./table_lock.ts";
 * using locks = TableLocks.acquire([539098368]); // throws TableLockedError when taken
 * ```
 */
export class TableLocks {
  readonly #locks: AbstractLock[];

  private constructor(locks: AbstractLock[]) {
    this.#locks = locks;
  }

  /**
   * Takes the lock of every table, in order; throws {@linkcode TableLockedError} for the first
   * one held by another process (releasing those already taken).
   */
  static acquire(tables: readonly number[]): TableLocks {
    const taken: AbstractLock[] = [];
    try {
      for (const table of new Set(tables)) {
        const attempt = AbstractLock.acquire(tableLockName(table));
        if (!attempt.lock) {
          throw new TableLockedError(table, attempt.holder.pid, attempt.holder.problem);
        }
        taken.push(attempt.lock);
      }
    } catch (e) {
      for (const lock of taken) lock.release();
      throw e;
    }
    return new TableLocks(taken);
  }

  /** Answers the processes that asked who holds the locks (keeps the backlog empty). */
  acceptPending(): void {
    for (const lock of this.#locks) lock.acceptPending();
  }

  /** Releases every lock. Idempotent. */
  release(): void {
    for (const lock of this.#locks) lock.release();
  }

  /** Same as {@linkcode release}, for `using`. */
  [Symbol.dispose](): void {
    this.release();
  }
}
