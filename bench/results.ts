/**
 * The benchmark's measurements, grouped by scenario and metric, and their rendering as one text
 * table (median, p99, min, max, and the ratio of each median to the best peer's) or as JSON.
 *
 * @example
 * ```ts
 * import { ResultSet } from "./results.ts";
 * const results = new ResultSet();
 * results.add({ scenario: "bulk 1k", metric: "converge", unit: "ms", contender: "sync" }, [5, 6]);
 * results.rows()[0].summary.median; // 5.5
 * ```
 *
 * @module
 */

import { summarise, type Summary } from "./stats.ts";

/** What a series of samples measures. */
export interface SeriesKey {
  /** The scenario, e.g. `"1 bulk 10k"`. */
  scenario: string;
  /** The metric, e.g. `"converge"`. */
  metric: string;
  /** Its unit: `ms`, `MiB`, `count`, … */
  unit: string;
  /** The contender's id. */
  contender: string;
}

/** One row of the table. */
export interface ResultRow extends SeriesKey {
  /** The contender as printed. */
  label: string;
  /** The samples. */
  samples: number[];
  /** Their summary. */
  summary: Summary;
  /**
   * Median divided by the best (lowest) median of the same scenario and metric; `NaN` for the
   * count of exact runs.
   */
  ratio: number;
  /** Remarks (e.g. "3 of 3 runs not converged"). */
  notes: string[];
}

/** All measurements of a run. */
export class ResultSet {
  readonly #series = new Map<string, { key: SeriesKey; samples: number[]; notes: string[] }>();
  readonly #labels: Record<string, string>;

  /** Creates an empty set; `labels` maps contender ids to printed names. */
  constructor(labels: Record<string, string> = {}) {
    this.#labels = labels;
  }

  #entry(key: SeriesKey) {
    const id = `${key.scenario}\u0000${key.metric}\u0000${key.contender}`;
    let entry = this.#series.get(id);
    if (!entry) {
      entry = { key, samples: [], notes: [] };
      this.#series.set(id, entry);
    }
    return entry;
  }

  /** Adds samples to a series. */
  add(key: SeriesKey, samples: number | readonly number[]): void {
    const entry = this.#entry(key);
    if (typeof samples === "number") entry.samples.push(samples);
    else entry.samples.push(...samples);
  }

  /** Adds a remark to a series (printed after its row). */
  note(key: SeriesKey, note: string): void {
    const entry = this.#entry(key);
    if (!entry.notes.includes(note)) entry.notes.push(note);
  }

  /** The samples of a series (empty when none). */
  samples(key: Omit<SeriesKey, "unit">): number[] {
    for (const { key: k, samples } of this.#series.values()) {
      if (
        k.scenario === key.scenario && k.metric === key.metric && k.contender === key.contender
      ) return samples;
    }
    return [];
  }

  /**
   * Every series as a row, with ratios to the best peer: ordered by scenario (its leading
   * number), then in insertion order.
   */
  rows(): ResultRow[] {
    const order = (scenario: string) => Number.parseInt(scenario, 10) || 0;
    const entries = [...this.#series.values()]
      .map((entry, i) => ({ entry, i }))
      .sort((x, y) => order(x.entry.key.scenario) - order(y.entry.key.scenario) || x.i - y.i)
      .map(({ entry }) => entry);
    const rows = entries.map(({ key, samples, notes }) => ({
      ...key,
      label: this.#labels[key.contender] ?? key.contender,
      samples,
      summary: summarise(samples),
      ratio: NaN,
      notes,
    }));
    const best = new Map<string, number>();
    for (const r of rows) {
      const group = `${r.scenario}\u0000${r.metric}`;
      if (!Number.isFinite(r.summary.median) || !hasRatio(r)) continue;
      best.set(group, Math.min(best.get(group) ?? Infinity, r.summary.median));
    }
    for (const r of rows) {
      if (!hasRatio(r)) continue;
      const b = best.get(`${r.scenario}\u0000${r.metric}`);
      r.ratio = b === undefined
        ? NaN
        : b === 0
        ? (r.summary.median === 0 ? 1 : Infinity)
        : r.summary.median / b;
    }
    return rows;
  }
}

/** Metrics where more is better or a ratio means nothing (a count of exact runs). */
function hasRatio(key: SeriesKey): boolean {
  return key.metric !== "exact";
}

function format(value: number, unit: string): string {
  if (!Number.isFinite(value)) return Number.isNaN(value) ? "-" : "inf";
  if (unit === "count") return String(Math.round(value));
  if (Math.abs(value) >= 100) return value.toFixed(0);
  if (Math.abs(value) >= 10) return value.toFixed(1);
  if (Math.abs(value) >= 1) return value.toFixed(2);
  return value.toFixed(3);
}

/** Renders `rows` as a fixed-width text table (a Markdown table when `markdown`). */
export function renderTable(rows: readonly ResultRow[], markdown = false): string {
  const header = ["scenario", "metric", "contender", "n", "median", "p99", "min", "max", "×best"];
  const body = rows.map((r) => [
    r.scenario,
    `${r.metric} (${r.unit})`,
    r.label,
    String(r.summary.n),
    format(r.summary.median, r.unit),
    format(r.summary.p99, r.unit),
    format(r.summary.min, r.unit),
    format(r.summary.max, r.unit),
    Number.isFinite(r.ratio) ? r.ratio.toFixed(2) : "-",
  ]);
  if (markdown) {
    const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
    return [line(header), line(header.map((_, i) => (i >= 3 ? "---:" : "---"))), ...body.map(line)]
      .join("\n") + "\n";
  }
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i >= 3 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join("  ")
      .trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...body.map(line)].join("\n") +
    "\n";
}
