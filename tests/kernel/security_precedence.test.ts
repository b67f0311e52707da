/**
 * The VPN's own routes win over linkmirror's copies: a resource the VPN routes (192.168.0.0/16)
 * covering the LAN (192.168.188.0/24) means no copy, and the lookup takes the tunnel; with
 * `--precedence lan` the copy is made and the LAN wins. Under `watch`, the copy is withdrawn when
 * the VPN adds the resource and comes back when it removes it.
 */

import { deepEqual, equal, match } from "node:assert/strict";
import { firezone, FIREZONE_TABLE, LAN } from "./firezone.ts";
import { linkmirror, spawnLinkmirror } from "./linkmirror.ts";
import { kernelTest, type Netns, waitFor } from "./netns.ts";
import { copies, deviceFor } from "./security.ts";

const RESOURCE = "192.168.0.0/16";
const RESOURCE6 = "2001:db8::/32";
const BASE = [`${LAN.prefix} ${LAN.dev}`, `${LAN.prefix6} ${LAN.dev}`, `fe80::/64 ${LAN.dev}`];

/** The VPN adds (or deletes) its resources, both families, the way a client would. */
async function resources(ns: Netns, op: "add" | "del"): Promise<void> {
  await ns.ip("route", op, RESOURCE, "dev", "tun0", "table", FIREZONE_TABLE);
  await ns.ip("-6", "route", op, RESOURCE6, "dev", "tun0", "table", FIREZONE_TABLE);
}

async function copiesBecome(ns: Netns, want: string[], message: string): Promise<void> {
  const sorted = JSON.stringify([...want].sort());
  let last: string[] = [];
  try {
    await waitFor(async () => JSON.stringify(last = await copies(ns)) === sorted, { message });
  } catch (e) {
    deepEqual(last, [...want].sort(), `${message}: ${e}`);
  }
}

kernelTest(
  "precedence: a VPN resource covering the LAN wins; --precedence lan copies",
  async (ns) => {
    await firezone(ns);
    await resources(ns, "add");
    const sync = await linkmirror(ns, ["sync"]);
    equal(sync.code, 0, sync.stderr);
    deepEqual(await copies(ns), [`fe80::/64 ${LAN.dev}`]);
    equal(await deviceFor(ns, LAN.peer), "tun0", "the resource's traffic goes to the tunnel");
    equal(await deviceFor(ns, LAN.peer6), "tun0");

    // plan, status and explain name the VPN route that won.
    const plan = JSON.parse((await linkmirror(ns, ["plan", "--json"])).stdout);
    const won = plan.excluded.filter((e: { reason: string }) => e.reason === "vpn-route-wins")
      .map((e: { route: { dst: string }; vpnRoute: { dst: string; dev: string } }) =>
        `${e.route.dst} < ${e.vpnRoute.dst} ${e.vpnRoute.dev}`
      ).sort();
    deepEqual(won, [`${LAN.prefix} < ${RESOURCE} tun0`, `${LAN.prefix6} < ${RESOURCE6} tun0`]);
    const planText = await linkmirror(ns, ["plan"]);
    match(
      planText.stdout,
      /~ 192\.168\.188\.0\/24 dev lan0 .*\(vpn-route-wins: 192\.168\.0\.0\/16 dev tun0/,
    );
    const status = await linkmirror(ns, ["status"], {
      env: { LINKMIRROR_STATE_FILE: "/nonexistent" },
    });
    match(status.stdout, /vpn-route-wins: 192\.168\.0\.0\/16 dev tun0/);
    const explain = JSON.parse((await linkmirror(ns, ["explain", "--json", LAN.peer])).stdout);
    equal(explain.tables[0].reason, "vpn-route-wins");
    equal(explain.tables[0].vpnRoute.dst, RESOURCE);
    const explainText = await linkmirror(ns, ["explain", LAN.peer]);
    match(explainText.stdout, /the VPN routes it itself .*192\.168\.0\.0\/16 dev tun0/);

    // --precedence lan: today's longest-prefix behaviour, the LAN wins.
    const lan = await linkmirror(ns, ["sync", "--precedence", "lan"]);
    equal(lan.code, 0, lan.stderr);
    deepEqual(await copies(ns), [...BASE].sort());
    equal(await deviceFor(ns, LAN.peer), LAN.dev);
    equal(await deviceFor(ns, LAN.peer6), LAN.dev);

    // Back to the default: the copies are withdrawn.
    equal((await linkmirror(ns, ["sync"])).code, 0);
    deepEqual(await copies(ns), [`fe80::/64 ${LAN.dev}`]);
    equal(await deviceFor(ns, LAN.peer), "tun0");
  },
);

kernelTest(
  "precedence under watch: the VPN adds its resource, the copy goes; removes it, it comes back",
  async (ns) => {
    await firezone(ns);
    const daemon = spawnLinkmirror(ns, ["watch", "--log-level", "debug"]);
    await daemon.waitForLine(/"message":"Watching"/, { timeoutMs: 15_000 });
    await copiesBecome(ns, BASE, "copies at start");
    equal(await deviceFor(ns, LAN.peer), LAN.dev);

    await resources(ns, "add");
    await copiesBecome(ns, [`fe80::/64 ${LAN.dev}`], "the copies withdrawn");
    equal(await deviceFor(ns, LAN.peer), "tun0");
    equal(await deviceFor(ns, LAN.peer6), "tun0");

    await resources(ns, "del");
    await copiesBecome(ns, BASE, "the copies back");
    equal(await deviceFor(ns, LAN.peer), LAN.dev);
    equal(await deviceFor(ns, LAN.peer6), LAN.dev);
    equal((await daemon.stop()).code, 0, daemon.output());
  },
);
