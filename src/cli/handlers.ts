/**
 * Every command handler, each loaded only when its command runs: `linkmirror --version` or a
 * usage error loads no kernel, engine or daemon code.
 *
 * @module
 */

import type { Handlers } from "./program.ts";

/** The real handlers. */
export const handlers: Handlers = {
  sync: async (ctx) => (await import("./commands/sync.ts")).sync(ctx),
  plan: async (ctx, opts) => (await import("./commands/plan.ts")).plan(ctx, opts),
  flush: async (ctx) => (await import("./commands/flush.ts")).flush(ctx),
  watch: async (ctx, opts) => (await import("./commands/watch.ts")).watch(ctx, opts),
  detect: async (ctx, opts) => (await import("./commands/detect.ts")).detect(ctx, opts),
  status: async (ctx, opts) => (await import("./commands/status.ts")).status(ctx, opts),
  explain: async (ctx, opts) => (await import("./commands/explain.ts")).explain(ctx, opts),
};
