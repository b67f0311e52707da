/** The CLI surface of detect, status, explain, `--table auto` and `--include-gateway-routes`. */

import { deepEqual, equal, match } from "node:assert/strict";

import { runWith as run } from "./run_cli.ts";

Deno.test("--table auto sets autoTable instead of the default table, alone or with others", async () => {
  const alone = await run(["sync", "--table", "auto"]);
  deepEqual(alone.calls[0].ctx.config.tables, []);
  equal(alone.calls[0].ctx.config.autoTable, true);
  const mixed = await run(["plan", "-t", "firezone", "-t", "AUTO"]);
  deepEqual(mixed.calls[0].ctx.config.tables, [539098368]);
  equal(mixed.calls[0].ctx.config.autoTable, true);
  const env = await run(["watch"], { LINKMIRROR_TABLE: "auto" });
  equal(env.calls[0].ctx.config.autoTable, true);
  equal((await run(["sync"])).calls[0].ctx.config.autoTable, undefined);
});

Deno.test("--include-gateway-routes, from the command line or the environment", async () => {
  equal((await run(["sync"])).calls[0].ctx.config.includeGatewayRoutes, undefined);
  const cli = await run(["sync", "--include-gateway-routes"]);
  equal(cli.calls[0].ctx.config.includeGatewayRoutes, true);
  const env = await run(["watch"], { LINKMIRROR_INCLUDE_GATEWAY_ROUTES: "1" });
  equal(env.calls[0].ctx.config.includeGatewayRoutes, true);
});

Deno.test("detect takes --json", async () => {
  const r = await run(["detect", "--json"]);
  equal(r.code, 0);
  equal(r.calls[0].command, "detect");
  deepEqual(r.calls[0].extra, { json: true });
  deepEqual((await run(["detect"])).calls[0].extra, { json: false });
});

Deno.test("status: --json, --state-file, and whether mirroring options were given", async () => {
  const bare = await run(["status"]);
  deepEqual(bare.calls[0].extra, { json: false, stateFile: undefined, configGiven: false });
  const full = await run(["status", "--json", "--state-file", "/tmp/s.json", "-t", "51820"]);
  deepEqual(full.calls[0].extra, { json: true, stateFile: "/tmp/s.json", configGiven: true });
  const env = await run(["status"], {
    LINKMIRROR_EXCLUDE_DEV: "docker0",
    LINKMIRROR_STATE_FILE: "/tmp/e.json",
  });
  deepEqual(env.calls[0].extra, { json: false, stateFile: "/tmp/e.json", configGiven: true });
});

Deno.test("explain takes an address, validated: a bad one exits 2 with one line", async () => {
  const r = await run(["explain", "192.168.1.7", "--json", "-t", "auto"]);
  equal(r.code, 0);
  deepEqual(r.calls[0].extra, { address: "192.168.1.7", json: true });
  equal(r.calls[0].ctx.config.autoTable, true);
  deepEqual((await run(["explain", "2001:db8::1"])).calls[0].extra, {
    address: "2001:db8::1",
    json: false,
  });
  for (const args of [["explain", "not-an-ip"], ["explain", "10.0.0.0/8"], ["explain"]]) {
    const bad = await run(args);
    equal(bad.code, 2, args.join(" "));
    equal(bad.calls.length, 0);
    equal(bad.err.trim().split("\n").length, 1, bad.err);
  }
  match((await run(["explain", "banana"])).err, /^linkmirror: ADDRESS: Invalid address "banana"/);
});

Deno.test("--allow-prefix, --precedence and --catch-all, from the command line or the environment", async () => {
  const cli = await run([
    "sync",
    "--allow-prefix",
    "198.51.100.0/24",
    "--allow-prefix",
    "203.0.113.0/24",
    "--precedence",
    "lan",
    "--catch-all",
    "0.0.0.0/1",
  ]);
  const config = cli.calls[0].ctx.config;
  deepEqual(config.allowPrefixes?.map((c) => c.address), ["198.51.100.0", "203.0.113.0"]);
  equal(config.precedence, "lan");
  deepEqual(config.catchAll?.map((c) => c.address), ["0.0.0.0"]);
  const env = await run(["watch"], {
    LINKMIRROR_ALLOW_PREFIX: "198.51.100.0/24 2001:db8::/32",
    LINKMIRROR_PRECEDENCE: "lan",
    LINKMIRROR_CATCH_ALL: "::/1,8000::/1",
  });
  const fromEnv = env.calls[0].ctx.config;
  equal(fromEnv.allowPrefixes?.length, 2);
  equal(fromEnv.precedence, "lan");
  equal(fromEnv.catchAll?.length, 2);
  const bad = await run(["sync", "--precedence", "wan"]);
  equal(bad.code, 2);
  match(bad.err, /--precedence/);
});
