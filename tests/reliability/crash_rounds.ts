/**
 * Crash rounds: `kill -9` of `linkmirror sync` and `linkmirror watch` at random points of an
 * apply, then a restart that must converge exactly — no stale copy, no duplicate, no foreign
 * route touched. Shared by tests/reliability/crash.test.ts (bounded) and scripts/stress.ts
 * (`--crashes N`).
 *
 * Each round changes `main` (a random subset of a pool of on-link host routes flips), so that
 * the next apply has both adds and deletes of stale copies; a foreign route in the VPN's table
 * holds one prefix of the pool. The killer (scripts/kill_at.ts) counts linkmirror's route changes
 * as the kernel reports them and sends SIGKILL after a random number of them.
 *
 * @module
 */

import { firezone, FIREZONE_TABLE, LAN } from "../kernel/firezone.ts";
import { linkmirror, linkmirrorCommand, logLines, spawnLinkmirror } from "../kernel/linkmirror.ts";
import type { Netns, NetnsProcess } from "../kernel/netns.ts";
import { diffLines, foreignSnapshot, readHostState, waitExact } from "./oracle.ts";
import { Random } from "../_fixtures/random.ts";

const KILL_AT = new URL("./scripts/kill_at.ts", import.meta.url).pathname;

/** Size of the pool of IPv4 and IPv6 host routes on the LAN that rounds flip. */
const POOL4 = 4000;
const POOL6 = 1000;

/** How a round kills linkmirror. */
export type CrashKind = "sync" | "watch-start" | "watch-later";

/** Options of {@linkcode runCrashRounds}. */
export interface CrashRoundsOptions {
  /** Rounds to run; kinds take turns (sync, watch-start, sync, watch-later, ...). */
  rounds: number;
  /** Seed of the random flips and kill points. */
  seed: number;
}

/** What {@linkcode runCrashRounds} did. */
export interface CrashReport {
  /** Rounds run. */
  rounds: number;
  /** Rounds in which linkmirror was killed mid-apply (the others finished first). */
  killed: number;
  /** Of those, per kind. */
  byKind: Record<CrashKind, number>;
  /** Copy changes the killed processes had made when the kill landed, per round. */
  killPoints: string[];
  /** Restarts that converged exactly (must equal `rounds`). */
  exactRestarts: number;
  /** Routes not owned by linkmirror that changed (must be 0). */
  foreignTouched: number;
}

/** Thrown when a round breaks a guarantee. */
export class CrashRoundError extends Error {
  /** Creates the error for round `round` of `seed`. */
  constructor(seed: number, round: number, kind: CrashKind, problem: string) {
    super(`Crash round ${round} (${kind}) of seed ${seed}: ${problem}`);
    this.name = "CrashRoundError";
  }
}

function poolRoute(i: number): string {
  return i < POOL4 ? `10.200.${i >> 8}.${i & 255}` : `fd00:200::${(i - POOL4 + 1).toString(16)}`;
}

interface KillResult {
  killed: boolean;
  changesSeen: number;
  code: number;
  signal: string | null;
  overrun: boolean;
  stderr: string;
}

/** The killer and its command, pinned to one CPU so that the niced command yields to it. */
function killerCommand(after: number, extra: string[], command: string[]): string[] {
  return [
    "taskset",
    "-c",
    "0",
    Deno.execPath(),
    "run",
    "-A",
    KILL_AT,
    "--after",
    String(after),
    "--table",
    FIREZONE_TABLE,
    ...extra,
    "--",
    ...command,
  ];
}

const LOG_ENV = { LINKMIRROR_LOG_FORMAT: "json", NO_COLOR: "1" };

/**
 * Runs crash rounds in `ns` (a fresh namespace; the Firezone scenario is built here). Throws
 * {@linkcode CrashRoundError} when a restart does not converge exactly or a foreign route changed.
 */
export async function runCrashRounds(
  ns: Netns,
  options: CrashRoundsOptions,
): Promise<CrashReport> {
  const random = new Random(options.seed);
  await firezone(ns);
  const present = new Set<number>();
  const report: CrashReport = {
    rounds: 0,
    killed: 0,
    byKind: { sync: 0, "watch-start": 0, "watch-later": 0 },
    killPoints: [],
    exactRestarts: 0,
    foreignTouched: 0,
  };
  const tables = [FIREZONE_TABLE];
  const kinds: CrashKind[] = ["sync", "watch-start", "sync", "watch-later"];

  /** Flips about a third of the pool in main, and moves the foreign route; returns the flips. */
  const flip = async (): Promise<number> => {
    const lines: string[] = [];
    for (let i = 0; i < POOL4 + POOL6; i++) {
      if (!random.chance(0.35)) continue;
      const verb = present.has(i) ? "del" : "add";
      lines.push(`route ${verb} ${poolRoute(i)} dev ${LAN.dev}`);
      if (verb === "add") present.add(i);
      else present.delete(i);
    }
    const held = poolRoute(random.int(POOL4));
    lines.push(`route flush table ${FIREZONE_TABLE} proto static`);
    lines.push(`route add ${held} dev tun0 table ${FIREZONE_TABLE} proto static metric 5`);
    const run = await ns.exec(["ip", "-batch", "-"], { stdin: lines.join("\n") + "\n" });
    if (!run.success) throw new Error(`ip -batch failed: ${run.stderr}`);
    return lines.length - 2;
  };

  for (let round = 0; round < options.rounds; round++) {
    const kind = kinds[round % kinds.length];
    const fail = (problem: string): never => {
      throw new CrashRoundError(options.seed, round, kind, problem);
    };
    let result: KillResult;
    let foreignBefore: string[];
    if (kind === "watch-later") {
      // A daemon that is up and exact, killed in the apply that follows a change of main.
      const changes = Math.max(2, Math.round((POOL4 + POOL6) * 0.35));
      const after = random.between(1, changes - 1);
      const killer = ns.spawn(
        killerCommand(after, ["--arm-on-signal"], linkmirrorCommand(["watch"])),
        { env: LOG_ENV },
      );
      await killer.waitForLine(/^ready$/, { timeoutMs: 20_000 });
      await waitExact(ns, tables, { timeoutMs: 20_000, message: `round ${round}: watch started` });
      killer.kill("SIGUSR1");
      await killer.waitForLine(/^armed$/, { timeoutMs: 5000 });
      await flip();
      foreignBefore = foreignSnapshot(await readHostState(ns, tables));
      result = await killerResult(killer);
    } else {
      const changes = await flip();
      foreignBefore = foreignSnapshot(await readHostState(ns, tables));
      const after = random.between(1, Math.max(1, changes - 1));
      const command = linkmirrorCommand([kind === "sync" ? "sync" : "watch"]);
      const run = await ns.exec(killerCommand(after, [], command), {
        env: LOG_ENV,
        timeoutMs: 60_000,
      });
      if (!run.success) fail(`the killer failed: ${run.stderr}`);
      result = JSON.parse(run.stdout.trim().split("\n").pop()!) as KillResult;
    }
    report.rounds++;
    if (result.killed) {
      report.killed++;
      report.byKind[kind]++;
      report.killPoints.push(`${kind}@${result.changesSeen}`);
    } else if (kind === "sync" && result.code !== 0) {
      fail(`sync was not killed and failed (${result.code}): ${result.stderr}`);
    }

    // Nothing that is not linkmirror's changed, even with a half-done apply.
    const afterKill = foreignSnapshot(await readHostState(ns, tables));
    if (JSON.stringify(afterKill) !== JSON.stringify(foreignBefore)) {
      report.foreignTouched++;
      fail(`foreign routes changed:\n${diffLines(foreignBefore, afterKill)}`);
    }

    // The restart converges exactly.
    if (kind === "sync") {
      const again = await linkmirror(ns, ["sync"]);
      if (again.code !== 0) fail(`the restarted sync failed (${again.code}): ${again.stderr}`);
      await exact(ns, tables, 2000, fail);
    } else {
      const daemon = spawnLinkmirror(ns, ["watch"]);
      try {
        await daemon.waitForLine(/"message":"Watching"/, { timeoutMs: 20_000 });
        await exact(ns, tables, 10_000, fail);
        const status = await daemon.stop();
        if (status.code !== 0) fail(`the restarted watch exited ${status.code}`);
        const stopped = logLines(daemon.stderrLines).find((l) => l.message === "Stopped");
        if (!stopped || stopped.failedApplies !== 0) {
          fail(`the restarted watch had failed applies: ${JSON.stringify(stopped)}`);
        }
      } finally {
        await daemon.stop(1000);
      }
    }
    report.exactRestarts++;
    const afterRestart = foreignSnapshot(await readHostState(ns, tables));
    if (JSON.stringify(afterRestart) !== JSON.stringify(foreignBefore)) {
      report.foreignTouched++;
      fail(`foreign routes changed by the restart:\n${diffLines(foreignBefore, afterRestart)}`);
    }
  }
  return report;
}

async function exact(
  ns: Netns,
  tables: string[],
  timeoutMs: number,
  fail: (problem: string) => never,
): Promise<void> {
  try {
    await waitExact(ns, tables, { timeoutMs, message: "after the restart" });
  } catch (e) {
    fail(e instanceof Error ? e.message : String(e));
  }
}

async function killerResult(killer: NetnsProcess): Promise<KillResult> {
  const status = await killer.status;
  const line = killer.stdoutLines.filter((l) => l.startsWith("{")).pop();
  if (!line) {
    throw new Error(`the killer exited ${status.code} without a result:\n${killer.output()}`);
  }
  return JSON.parse(line) as KillResult;
}
