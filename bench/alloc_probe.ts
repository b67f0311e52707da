/**
 * What each phase of a `sync` allocates, in bytes per route: reading the tables, planning, the
 * list of changes, applying them (encoding and sending; only with `--apply`) and the listing.
 * Run it with a young generation too large to fill, so that no collection runs between two
 * readings of `Deno.memoryUsage().heapUsed`; then each difference is what the phase allocated.
 * The first call of each phase is measured, as a one-shot `sync` runs it (cold code allocates
 * where optimized code would not: iterator results, boxed numbers).
 *
 * Usage (inside a network namespace that holds the routes; `--apply` writes the copies there):
 *
 * ```sh
 * deno run -A --v8-flags=--min-semi-space-size=256,--max-semi-space-size=256 \
 *   bench/alloc_probe.ts --table 539098368 [--apply] [--src DIR]
 * ```
 *
 * Prints one JSON line: `{ routes, changes, chars, bytes: { read, plan, changes, apply?, listing } }`,
 * `bytes` per source route.
 *
 * @module
 */

import { parseArgs } from "node:util";

type ReconcileModule = typeof import("../src/engine/reconcile.ts");
type PlanModule = typeof import("../src/planner/plan.ts");
type OptionsModule = typeof import("../src/planner/options.ts");
type ClientModule = typeof import("../src/rtnl/client.ts");
type RenderModule = typeof import("../src/cli/render.ts");

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      table: { type: "string" },
      apply: { type: "boolean", default: false },
      src: { type: "string", default: new URL("../src/", import.meta.url).pathname },
    },
  });
  if (values.table === undefined) throw new Error("--table is required");
  const src = values.src.endsWith("/") ? values.src : `${values.src}/`;
  const reconcile: ReconcileModule = await import(`${src}engine/reconcile.ts`);
  const { planSync }: PlanModule = await import(`${src}planner/plan.ts`);
  const { planOptions }: OptionsModule = await import(`${src}planner/options.ts`);
  const { RtnlClient }: ClientModule = await import(`${src}rtnl/client.ts`);
  const { resultsText }: RenderModule = await import(`${src}cli/render.ts`);
  const config = { ...planOptions(), tables: [Number(values.table)], source: 254 };
  const client = RtnlClient.open();
  const used = () => Deno.memoryUsage().heapUsed;
  const bytes: Record<string, number> = {};
  try {
    let before = used();
    const state = reconcile.readTables(client, config);
    const routes = state.source.length;
    const measure = (phase: string) => {
      const now = used();
      bytes[phase] = Math.round((now - before) / Math.max(routes, 1));
      before = used();
    };
    measure("read");
    const plan = planSync(reconcile.planInput(state, config));
    measure("plan");
    const changes = reconcile.planChanges(plan);
    measure("changes");
    const results = values.apply
      ? client.apply(changes)
      : changes.map((change) => ({ change, error: null }));
    if (values.apply) measure("apply");
    const links = new Map(state.links.map((l) => [l.index, l.name]));
    before = used();
    const text = resultsText(results, links);
    measure("listing");
    console.log(JSON.stringify({ routes, changes: changes.length, chars: text.length, bytes }));
  } finally {
    client.close();
  }
}

if (import.meta.main) await main();
