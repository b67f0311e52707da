/**
 * Summarises a V8 `.cpuprofile` (written by `deno run --cpu-prof`): the functions with the most
 * self time, the most inclusive time, and the longest stretches the main thread spent away from
 * idle. Part of the profiling recipe in docs/development.md.
 *
 * Usage: `deno run -A bench/cpuprofile.ts FILE.cpuprofile [--top 25] [--filter TEXT]`
 *
 * @module
 */

import { parseArgs } from "node:util";

/** A node of the profile's call tree. */
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

/** The parts of a `.cpuprofile` this script reads. */
export interface CpuProfile {
  /** Call-tree nodes. */
  nodes: ProfileNode[];
  /** Start and end, in µs. */
  startTime: number;
  /** End, in µs. */
  endTime: number;
  /** The node id of each sample. */
  samples: number[];
  /** µs since the previous sample, per sample. */
  timeDeltas: number[];
}

/** One line of a summary. */
export interface ProfileLine {
  /** `function (file:line)`. */
  name: string;
  /** Milliseconds. */
  ms: number;
}

function frameName(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const file = url ? url.replace(/^.*\/(src|bench|node_modules|ext|npm)\//, "$1/") : "";
  return `${functionName || "(anonymous)"}${file ? ` (${file}:${lineNumber + 1})` : ""}`;
}

/** Self and inclusive time per function, busiest first, in ms. */
export function summariseProfile(profile: CpuProfile): {
  self: ProfileLine[];
  inclusive: ProfileLine[];
  busyMs: number;
  totalMs: number;
} {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let busy = 0;
  profile.samples.forEach((id, i) => {
    const dt = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    const node = byId.get(id)!;
    const name = frameName(node);
    self.set(name, (self.get(name) ?? 0) + dt);
    if (!["(idle)", "(program)"].includes(node.callFrame.functionName)) busy += dt;
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const n = frameName(byId.get(cur)!);
      if (seen.has(n)) continue;
      seen.add(n);
      inclusive.set(n, (inclusive.get(n) ?? 0) + dt);
    }
  });
  const sorted = (m: Map<string, number>) =>
    [...m].map(([name, ms]) => ({ name, ms })).sort((a, b) => b.ms - a.ms);
  return {
    self: sorted(self),
    inclusive: sorted(inclusive),
    busyMs: busy,
    totalMs: (profile.endTime - profile.startTime) / 1000,
  };
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    allowPositionals: true,
    options: { top: { type: "string", default: "25" }, filter: { type: "string" } },
  });
  const top = Number(values.top);
  for (const file of positionals) {
    const profile = JSON.parse(Deno.readTextFileSync(file)) as CpuProfile;
    const s = summariseProfile(profile);
    const keep = (l: ProfileLine) => !values.filter || l.name.includes(values.filter);
    console.log(`${file}: ${s.totalMs.toFixed(0)} ms profiled, ${s.busyMs.toFixed(1)} ms busy`);
    console.log("\nSelf time:");
    for (const l of s.self.filter(keep).slice(0, top)) {
      console.log(`${l.ms.toFixed(1).padStart(9)} ms  ${l.name}`);
    }
    console.log("\nInclusive time:");
    for (const l of s.inclusive.filter(keep).slice(0, top)) {
      console.log(`${l.ms.toFixed(1).padStart(9)} ms  ${l.name}`);
    }
  }
}
