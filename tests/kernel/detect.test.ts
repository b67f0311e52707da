/**
 * `linkmirror detect` and `--table auto` against real rule sets: Firezone-like, wg-quick-like and
 * Tailscale-like each detected; ambiguous and empty cases give one clear line and exit 1.
 */

import { deepEqual, equal, match, ok } from "node:assert/strict";
import type { DetectJson } from "../../src/cli/render_detect.ts";
import {
  firezone,
  FIREZONE_TABLE,
  firezoneRule,
  type IpRoute,
  LAN,
  lanOnly,
  tableRoutes,
} from "./firezone.ts";
import { linkmirror } from "./linkmirror.ts";
import { kernelTest, type Netns } from "./netns.ts";
import { tailscale, TS_TABLE, WG_TABLE, wgQuick } from "./vpn_setups.ts";

async function detect(ns: Netns): Promise<DetectJson> {
  const run = await linkmirror(ns, ["detect", "--json"]);
  equal(run.code, 0, run.stderr);
  return JSON.parse(run.stdout);
}

/** `ip -j rule` of both families as `family priority` of the rules looking up `table`. */
async function rulesOf(ns: Netns, table: string): Promise<string[]> {
  const out: string[] = [];
  for (const family of ["-4", "-6"]) {
    const rules = await ns.ipJson<{ priority: number; table?: string }[]>(family, "rule");
    for (const r of rules) {
      if (r.table === table) out.push(`${family === "-4" ? "inet" : "inet6"} ${r.priority}`);
    }
  }
  return out;
}

/** The error line of a failed run (the line that is not a JSON log line). */
function errorLines(stderr: string): string[] {
  return stderr.split("\n").filter((l) => l !== "" && !l.startsWith("{"));
}

kernelTest(
  "detect: a Firezone-like rule set, and sync --table auto mirrors into it",
  async (ns) => {
    await firezone(ns);
    const doc = await detect(ns);
    equal(doc.candidates.length, 1);
    const [fz] = doc.candidates;
    equal(fz.table, Number(FIREZONE_TABLE));
    equal(fz.vpn, "firezone");
    deepEqual(fz.families, ["inet", "inet6"]);
    deepEqual(fz.devices, ["tun0"]);
    equal(fz.bypassMark, "0xfd002021");
    deepEqual(
      fz.rules.map((r) => `${r.family} ${r.priority}`),
      await rulesOf(ns, FIREZONE_TABLE),
      "the rules are the ones ip rule lists",
    );
    equal(fz.routeCount, (await tableRoutes(ns)).length, "route count as ip route show table");
    deepEqual(doc.auto, { table: Number(FIREZONE_TABLE), error: null });

    const text = await linkmirror(ns, ["detect"]);
    equal(text.code, 0, text.stderr);
    match(
      text.stdout,
      /^TABLE +VPN +FAMILY +PREF +RULE +DEV +ROUTES\n539098368 +firezone +inet +32765/,
    );
    ok(!text.stdout.includes("\x1b["), "no colour when stdout is not a terminal");

    const sync = await linkmirror(ns, ["sync", "--table", "auto"]);
    equal(sync.code, 0, sync.stderr);
    match(sync.stdout, /sync: 3 added/);
    const copies = (await tableRoutes(ns)).filter((r: IpRoute) => r.protocol === "77");
    deepEqual(copies.map((r) => r.dst).sort(), [LAN.prefix, LAN.prefix6, "fe80::/64"].sort());
  },
);

kernelTest(
  "detect: a wg-quick-like rule set (fwmark rule + suppress_prefixlength 0)",
  async (ns) => {
    await lanOnly(ns);
    await wgQuick(ns);
    const doc = await detect(ns);
    equal(doc.candidates.length, 1);
    const [wg] = doc.candidates;
    equal(wg.table, 51820);
    equal(wg.vpn, "wg-quick");
    deepEqual(wg.families, ["inet", "inet6"]);
    deepEqual(wg.devices, ["wg0"]);
    equal(wg.bypassMark, "0xca6c");
    deepEqual(wg.rules.map((r) => `${r.family} ${r.priority}`), await rulesOf(ns, WG_TABLE));
    equal(wg.mainFirst?.priority, 32764);
    equal(wg.mainFirst?.text, "from all lookup main suppress_prefixlength 0");
    deepEqual(doc.mainRule, { inet: 32766, inet6: 32766 });

    const plan = await linkmirror(ns, ["plan", "--table", "auto", "--json"]);
    equal(plan.code, 0, plan.stderr);
    deepEqual(JSON.parse(plan.stdout).tables, [51820]);
  },
);

kernelTest("detect: a Tailscale-like rule set, with and without an exit node", async (ns) => {
  await lanOnly(ns);
  await tailscale(ns, { exitNode: false });
  const without = await detect(ns);
  deepEqual(without.candidates, []);
  deepEqual(without.ignored.map((t) => [t.table, t.reason]), [[52, "no-default-route"]]);

  await ns.ip("route", "add", "default", "dev", "tailscale0", "table", TS_TABLE);
  const doc = await detect(ns);
  equal(doc.candidates.length, 1);
  const [ts] = doc.candidates;
  equal(ts.table, 52);
  equal(ts.vpn, "tailscale");
  deepEqual(ts.families, ["inet"]);
  deepEqual(ts.rules.map((r) => [r.priority, r.text]), [[5270, "from all lookup 52"]]);
  equal(ts.bypassMark, "0x80000/0xff0000");
  deepEqual(ts.devices, ["tailscale0"]);
  equal(ts.routeCount, 2);
});

kernelTest(
  "--table auto: none or several candidates give one clear line and exit 1",
  async (ns) => {
    await lanOnly(ns);
    await tailscale(ns, { exitNode: false });
    const none = await linkmirror(ns, ["sync", "--table", "auto"]);
    equal(none.code, 1);
    const [line, ...more] = errorLines(none.stderr);
    deepEqual(more, []);
    match(line, /^linkmirror: --table auto: no routing table captures traffic ahead of main/);
    match(line, /52 \(rule 5270: from all lookup 52: it holds no default route/);

    await wgQuick(ns);
    await ns.ip("tuntap", "add", "mode", "tun", "name", "tun0");
    await ns.ip("link", "set", "tun0", "up");
    await ns.ip("route", "add", "default", "dev", "tun0", "table", FIREZONE_TABLE);
    await ns.ip(...firezoneRule(FIREZONE_TABLE, "32000"));
    // The tables a command could change (the whole of `table all` moves on its own: IPv6
    // link-local addresses and their routes come up asynchronously).
    const vpnTables = async () => {
      const all = [
        ...await ns.ipJson<IpRoute[]>("-4", "route", "show", "table", "all"),
        ...await ns.ipJson<IpRoute[]>("-6", "route", "show", "table", "all"),
      ];
      return all.filter((r) => [FIREZONE_TABLE, WG_TABLE, TS_TABLE].includes(r.table ?? ""));
    };
    const before = await vpnTables();
    for (const command of ["sync", "plan", "flush", "status", "explain"]) {
      const args = [command, "--table", "auto", ...(command === "explain" ? [LAN.peer] : [])];
      const several = await linkmirror(ns, args);
      equal(several.code, 1, `${command}: ${several.stderr}`);
      const lines = errorLines(several.stderr);
      equal(lines.length, 1, lines.join("\n"));
      match(lines[0], /^linkmirror: --table auto: 2 tables capture traffic ahead of main: /);
      match(lines[0], /539098368 \(firezone; rule 32000: not from all fwmark 0xfd002021 lookup/);
      // Behind Tailscale's rules, the kernel numbers wg-quick's rules below 5210.
      match(lines[0], /51820 \(wg-quick; rule 52\d\d: not from all fwmark 0xca6c lookup 51820/);
    }
    deepEqual(await vpnTables(), before, "nothing changed");
    deepEqual(await ns.ipJson<unknown[]>("route", "show", "table", "all", "proto", "77"), []);

    const doc = await detect(ns);
    deepEqual(doc.candidates.map((c) => c.table), [51820, 539098368], "by rule priority");
    equal(doc.auto.table, null);
    match(doc.auto.error ?? "", /2 tables capture traffic/);

    // Naming one of them works.
    const chosen = await linkmirror(ns, ["plan", "--table", WG_TABLE, "--json"]);
    equal(chosen.code, 0, chosen.stderr);
  },
  { timeoutMs: 30_000 },
);
