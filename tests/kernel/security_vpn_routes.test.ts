/**
 * Copies never block the VPN: they sit at their source's metric plus 2^31, so the VPN's own add of
 * an equal prefix (at its default metric, `NLM_F_EXCL` as `ip route add` sends it) succeeds,
 * after `sync` and under `watch`, both families; and after a VPN restart in which linkmirror
 * acts first, every route the VPN adds back is there.
 */

import { deepEqual, equal, ok } from "node:assert/strict";
import { firezone, FIREZONE_TABLE, type IpRoute, LAN, tableRoutes } from "./firezone.ts";
import { linkmirror, spawnLinkmirror } from "./linkmirror.ts";
import { kernelTest, type Netns, waitFor } from "./netns.ts";
import { copies, deviceFor } from "./security.ts";

const BASE = [`${LAN.prefix} ${LAN.dev}`, `${LAN.prefix6} ${LAN.dev}`, `fe80::/64 ${LAN.dev}`];

/** The VPN adds routes equal to the copied prefixes, as `ip route add` (exclusive create). */
async function vpnAddsLanPrefixes(ns: Netns): Promise<void> {
  await ns.ip("route", "add", LAN.prefix, "dev", "tun0", "table", FIREZONE_TABLE);
  await ns.ip("-6", "route", "add", LAN.prefix6, "dev", "tun0", "table", FIREZONE_TABLE);
  await ns.ip("-6", "route", "add", "fe80::/64", "dev", LAN.dev, "table", FIREZONE_TABLE);
}

/** The VPN's own routes (not linkmirror's) in its table, as `dst dev`, sorted. */
async function vpnRoutes(ns: Netns): Promise<string[]> {
  return (await tableRoutes(ns)).filter((r: IpRoute) => r.protocol !== "77")
    .map((r) => `${r.dst} ${r.dev}`).sort();
}

kernelTest(
  "the VPN adds routes equal to copied prefixes after sync: the adds succeed",
  async (ns) => {
    await firezone(ns);
    equal((await linkmirror(ns, ["sync"])).code, 0);
    deepEqual(await copies(ns), [...BASE].sort());
    // ip route add: NLM_F_CREATE | NLM_F_EXCL at the default metric (0, IPv6 1024). Each throws if
    // the kernel says File exists.
    await vpnAddsLanPrefixes(ns);
    ok((await vpnRoutes(ns)).includes(`${LAN.prefix} tun0`));
    ok((await vpnRoutes(ns)).includes(`${LAN.prefix6} tun0`));
    // The VPN's route wins the lookup at once (lower metric), and the next sync withdraws the copies.
    equal(await deviceFor(ns, LAN.peer), "tun0");
    equal(await deviceFor(ns, LAN.peer6), "tun0");
    equal((await linkmirror(ns, ["sync"])).code, 0);
    deepEqual(await copies(ns), []);
  },
);

kernelTest(
  "the VPN adds routes equal to copied prefixes under watch: the adds succeed, copies go",
  async (ns) => {
    await firezone(ns);
    const daemon = spawnLinkmirror(ns, ["watch", "--log-level", "debug"]);
    await daemon.waitForLine(/"message":"Watching"/, { timeoutMs: 15_000 });
    await waitFor(
      async () => JSON.stringify(await copies(ns)) === JSON.stringify([...BASE].sort()),
      {
        message: "the copies",
      },
    );
    await vpnAddsLanPrefixes(ns);
    await waitFor(async () => (await copies(ns)).length === 0, { message: "the copies withdrawn" });
    equal(await deviceFor(ns, LAN.peer), "tun0");
    // The VPN removes them again: the copies come back.
    await ns.ip("route", "del", LAN.prefix, "dev", "tun0", "table", FIREZONE_TABLE);
    await ns.ip("-6", "route", "del", LAN.prefix6, "dev", "tun0", "table", FIREZONE_TABLE);
    await ns.ip("-6", "route", "del", "fe80::/64", "dev", LAN.dev, "table", FIREZONE_TABLE);
    await waitFor(
      async () => JSON.stringify(await copies(ns)) === JSON.stringify([...BASE].sort()),
      {
        message: "the copies back",
      },
    );
    equal(await deviceFor(ns, LAN.peer), LAN.dev);
    equal((await daemon.stop()).code, 0, daemon.output());
  },
);

kernelTest(
  "a VPN restart (flush, linkmirror first, the VPN re-adds all) ends with every VPN route",
  async (ns) => {
    await firezone(ns);
    // The tunnel's own prefixes in main, as a VPN client puts them there: while the VPN's table is
    // empty nothing marks tun0 as the VPN's, and linkmirror sees them as LAN routes.
    // At the default metrics (0, IPv6 1024): a copy at the source's metric would have the very
    // key the VPN's add below uses.
    await ns.ip("-6", "route", "add", "fd00:2021:1111::/107", "dev", "tun0");
    await ns.ip("route", "add", "10.64.0.0/16", "dev", "tun0");
    const vpnAll: string[][] = [
      ["route", "add", "default", "dev", "tun0", "table", FIREZONE_TABLE],
      ["route", "add", "100.64.0.0/11", "dev", "tun0", "table", FIREZONE_TABLE],
      ["route", "add", "10.64.0.0/16", "dev", "tun0", "table", FIREZONE_TABLE],
      ["-6", "route", "add", "default", "dev", "tun0", "table", FIREZONE_TABLE],
      ["-6", "route", "add", "fd00:2021:1111::/107", "dev", "tun0", "table", FIREZONE_TABLE],
      ["route", "add", LAN.prefix, "dev", "tun0", "table", FIREZONE_TABLE],
      ["-6", "route", "add", LAN.prefix6, "dev", "tun0", "table", FIREZONE_TABLE],
    ];
    for (const round of ["sync", "watch"]) {
      await ns.ip("-4", "route", "flush", "table", FIREZONE_TABLE);
      await ns.ip("-6", "route", "flush", "table", FIREZONE_TABLE);
      // linkmirror first: with the table empty it copies everything on-link, tun0's prefixes too.
      const daemon = round === "watch"
        ? spawnLinkmirror(ns, ["watch", "--log-level", "debug"])
        : undefined;
      if (daemon) await daemon.waitForLine(/"message":"Watching"/, { timeoutMs: 15_000 });
      else equal((await linkmirror(ns, ["sync"])).code, 0);
      ok(
        (await copies(ns)).includes("fd00:2021:1111::/107 tun0"),
        `${round}: tun0's prefix copied`,
      );
      ok((await copies(ns)).includes("10.64.0.0/16 tun0"), `${round}: tun0's IPv4 prefix copied`);
      // The VPN adds back every route; ip exits non-zero on File exists.
      for (const args of vpnAll) await ns.ip(...args);
      const want = [
        "default tun0",
        "default tun0",
        "100.64.0.0/11 tun0",
        "10.64.0.0/16 tun0",
        "fd00:2021:1111::/107 tun0",
        `${LAN.prefix} tun0`,
        `${LAN.prefix6} tun0`,
      ].sort();
      deepEqual(await vpnRoutes(ns), want, `${round}: every VPN route present`);
      if (daemon) {
        // The daemon then withdraws the copies the VPN's routes overrule (tun0 is the VPN's again).
        await waitFor(async () => JSON.stringify(await copies(ns)) === `["fe80::/64 ${LAN.dev}"]`, {
          message: "the copies the VPN overrules withdrawn",
        });
        equal((await daemon.stop()).code, 0, daemon.output());
      }
      deepEqual(await vpnRoutes(ns), want, `${round}: still every VPN route`);
    }
  },
);
