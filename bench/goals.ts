/**
 * The goals of the benchmark issue, checked against a run's results: each is met, missed, or
 * cannot be judged (a contender was skipped), with the numbers that decided it.
 *
 * @module
 */

import type { ResultRow } from "./results.ts";
import { CHURN_SCENARIO } from "./scenarios/churn.ts";
import { summarise } from "./stats.ts";

/** One goal's verdict. */
export interface GoalVerdict {
  /** The goal, as the issue states it. */
  goal: string;
  /** `met`, `missed`, or `n/a` when the run lacks the numbers. */
  status: "met" | "missed" | "n/a";
  /** The numbers behind the verdict. */
  detail: string;
}

const fmt = (v: number) => (Number.isFinite(v) ? (v >= 10 ? v.toFixed(1) : v.toFixed(2)) : "-");

/**
 * Checks every goal against `rows`, judging linkmirror's contenders with id suffix `suffix`:
 * `""` for the first linkmirror, `"-b"` for the second (`--bin-b`, `--src-b`).
 */
export function checkGoals(rows: readonly ResultRow[], suffix = ""): GoalVerdict[] {
  const ours = new Set(["sync", "watch", "engine", "version", "noop-sync"]);
  const find = (scenario: string | RegExp, metric: string, contender: string) =>
    rows.find((r) =>
      (typeof scenario === "string" ? r.scenario === scenario : scenario.test(r.scenario)) &&
      r.metric === metric && r.contender === (ours.has(contender) ? contender + suffix : contender)
    );
  const med = (row: ResultRow | undefined) => row?.summary.median ?? NaN;
  const verdicts: GoalVerdict[] = [];
  const judge = (goal: string, ok: boolean | undefined, detail: string) =>
    verdicts.push({ goal, status: ok === undefined ? "n/a" : ok ? "met" : "missed", detail });
  const known = (...values: number[]) => values.every(Number.isFinite);

  const bulk = rows.map((r) => r.scenario).filter((s) => s.startsWith("1 bulk")).pop();
  {
    const sync = med(find(bulk ?? "", "converge", "sync"));
    const batch = med(find(bulk ?? "", "converge", "ip-batch"));
    judge(
      `sync ≤ 0.7× the ip -batch time (${bulk ?? "bulk"})`,
      known(sync, batch) ? sync <= 0.7 * batch : undefined,
      `sync ${fmt(sync)} ms, ip -batch ${fmt(batch)} ms: ${fmt(sync / batch)}×`,
    );
    const watch = med(find(bulk ?? "", "converge", "watch"));
    const bird = med(find(bulk ?? "", "converge", "bird-rx"));
    judge(
      `watch converges faster than BIRD with a raised rx buffer (${bulk ?? "bulk"})`,
      known(watch, bird) ? watch < bird : undefined,
      `watch ${fmt(watch)} ms, BIRD rx ${fmt(bird)} ms: ${fmt(watch / bird)}×`,
    );
  }
  {
    const parts: string[] = [];
    let ok: boolean | undefined = undefined;
    for (const metric of ["appear", "disappear"]) {
      const row = find("2 event latency", metric, "watch");
      if (!row) continue;
      const s = summarise(row.samples);
      const good = s.median <= 0.5 && s.p99 <= 2;
      ok = (ok ?? true) && good;
      parts.push(`${metric}: p50 ${fmt(s.median)} ms, p99 ${fmt(s.p99)} ms`);
    }
    judge("event latency p50 ≤ 0.5 ms and p99 ≤ 2 ms", ok, parts.join("; ") || "not measured");
  }
  {
    const parts: string[] = [];
    let ok: boolean | undefined = undefined;
    for (const metric of ["appear", "disappear"]) {
      const row = find(CHURN_SCENARIO, metric, "watch");
      if (!row) continue;
      const s = summarise(row.samples);
      ok = (ok ?? true) && s.median <= 0.5 && s.p99 <= 2;
      const bird = find(CHURN_SCENARIO, metric, "bird-rx");
      const peer = bird ? summarise(bird.samples) : undefined;
      parts.push(
        `${metric}: p50 ${fmt(s.median)} ms, p99 ${fmt(s.p99)} ms` +
          (peer ? ` (BIRD rx p50 ${fmt(peer.median)} ms, p99 ${fmt(peer.p99)} ms)` : ""),
      );
    }
    judge(
      "latency under churn (random gaps 5–60 ms) p50 ≤ 0.5 ms and p99 ≤ 2 ms",
      ok,
      parts.join("; ") || "not measured",
    );
  }
  {
    const scale = rows.filter((r) => r.scenario === "3 scale independence");
    const parts: string[] = [];
    let ok: boolean | undefined = undefined;
    for (const metric of ["appear", "disappear", "CPU per change"]) {
      const arms = scale.filter((r) => r.metric === metric);
      const small = arms.find((r) => r.contender === "watch-0");
      const big = arms.find((r) => r.contender !== "watch-0");
      if (!small || !big) continue;
      const ratio = big.summary.median / small.summary.median;
      ok = (ok ?? true) && ratio <= 1.5;
      parts.push(
        `${metric} ${fmt(small.summary.median)} → ${fmt(big.summary.median)}: ${fmt(ratio)}×`,
      );
    }
    judge(
      "latency and CPU per event with 100k other routes ≤ 1.5× those with none",
      ok,
      parts.join("; ") || "not measured",
    );
  }
  for (const storm of ["churn", "flap"]) {
    // Judged from the burst's end: the burst itself is the probe injecting as fast as netlink
    // takes it, and a contender that coalesces it away is exact the moment it ends.
    const scenario = `4 storm: ${storm}`;
    const exact = find(scenario, "exact", "watch");
    const after = (c: string) => med(find(scenario, "converge after burst", c));
    const fromStart = (c: string) => med(find(scenario, "converge", c));
    const watch = after("watch");
    const bird = after("bird-rx");
    const allExact = exact ? exact.samples.every((v) => v === 1) : undefined;
    let ok: boolean | undefined;
    if (exact && allExact === false) ok = false;
    else if (exact && known(watch, bird)) ok = watch < bird || watch === 0;
    const runs = `exact ${exact?.samples.filter((v) => v === 1).length ?? 0}/${
      exact?.samples.length ?? 0
    }`;
    judge(
      `storm (${storm}): exact every time, faster than BIRD with a raised rx buffer`,
      ok,
      `${runs}; after the burst's end: watch ${fmt(watch)} ms, BIRD rx ${fmt(bird)} ms; ` +
        `from its start: watch ${fmt(fromStart("watch"))} ms, BIRD rx ${
          fmt(fromStart("bird-rx"))
        } ms`,
    );
  }
  {
    const wakes = rows.filter((r) =>
      r.scenario === "5 footprint" && r.metric.startsWith("wake-ups") &&
      r.contender === `watch${suffix}`
    );
    judge(
      "0 idle wake-ups",
      wakes.length ? wakes.every((w) => w.summary.max === 0) : undefined,
      (wakes.map((w) => `${w.metric}: ${fmt(w.summary.max)}`).join("; ") || "not measured") +
        idleFloorWakes(rows),
    );
    const rss = rows.filter((r) =>
      r.scenario === "5 footprint" && r.metric.startsWith("RSS") && r.contender === `watch${suffix}`
    );
    judge(
      "RSS ≤ 40 MB",
      rss.length ? rss.every((r) => r.summary.max <= 40) : undefined,
      rss.map((r) => `${r.metric}: ${fmt(r.summary.max)} MiB`).join("; ") || "not measured",
    );
    const start = find("5 footprint", "start to first sync", "watch-artifact") ??
      find("5 footprint", "start to first sync", "watch");
    judge(
      "start ≤ 150 ms",
      start ? start.summary.median <= 150 : undefined,
      start
        ? `${start.label}: median ${fmt(start.summary.median)} ms, max ${fmt(start.summary.max)} ms`
        : "not measured",
    );
  }
  // The hot path at the runtime's floor (issue 13).
  {
    const floorMs = med(find(FOOTPRINT, "run time", "floor"));
    const floorRss = med(find(FOOTPRINT, "peak RSS", "floor"));
    const version = med(find(FOOTPRINT, "run time", "version"));
    judge(
      "start (--version) ≤ 1.3× the floor (must ≤ 2×)",
      known(version, floorMs) ? version <= 1.3 * floorMs : undefined,
      `--version ${fmt(version)} ms, floor ${fmt(floorMs)} ms: ${fmt(version / floorMs)}×`,
    );
    const versionRss = med(find(FOOTPRINT, "peak RSS", "version"));
    judge(
      "RSS of --version ≤ floor + 4 MiB",
      known(versionRss, floorRss) ? versionRss <= floorRss + 4 : undefined,
      `--version ${fmt(versionRss)} MiB, floor ${fmt(floorRss)} MiB: +${
        fmt(versionRss - floorRss)
      }`,
    );
    const read10k = find("6 decode+plan 10k", "read+plan, first", "engine");
    const warm10k = find("6 decode+plan 10k", "read+plan, warm", "engine");
    judge(
      "dump + decode + plan of 10k routes ≤ 15 ms",
      read10k ? med(read10k) <= 15 : undefined,
      `first ${fmt(med(read10k))} ms, warm ${fmt(med(warm10k))} ms (source and copies: 20k)`,
    );
    const lag = med(find("1 bulk 10k", "converge after burst", "watch"));
    const birdLag = med(find("1 bulk 10k", "converge after burst", "bird-rx"));
    judge(
      "lag after a 10k burst ≤ BIRD rx (must ≤ 2×)",
      known(lag, birdLag) ? lag <= birdLag : undefined,
      `watch ${fmt(lag)} ms, BIRD rx ${fmt(birdLag)} ms: ${fmt(lag / birdLag)}×`,
    );
    const start = med(find(FOOTPRINT, "RSS after start", "watch"));
    judge(
      "RSS after start ≤ floor + 6 MiB",
      known(start, floorRss) ? start <= floorRss + 6 : undefined,
      `watch ${fmt(start)} MiB, floor ${fmt(floorRss)} MiB: +${fmt(start - floorRss)}; ` +
        `idle floor (live, waiting in poll) ${
          fmt(med(find(FOOTPRINT, "RSS after start", "idle-floor")))
        } MiB`,
    );
    const after10k = med(find(FOOTPRINT, "RSS after 10k", "watch"));
    judge(
      "RSS after 10k routes ≤ 64 MiB",
      known(after10k) ? after10k <= 64 : undefined,
      `${fmt(after10k)} MiB`,
    );
    const after100k = med(find("7 memory 100k", "RSS after 100k", "watch"));
    const changes1 = med(find("7 memory 100k", "RSS after 100k changes", "watch"));
    const changes2 = med(find("7 memory 100k", "RSS after 200k changes", "watch"));
    judge(
      "RSS after 100k routes ≤ 128 MiB",
      known(after100k) ? after100k <= 128 : undefined,
      `${fmt(after100k)} MiB`,
    );
    judge(
      "RSS flat over 100k changes (second 100k ≤ 1.05× the first)",
      known(changes1, changes2) ? changes2 <= 1.05 * changes1 : undefined,
      `after 100k changes ${fmt(changes1)} MiB, after 200k ${fmt(changes2)} MiB`,
    );
  }
  return verdicts;
}

const FOOTPRINT = "5 footprint";

/** The idle floor's wake-ups (scenario 5), to show beside the daemon's; empty if not measured. */
function idleFloorWakes(rows: readonly ResultRow[]): string {
  const wakes = rows.filter((r) =>
    r.scenario === FOOTPRINT && r.metric.startsWith("wake-ups") && r.contender === "idle-floor"
  );
  if (wakes.length === 0) return "";
  return `; idle floor (deno waiting in poll): ${
    wakes.map((w) => `${w.metric.replace("wake-ups, ", "")}: ${fmt(w.summary.max)}`).join(", ")
  }`;
}
