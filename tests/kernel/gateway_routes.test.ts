/**
 * `--include-gateway-routes` against the kernel: exactly the routes via a gateway on a mirrored
 * LAN are copied (with their gateway), none with `--exclude`, and they go again without the flag.
 */

import { deepEqual, equal, match, ok } from "node:assert/strict";
import { firezone, FIREZONE_TABLE, type IpRoute, LAN, tableRoutes } from "./firezone.ts";
import { linkmirror } from "./linkmirror.ts";
import { kernelTest, type Netns } from "./netns.ts";

/** Copies sit at their source's metric plus 2^31. */
const COPY_OFFSET = 2 ** 31;

/**
 * linkmirror's copies as `dst [via gw] dev d [metric m]`, sorted, with `m` the source's metric
 * (the copy's minus 2^31; a copy below the offset fails the test).
 */
async function copies(ns: Netns): Promise<string[]> {
  return (await tableRoutes(ns)).filter((r: IpRoute) => r.protocol === "77").map((r) => {
    ok((r.metric ?? 0) >= COPY_OFFSET, `copy ${r.dst} below the metric offset: ${r.metric}`);
    const metric = (r.metric ?? 0) - COPY_OFFSET;
    return `${r.dst}${r.gateway ? ` via ${r.gateway}` : ""} dev ${r.dev}${
      metric && metric !== 256 && metric !== 1024 ? ` metric ${metric}` : ""
    }`;
  }).sort();
}

const ON_LINK = [`${LAN.prefix} dev lan0`, `${LAN.prefix6} dev lan0`, "fe80::/64 dev lan0"];
const VIA_LAN = [
  "10.20.0.0/16 via 192.168.188.254 dev lan0",
  "10.30.0.0/24 via 192.168.188.253 dev lan0 metric 50",
  "fd00:99::/48 via fe80::1 dev lan0",
];

/** Firezone, plus routed LAN subnets in main and routes that must never be copied. */
async function routedLans(ns: Netns): Promise<void> {
  await firezone(ns);
  await ns.ip("route", "add", "10.20.0.0/16", "via", "192.168.188.254", "dev", LAN.dev);
  await ns.ip(
    "route",
    "add",
    "10.30.0.0/24",
    "via",
    "192.168.188.253",
    "dev",
    LAN.dev,
    "metric",
    "50",
  );
  await ns.ip("-6", "route", "add", "fd00:99::/48", "via", "fe80::1", "dev", LAN.dev);
  // Never: the default route, a gateway off every mirrored LAN, a route via the VPN's device.
  await ns.ip("route", "add", "default", "via", LAN.peer, "dev", LAN.dev);
  await ns.ip("route", "add", "10.40.0.0/16", "via", "172.16.9.9", "dev", LAN.dev, "onlink");
  await ns.ip("route", "add", "10.50.0.0/16", "via", "100.64.0.1", "dev", "tun0", "onlink");
}

kernelTest(
  "gateway routes: exactly those via a mirrored LAN, and ip route get agrees",
  async (ns) => {
    await routedLans(ns);
    const vpnBefore = (await tableRoutes(ns)).filter((r) => r.protocol !== "77");

    const off = await linkmirror(ns, ["sync"]);
    equal(off.code, 0, off.stderr);
    deepEqual(await copies(ns), [...ON_LINK].sort(), "off by default");

    const on = await linkmirror(ns, ["sync", "--include-gateway-routes"]);
    equal(on.code, 0, on.stderr);
    match(on.stdout, /sync: 3 added, 0 replaced, 0 deleted, 0 failed/);
    deepEqual(await copies(ns), [...ON_LINK, ...VIA_LAN].sort());
    deepEqual((await tableRoutes(ns)).filter((r) => r.protocol !== "77"), vpnBefore);

    const [got] = await ns.ipJson<{ gateway?: string; dev?: string; table?: string }[]>(
      "route",
      "get",
      "10.20.1.1",
    );
    deepEqual([got.gateway, got.dev, got.table], ["192.168.188.254", LAN.dev, FIREZONE_TABLE]);

    const plan = await linkmirror(ns, ["plan", "--include-gateway-routes", "--json"]);
    const doc = JSON.parse(plan.stdout);
    deepEqual(doc.add, []);
    const reasons = Object.fromEntries(
      doc.excluded.map((e: { route: { dst: string }; reason: string }) => [e.route.dst, e.reason]),
    );
    equal(reasons["default"], "default");
    equal(reasons["10.40.0.0/16"], "gateway-off-lan");
    equal(reasons["10.50.0.0/16"], "vpn-interface");

    const again = await linkmirror(ns, ["sync", "--include-gateway-routes"]);
    match(again.stdout, /0 added, 0 replaced, 0 deleted, 0 failed, 0 conflicts, 6 unchanged/);
    const without = await linkmirror(ns, ["sync"]);
    match(without.stdout, /sync: 0 added, 0 replaced, 3 deleted, 0 failed/);
    deepEqual(await copies(ns), [...ON_LINK].sort());
  },
);

kernelTest(
  "gateway routes: none with --exclude; a LAN that goes takes its gateways",
  async (ns) => {
    await routedLans(ns);
    const wide = await linkmirror(ns, [
      "sync",
      "--include-gateway-routes",
      "--exclude",
      "10.0.0.0/8",
      "--exclude",
      "fd00:99::/48",
    ]);
    equal(wide.code, 0, wide.stderr);
    deepEqual(await copies(ns), [...ON_LINK].sort());

    const one = await linkmirror(ns, ["sync", "--include-gateway-routes", "-x", "10.20.0.0/16"]);
    equal(one.code, 0, one.stderr);
    deepEqual(await copies(ns), [...ON_LINK, ...VIA_LAN.slice(1)].sort());

    // Excluding the LAN excludes the routes behind it.
    const noLan = await linkmirror(ns, [
      "sync",
      "--include-gateway-routes",
      "--exclude",
      LAN.prefix,
    ]);
    equal(noLan.code, 0, noLan.stderr);
    deepEqual(
      await copies(ns),
      [`${LAN.prefix6} dev lan0`, "fe80::/64 dev lan0", VIA_LAN[2]].sort(),
    );

    const env = await linkmirror(ns, ["sync"], {
      env: { LINKMIRROR_INCLUDE_GATEWAY_ROUTES: "1" },
    });
    equal(env.code, 0, env.stderr);
    deepEqual(await copies(ns), [...ON_LINK, ...VIA_LAN].sort());
  },
);
