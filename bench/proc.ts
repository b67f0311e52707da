/**
 * What `/proc` says about a contender's process: resident memory, context switches (wake-ups)
 * and CPU time, summed over all its threads.
 *
 * @example
 * ```ts ignore
 * import { contextSwitches, cpuNanoseconds, rssMegabytes } from "./proc.ts";
 * const before = contextSwitches(pid);
 * ```
 *
 * @module
 */

function readText(path: string): string | undefined {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return undefined;
  }
}

function taskIds(pid: number): string[] {
  try {
    return [...Deno.readDirSync(`/proc/${pid}/task`)].map((e) => e.name);
  } catch {
    return [];
  }
}

function statusField(text: string, field: string): number {
  const match = text.match(new RegExp(`^${field}:\\s+(\\d+)`, "m"));
  return match ? Number(match[1]) : 0;
}

/** `VmRSS` of `pid` in MiB, or `NaN` when the process is gone. */
export function rssMegabytes(pid: number): number {
  const status = readText(`/proc/${pid}/status`);
  return status === undefined ? NaN : statusField(status, "VmRSS") / 1024;
}

/** Voluntary plus involuntary context switches of each live thread of `pid`, by thread id. */
export function contextSwitches(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of taskIds(pid)) {
    const status = readText(`/proc/${pid}/task/${tid}/status`);
    if (status === undefined) continue;
    out.set(
      tid,
      statusField(status, "voluntary_ctxt_switches") +
        statusField(status, "nonvoluntary_ctxt_switches"),
    );
  }
  return out;
}

/**
 * Context switches between two {@linkcode contextSwitches} snapshots: threads that appeared count
 * whole, threads that ended in between are lost (their last counts are unknown).
 */
export function switchesBetween(
  before: ReadonlyMap<string, number>,
  after: ReadonlyMap<string, number>,
): number {
  let total = 0;
  for (const [tid, count] of after) total += count - (before.get(tid) ?? 0);
  return total;
}

/**
 * CPU time of the whole process (every thread, ended ones included) from `/proc/PID/stat`, in
 * milliseconds, with the clock-tick resolution of 10 ms.
 */
export function processCpuMilliseconds(pid: number): number {
  const stat = readText(`/proc/${pid}/stat`);
  if (stat === undefined) return NaN;
  // Fields after the command name (which may hold spaces) start at field 3.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** CPU time of every live thread of `pid` so far, in nanoseconds (`/proc/…/schedstat`). */
export function cpuNanoseconds(pid: number): number {
  let total = 0;
  for (const tid of taskIds(pid)) {
    const text = readText(`/proc/${pid}/task/${tid}/schedstat`);
    if (text !== undefined) total += Number(text.split(" ")[0]);
  }
  return total;
}

/**
 * Waits until `pid` used no CPU for `quietMs` (it finished the work it was given), at most
 * `maxMs`; returns how long that took, in ms.
 */
export async function settle(pid: number, quietMs = 1000, maxMs = 5000): Promise<number> {
  const started = performance.now();
  let last = cpuNanoseconds(pid);
  let quietSince = started;
  while (performance.now() - started < maxMs) {
    await new Promise((r) => setTimeout(r, 100));
    const now = cpuNanoseconds(pid);
    // Less than 0.1 ms of CPU in 100 ms counts as quiet.
    if (now - last > 100_000) quietSince = performance.now();
    last = now;
    if (performance.now() - quietSince >= quietMs) break;
  }
  return performance.now() - started;
}
