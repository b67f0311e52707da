/**
 * `linkmirror status` against the kernel: its JSON matches `ip -j route show table …` after a
 * scripted sequence (a copy deleted by hand, a stale copy, a conflicting route), and it reports
 * the daemon's state file (running, dead, the daemon's own configuration).
 */

import { deepEqual, equal, match, ok } from "node:assert/strict";
import type { StatusJson } from "../../src/cli/render_status.ts";
import { parseCidr } from "../../src/netlink/ip.ts";
import { daemonState, writeState } from "../../src/status/state_file.ts";
import { firezone, FIREZONE_TABLE, type IpRoute, LAN, tableRoutes } from "./firezone.ts";
import { linkmirror } from "./linkmirror.ts";
import { kernelTest, type Netns } from "./netns.ts";

const TABLE = Number(FIREZONE_TABLE);

async function status(ns: Netns, args: string[], env: Record<string, string> = {}) {
  const run = await linkmirror(ns, ["status", "--json", ...args], { env });
  equal(run.code, 0, run.stderr);
  return JSON.parse(run.stdout) as StatusJson;
}

/** `dst dev` of routes, sorted. */
const keys = (routes: { dst: string; dev?: string }[]) =>
  routes.map((r) => `${r.dst} ${r.dev}`).sort();

kernelTest("status --json matches the kernel's tables after a scripted sequence", async (ns) => {
  await firezone(ns);
  const sync = await linkmirror(ns, ["sync"]);
  equal(sync.code, 0, sync.stderr);

  // A copy deleted by hand, a stale copy, and a LAN whose prefix the VPN routes itself.
  await ns.ip("-6", "route", "del", LAN.prefix6, "dev", LAN.dev, "table", FIREZONE_TABLE);
  await ns.ip(
    "route",
    "add",
    "10.99.0.0/16",
    "dev",
    LAN.dev,
    "table",
    FIREZONE_TABLE,
    "proto",
    "77",
  );
  await ns.ip("address", "add", "192.168.50.1/24", "dev", LAN.dev);
  await ns.ip("route", "add", "192.168.50.0/24", "dev", "tun0", "table", FIREZONE_TABLE);

  const none = { LINKMIRROR_STATE_FILE: `/tmp/lmt-none-${ns.name}.json` };
  const doc = await status(ns, [], none);
  equal(doc.tables.length, 1);
  const [t] = doc.tables;
  equal(t.table, TABLE);
  equal(t.vpn, "firezone");
  equal(t.captures, true);
  equal(t.inSync, false);
  const ours = (await tableRoutes(ns)).filter((r: IpRoute) => r.protocol === "77");
  deepEqual(keys(t.owned), keys(ours), "owned = the routes of proto 77 that ip lists");
  deepEqual(keys(t.stale), ["10.99.0.0/16 lan0"]);
  deepEqual(keys(t.missing), [`${LAN.prefix6} lan0`]);
  deepEqual(t.conflicts, []);
  const wins = t.excluded.filter((e) => e.reason === "vpn-route-wins");
  deepEqual(wins.map((e) => [e.route.dst, e.vpnRoute?.dst, e.vpnRoute?.dev]), [
    ["192.168.50.0/24", "192.168.50.0/24", "tun0"],
  ]);
  // With --precedence lan, the same route is a conflict.
  const lanFirst = (await status(ns, ["--precedence", "lan"], none)).tables[0];
  deepEqual(lanFirst.conflicts.map((c) => [c.wanted.dst, keys(c.existing)]), [
    ["192.168.50.0/24", ["192.168.50.0/24 tun0"]],
  ]);
  const main = [
    ...await ns.ipJson<IpRoute[]>("-4", "route", "show", "table", "main"),
    ...await ns.ipJson<IpRoute[]>("-6", "route", "show", "table", "main"),
  ];
  for (const e of t.excluded) {
    ok(main.some((r) => r.dst === e.route.dst && r.dev === e.route.dev), `${e.route.dst} in main`);
    ok(e.why.length > 0);
  }
  equal(doc.daemon, null);
  equal(doc.stateFile, none.LINKMIRROR_STATE_FILE);

  const text = await linkmirror(ns, ["status"], { env: none });
  equal(text.code, 0, text.stderr);
  match(text.stdout, /^table 539098368 firezone: out of sync: 1 missing, 1 stale\n/);
  match(
    text.stdout,
    /excluded +192\.168\.50\.0\/24 dev lan0 .*vpn-route-wins: 192\.168\.50\.0\/24 dev tun0/,
  );
  match(text.stdout, /daemon: not running \(no state file/);

  equal((await linkmirror(ns, ["sync"])).code, 0);
  const after = (await status(ns, [], none)).tables[0];
  equal(after.inSync, true);
  deepEqual([after.missing, after.stale], [[], []]);
  equal(
    after.excluded.filter((e) => e.reason === "vpn-route-wins").length,
    1,
    "the VPN's route stays and keeps winning: linkmirror never touches it",
  );
  deepEqual(
    keys(after.owned),
    keys((await tableRoutes(ns)).filter((r: IpRoute) => r.protocol === "77")),
  );
});

kernelTest(
  "status reads the daemon's state file; without options it uses the daemon's",
  async (ns) => {
    await firezone(ns);
    await ns.ip("address", "add", "192.168.50.1/24", "dev", LAN.dev);
    const dir = await Deno.makeTempDir({ prefix: "lmt-state-" });
    try {
      const path = `${dir}/state.json`;
      const counters = {
        events: 17,
        applies: 3,
        overruns: 1,
        conflicts: 0,
        droppedForeign: 2,
        failedApplies: 0,
      };
      const startedAt = Date.now() - 65_000;
      writeState(
        daemonState({
          config: {
            tables: [TABLE],
            source: 254,
            protocol: 77,
            families: [2, 10],
            exclude: [parseCidr("192.168.50.0/24")],
            excludeDevices: [],
          },
          startedAt,
          counters,
          lastApply: {
            at: Date.now() - 5000,
            added: 3,
            deleted: 0,
            failed: 0,
            conflicts: 0,
            durationMs: 1.5,
          },
          pid: Deno.pid, // The test runner: alive.
        }),
        path,
      );
      const env = { LINKMIRROR_STATE_FILE: path };
      const doc = await status(ns, [], env);
      equal(doc.daemon?.running, true);
      equal(doc.daemon?.pid, Deno.pid);
      deepEqual(doc.daemon?.counters, counters);
      equal(doc.daemon?.lastApply?.added, 3);
      ok((doc.daemon?.uptimeS ?? 0) >= 65);
      // The daemon's --exclude applies: 192.168.50.0/24 is excluded, not missing.
      const excluded = doc.tables[0].excluded.find((e) => e.route.dst === "192.168.50.0/24");
      equal(excluded?.reason, "excluded-prefix");
      ok(!doc.tables[0].missing.some((r) => r.dst === "192.168.50.0/24"));

      // Options given: they win over the daemon's configuration.
      const mine = await status(ns, ["--table", FIREZONE_TABLE], env);
      ok(mine.tables[0].missing.some((r) => r.dst === "192.168.50.0/24"));

      const text = await linkmirror(ns, ["status", "--state-file", path]);
      match(text.stdout, /daemon: running \(pid \d+\), up 1m 0\ds, tables 539098368/);
      match(text.stdout, /events 17, applies 3, overruns 1, conflicts 0, dropped foreign 2/);

      // A state file left by a daemon that is gone.
      const dead = JSON.parse(await Deno.readTextFile(path));
      dead.pid = 2 ** 22 + 1;
      await Deno.writeTextFile(path, JSON.stringify(dead));
      equal((await status(ns, [], env)).daemon?.running, false);

      await Deno.writeTextFile(path, "{not json");
      const broken = await status(ns, [], env);
      equal(broken.daemon, null);
      match(broken.stateFileError ?? "", /not JSON/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
