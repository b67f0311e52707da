import { deepEqual, equal, match } from "node:assert/strict";
import type { WatchOptions } from "../../src/cli/program.ts";

import { runWith as run } from "./run_cli.ts";

Deno.test("sync passes the validated configuration and returns the handler's code", async () => {
  const r = await run(["sync", "--table", "firezone", "-t", "51820", "--exclude", "10.0.0.0/8"]);
  equal(r.code, 0);
  equal(r.calls.length, 1);
  deepEqual(r.calls[0].ctx.config.tables, [539098368, 51820]);
  equal(r.calls[0].ctx.config.exclude.length, 1);
  equal((await run(["flush"])).code, 1);
});

Deno.test("every option can come from a LINKMIRROR_* environment variable", async () => {
  const r = await run(["plan"], {
    LINKMIRROR_TABLE: "51820,firezone",
    LINKMIRROR_PROTOCOL: "99",
    LINKMIRROR_FAMILY: "inet",
    LINKMIRROR_EXCLUDE_DEV: "docker0",
  });
  equal(r.code, 0);
  const config = r.calls[0].ctx.config;
  deepEqual(config.tables, [51820, 539098368]);
  equal(config.protocol, 99);
  deepEqual(config.families, [2]);
  deepEqual(config.excludeDevices, ["docker0"]);
});

Deno.test("bad input exits 2 with one line naming the option, and runs nothing", async () => {
  for (
    const args of [
      ["sync", "--table", "nosuch"],
      ["sync", "--exclude", "10.0.0.0/99"],
      ["sync", "--bogus"],
      ["nosuchcommand"],
      ["watch", "--coalesce", "abc"],
      ["watch", "--coalesce", "600", "--max-wait", "100"],
      ["sync", "--log-level", "loud"],
      ["watch", "--receive-buffer", "abc"],
    ]
  ) {
    const r = await run(args);
    equal(r.code, 2, args.join(" "));
    equal(r.calls.length, 0);
    equal(r.err.trim().split("\n").length, 1, `one line for ${args.join(" ")}: ${r.err}`);
  }
  match((await run(["sync", "--table", "nosuch"])).err, /--table/);
  match((await run(["watch", "--coalesce", "abc"])).err, /--coalesce/);
});

Deno.test("watch options are parsed with their defaults", async () => {
  const r = await run(["watch"]);
  deepEqual(r.calls[0].extra, {
    coalesceMs: 0,
    maxWaitMs: 0,
    resyncIntervalS: 300,
    flushOnExit: false,
    receiveBufferBytes: 32 << 20,
  });
  const r2 = await run([
    "watch",
    "--coalesce",
    "0",
    "--max-wait",
    "100",
    "--resync-interval",
    "0",
    "--flush-on-exit",
    "--receive-buffer",
    "4096",
  ]);
  deepEqual(r2.calls[0].extra, {
    coalesceMs: 0,
    maxWaitMs: 100,
    resyncIntervalS: 0,
    flushOnExit: true,
    receiveBufferBytes: 4096,
  });
});

Deno.test("--version and --help exit 0", async () => {
  const v = await run(["--version"]);
  equal(v.code, 0);
  match(v.out, /^\d+\.\d+\.\d+/);
  const h = await run(["--help"]);
  equal(h.code, 0);
  match(h.out, /sync/);
});

Deno.test("switches from the environment honour 0/false/no/off, and refuse nonsense", async () => {
  const off = await run(["watch"], { LINKMIRROR_FLUSH_ON_EXIT: "0" });
  equal((off.calls[0].extra as WatchOptions).flushOnExit, false);
  const on = await run(["watch"], { LINKMIRROR_FLUSH_ON_EXIT: "yes" });
  equal((on.calls[0].extra as WatchOptions).flushOnExit, true);
  const gatewaysOff = await run(["sync"], { LINKMIRROR_INCLUDE_GATEWAY_ROUTES: "false" });
  equal(gatewaysOff.calls[0].ctx.config.includeGatewayRoutes, undefined);
  const gatewaysOn = await run(["sync"], { LINKMIRROR_INCLUDE_GATEWAY_ROUTES: "1" });
  equal(gatewaysOn.calls[0].ctx.config.includeGatewayRoutes, true);
  const bad = await run(["watch"], { LINKMIRROR_FLUSH_ON_EXIT: "maybe" });
  equal(bad.code, 2);
  match(bad.err, /LINKMIRROR_FLUSH_ON_EXIT/);
});
