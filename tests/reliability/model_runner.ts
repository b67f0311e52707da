/**
 * Runs the steps of `StepGenerator` (tests/reliability/host_model.ts) against the real kernel
 * while `linkmirror watch` runs with two target tables (Firezone's 539098368 and wg-quick's
 * 51820), and checks after every step, once it settled, that both hold exactly what the oracle
 * (tests/reliability/oracle.ts) requires and that no route linkmirror does not own changed.
 * A failure is replayed and shrunk (dropping steps) to a short step list that still fails, which
 * is printed with the seed. Shared by tests/reliability/model.test.ts (bounded) and
 * scripts/stress.ts (`--cycles N`).
 *
 * @module
 */

import { FIREZONE_TABLE } from "../kernel/firezone.ts";
import { linkmirror, logLines, spawnLinkmirror } from "../kernel/linkmirror.ts";
import { Netns, type NetnsProcess } from "../kernel/netns.ts";
import { INITIAL_STEPS, type Step } from "./host_model.ts";
import {
  actualCopies,
  diffLines,
  foreignSnapshot,
  type HostState,
  NotExactError,
  readHostState,
  waitExact,
} from "./oracle.ts";

/** The `watch` options runs take turns with (by seed): defaults, no coalescing, fast resyncs. */
export const WATCH_VARIANTS: readonly (readonly string[])[] = [
  [],
  ["--coalesce", "0"],
  ["--coalesce", "5", "--max-wait", "20"],
  ["--resync-interval", "1"],
];

/** The `watch` options of the run of `seed`. */
export function watchVariant(seed: number): string[] {
  return [...WATCH_VARIANTS[Math.abs(seed) % WATCH_VARIANTS.length]];
}

/** Options of {@linkcode runSteps}. */
export interface RunStepsOptions {
  /** How long one step may take to settle. Default 5000 ms. */
  settleMs?: number;
  /** Extra arguments of `linkmirror watch`. */
  watchArgs?: string[];
  /** Progress lines (e.g. `console.error`); default none. */
  progress?: (line: string) => void;
}

/** Figures of a run. */
export interface RunStats {
  /** Steps run (not counting the initial setup). */
  steps: number;
  /** `ip` commands run. */
  commands: number;
  /** `ip` commands the kernel refused (expected now and then: the steps are generated blind). */
  refused: number;
  /** Routes not owned by linkmirror that changed while it reacted (must be 0). */
  foreignTouched: number;
  /** Copies in the target tables after the last step. */
  finalCopies: number;
  /** The daemon's counters from its `Stopped` line. */
  daemon: Record<string, unknown>;
}

/** Which check a run failed. */
export type FailureKind =
  | "not-exact"
  | "foreign-changed"
  | "watch-exited"
  | "plan-not-empty"
  | "stop-changed-copies"
  | "setup"
  | "error";

/** A run that failed: at which step, which check, and why. */
export interface RunFailure {
  /** Index of the step after which the check failed (-1: during setup or at the end). */
  failedAt: number;
  /** The check that failed; shrinking keeps only candidates that fail the same one. */
  kind: FailureKind;
  /** What went wrong. */
  message: string;
}

/** The outcome of {@linkcode runSteps}. */
export type RunOutcome = { ok: true; stats: RunStats } | ({ ok: false } & RunFailure);

/** The second target table: wg-quick's. */
export const SECOND_TABLE = "51820";
/** The target tables of a run. */
export const RUN_TABLES: readonly string[] = [FIREZONE_TABLE, SECOND_TABLE];

function resolve(args: readonly string[], peer: Netns): string[] {
  return args.map((a) =>
    a.replaceAll("{table2}", SECOND_TABLE).replaceAll("{table}", FIREZONE_TABLE)
      .replaceAll("{peer}", peer.name)
  );
}

/** Runs one step's commands; a refused command is counted, not fatal. */
async function runStep(
  ns: Netns,
  peer: Netns,
  step: Step,
  stats: RunStats,
): Promise<void> {
  for (const command of step.commands) {
    stats.commands++;
    try {
      if (command.sysctl !== undefined) {
        const run = await ns.exec(["sysctl", "-qw", command.sysctl]);
        if (!run.success) throw new Error(`sysctl -w ${command.sysctl}: ${run.stderr}`);
      } else {
        await (command.peer ? peer : ns).ip(...resolve(command.ip ?? [], peer));
      }
    } catch (e) {
      stats.refused++;
      if (Deno.env.get("LMT_DEBUG_REFUSED")) console.error(`refused: ${e}`);
    }
  }
}

/** Prepares a namespace for a run: no DAD (so IPv6 routes appear at once), a LAN peer. */
async function prepare(ns: Netns): Promise<Netns> {
  for (const key of ["all", "default"]) {
    await ns.exec(["sysctl", "-qw", `net.ipv6.conf.${key}.accept_dad=0`]);
  }
  const peer = await Netns.create();
  try {
    for (const key of ["all", "default"]) {
      await peer.exec(["sysctl", "-qw", `net.ipv6.conf.${key}.accept_dad=0`]);
    }
  } catch (e) {
    await peer.dispose();
    throw e;
  }
  return peer;
}

/**
 * Runs `steps` in `ns` (a fresh namespace) under `linkmirror watch`, checking after each step.
 * Never throws for a failed check: the outcome says which step failed.
 */
export async function runSteps(
  ns: Netns,
  steps: readonly Step[],
  options: RunStepsOptions = {},
): Promise<RunOutcome> {
  const settleMs = options.settleMs ?? 5000;
  const tables = [...RUN_TABLES];
  const tableArgs = tables.flatMap((t) => ["--table", t]);
  const stats: RunStats = {
    steps: 0,
    commands: 0,
    refused: 0,
    foreignTouched: 0,
    finalCopies: 0,
    daemon: {},
  };
  const peer = await prepare(ns);
  // The daemon's whole log at debug, appended to this file (investigating a failure).
  const logFile = Deno.env.get("LINKMIRROR_MODEL_LOG");
  let daemon: NetnsProcess | undefined;
  try {
    for (const s of INITIAL_STEPS) await runStep(ns, peer, s, stats);
    if (stats.refused > 0) {
      return {
        ok: false,
        failedAt: -1,
        kind: "setup",
        message: `setup: ${stats.refused} commands refused`,
      };
    }
    stats.commands = 0;
    daemon = spawnLinkmirror(ns, [
      "watch",
      "--log-level",
      logFile ? "debug" : "info",
      ...tableArgs,
      ...(options.watchArgs ?? []),
    ]);
    await daemon.waitForLine(/"message":"Watching"/, { timeoutMs: 20_000 });
    await waitExact(ns, tables, { timeoutMs: settleMs, message: "after start" });

    for (let i = 0; i < steps.length; i++) {
      const step = steps[i];
      await runStep(ns, peer, step, stats);
      stats.steps++;
      const before = foreignSnapshot(await readHostState(ns, tables));
      let settled;
      try {
        settled = await waitExact(ns, tables, { timeoutMs: settleMs, message: `step ${i}` });
      } catch (e) {
        if (!(e instanceof NotExactError)) throw e;
        return {
          ok: false,
          failedAt: i,
          kind: "not-exact",
          message: `${e.message}\n${daemonTail(daemon)}`,
        };
      }
      const after = foreignSnapshot(settled.state);
      if (JSON.stringify(before) !== JSON.stringify(after)) {
        stats.foreignTouched += after.filter((l) => !before.includes(l)).length +
          before.filter((l) => !after.includes(l)).length;
        return {
          ok: false,
          failedAt: i,
          kind: "foreign-changed",
          message: `routes linkmirror does not own changed:\n${diffLines(before, after)}`,
        };
      }
      if (daemon.exited) {
        return {
          ok: false,
          failedAt: i,
          kind: "watch-exited",
          message: `watch exited:\n${daemonTail(daemon)}`,
        };
      }
      options.progress?.(`step ${i}: ${step.label}`);
    }

    // A second opinion while the daemon still runs: the planner itself has nothing left to do.
    // (The kernel may still change main on its own, e.g. fe80::/64 when a carrier returns: poll.)
    let planned: { add: unknown[]; delete: unknown[] } | undefined;
    const deadline = performance.now() + settleMs;
    for (;;) {
      const exact = await waitExact(ns, tables, { timeoutMs: settleMs, message: "at the end" });
      stats.finalCopies = [...exact.copies.values()].reduce((n, c) => n + c.length, 0);
      const plan = await linkmirror(ns, ["plan", "--json", ...tableArgs]);
      planned = JSON.parse(plan.stdout) as { add: unknown[]; delete: unknown[] };
      if (planned.add.length + planned.delete.length === 0 || performance.now() > deadline) break;
    }
    if (planned.add.length + planned.delete.length > 0) {
      return {
        ok: false,
        failedAt: -1,
        kind: "plan-not-empty",
        message: `plan is not empty at the end: ${
          JSON.stringify({ add: planned.add, delete: planned.delete })
        }`,
      };
    }
    const copiesBefore = actualCopiesOf(await readHostState(ns, tables), tables);
    const status = await daemon.stop(5000);
    if (status.code !== 0) {
      return {
        ok: false,
        failedAt: -1,
        kind: "watch-exited",
        message: `watch exited ${status.code} on SIGTERM`,
      };
    }
    const stopped = logLines(daemon.stderrLines).find((l) => l.message === "Stopped");
    stats.daemon = stopped ?? {};
    // A plain stop leaves the copies as they were.
    const copiesAfter = actualCopiesOf(await readHostState(ns, tables), tables);
    if (JSON.stringify(copiesAfter) !== JSON.stringify(copiesBefore)) {
      return {
        ok: false,
        failedAt: -1,
        kind: "stop-changed-copies",
        message: `the copies changed when watch stopped:\n${diffLines(copiesBefore, copiesAfter)}`,
      };
    }
    return { ok: true, stats };
  } catch (e) {
    return {
      ok: false,
      failedAt: -1,
      kind: e instanceof NotExactError ? "not-exact" : "error",
      message: `${e instanceof Error ? e.message : e}\n${daemonTail(daemon)}`,
    };
  } finally {
    await daemon?.stop(2000);
    await peer.dispose();
    if (logFile && daemon) {
      await Deno.writeTextFile(logFile, daemon.stderrLines.join("\n") + "\n", { append: true });
    }
  }
}

function actualCopiesOf(state: HostState, tables: readonly string[]): string[] {
  return tables.flatMap((t) => actualCopies(state, t).map((c) => `${t} ${c}`));
}

function daemonTail(daemon: NetnsProcess | undefined): string {
  if (!daemon) return "";
  const warnings = daemon.stderrLines.filter((l) => l.includes('"severity":"WARN"')).slice(-10);
  return `last WARN lines:\n${warnings.join("\n")}\n` +
    `last daemon lines:\n${daemon.stderrLines.slice(-15).join("\n")}`;
}

/** Runs `steps` in a namespace of its own, created and deleted here. */
export async function runInFreshNetns(
  steps: readonly Step[],
  options: RunStepsOptions = {},
): Promise<RunOutcome> {
  const ns = await Netns.create();
  try {
    return await runSteps(ns, steps, options);
  } finally {
    await ns.dispose();
  }
}

/** Options of {@linkcode shrink}. */
export interface ShrinkOptions extends RunStepsOptions {
  /** Most replays. Default 40. */
  maxReplays?: number;
  /** Stop shrinking after this long. Default 120 s. */
  budgetMs?: number;
}

/** What {@linkcode shrink} found. */
export interface ShrinkResult {
  /** The shortest failing step list found. */
  steps: Step[];
  /** The failure of that list. */
  failure: RunFailure;
  /** Whether the failure reproduced at all on replay (false: timing-dependent). */
  reproduced: boolean;
  /** Replays made. */
  replays: number;
}

/**
 * Shrinks a failing step list: replays the prefix up to the failing step, then drops chunks of
 * steps (halves, quarters, ... single steps) as long as the run still fails the same check
 * (same {@linkcode FailureKind}), each replay in a fresh namespace.
 */
export async function shrink(
  steps: readonly Step[],
  failure: RunFailure,
  options: ShrinkOptions = {},
): Promise<ShrinkResult> {
  const maxReplays = options.maxReplays ?? 40;
  const deadline = performance.now() + (options.budgetMs ?? 120_000);
  let replays = 0;
  const attempt = async (candidate: Step[]): Promise<RunFailure | undefined> => {
    replays++;
    const outcome = await runInFreshNetns(candidate, options);
    return outcome.ok || outcome.kind !== failure.kind ? undefined : outcome;
  };
  let current = failure.failedAt >= 0 ? steps.slice(0, failure.failedAt + 1) : [...steps];
  const first = await attempt(current);
  if (first === undefined) {
    return { steps: current, failure, reproduced: false, replays };
  }
  let best = first;
  if (best.failedAt >= 0) current = current.slice(0, best.failedAt + 1);
  let chunks = 2;
  while (current.length > 1 && replays < maxReplays && performance.now() < deadline) {
    const size = Math.ceil(current.length / chunks);
    let reduced = false;
    for (let start = 0; start < current.length; start += size) {
      if (replays >= maxReplays || performance.now() >= deadline) break;
      const candidate = [...current.slice(0, start), ...current.slice(start + size)];
      if (candidate.length === 0) continue;
      const result = await attempt(candidate);
      if (result !== undefined) {
        best = result;
        current = result.failedAt >= 0 ? candidate.slice(0, result.failedAt + 1) : candidate;
        chunks = Math.max(chunks - 1, 2);
        reduced = true;
        break;
      }
    }
    if (!reduced) {
      if (size <= 1) break;
      chunks = Math.min(chunks * 2, current.length);
    }
  }
  return { steps: current, failure: best, reproduced: true, replays };
}

/** The report of a failed seeded run: the seed, the failure and the minimal steps to replay. */
export function failureReport(seed: number, shrunk: ShrinkResult, replayFile?: string): string {
  const lines = [
    `Model-based run failed: seed ${seed} (watch ${watchVariant(seed).join(" ") || "defaults"})${
      shrunk.reproduced ? "" : " (did not reproduce on replay)"
    }`,
    `Failure (${shrunk.failure.kind}, step ${shrunk.failure.failedAt}): ${shrunk.failure.message}`,
    `Minimal step list (${shrunk.steps.length} steps, ${shrunk.replays} replays):`,
    ...shrunk.steps.map((s, i) => `  ${i}. ${s.label}`),
    `As JSON: ${JSON.stringify(shrunk.steps)}`,
  ];
  if (replayFile) lines.push(`Replay: deno task stress -- --replay ${replayFile}`);
  return lines.join("\n");
}
