/** `--include-gateway-routes`: which gateway routes of main are mirrored, into which tables. */

import { deepEqual, equal, ok } from "node:assert/strict";
import { AF, RT_SCOPE, RTPROT } from "../../src/netlink/constants.ts";
import { parseCidr } from "../../src/netlink/ip.ts";
import type { Route } from "../../src/netlink/route.ts";
import { gatewayOnMirroredLan } from "../../src/planner/eligibility.ts";
import { type PlanOptions, planOptions } from "../../src/planner/options.ts";
import { isEmptyPlan, type Plan, type PlanInput, planSync } from "../../src/planner/plan.ts";
import {
  copyOf,
  FIREZONE,
  hop,
  IF,
  planInputOf,
  static4,
  v4,
  v6,
  vpnTable,
  WG_QUICK,
} from "./fixtures.ts";
import { applyPlan } from "./invariants.ts";

const lan = v4("192.168.1.0/24", IF.wlan0, { prefsrc: "192.168.1.50", priority: 600 });
const lab = static4("10.20.0.0/16", IF.wlan0, { gateway: "192.168.1.254" });
const vlan = static4("10.30.0.0/24", IF.wlan0, {
  gateway: "192.168.1.253",
  priority: 100,
});
const defaultRoute = v4("0.0.0.0/0", IF.wlan0, {
  protocol: RTPROT.DHCP,
  gateway: "192.168.1.1",
  scope: RT_SCOPE.UNIVERSE,
  priority: 600,
});
const linkLocal6 = v6("fe80::/64", IF.wlan0);
const lab6 = v6("2001:db8:99::/48", IF.wlan0, { protocol: RTPROT.RA, gateway: "fe80::1" });

const vpn = vpnTable;

/** The input of `source` with gateway routes included, by default into Firezone's table. */
function input(
  source: Route[],
  targets: Array<[number, Route[]]> = [vpn()],
  options: Partial<PlanOptions> = { includeGatewayRoutes: true },
): PlanInput {
  return planInputOf(source, targets, options);
}

/** Plans and checks that applying the plan and planning again changes nothing. */
function plan(planInput: PlanInput): Plan {
  const result = planSync(planInput);
  const again = planSync({ ...planInput, targets: applyPlan(planInput, result) });
  ok(isEmptyPlan(again), `not idempotent: ${JSON.stringify(again.adds)}`);
  deepEqual(again.excluded, result.excluded);
  return result;
}

const reasons = (p: Plan) => p.excluded.map((e) => [`${e.route.dst}/${e.route.dstLen}`, e.reason]);

Deno.test("off by default: gateway routes are excluded as `gateway`, nothing else changes", () => {
  const p = plan(input([lan, lab, defaultRoute], [vpn()], {}));
  deepEqual(p.adds, [copyOf(lan, FIREZONE)]);
  deepEqual(reasons(p), [["0.0.0.0/0", "default"], ["10.20.0.0/16", "gateway"]]);
  equal(planOptions().includeGatewayRoutes, undefined);
});

Deno.test("on: a route via a gateway on a mirrored LAN is copied with its gateway", () => {
  const p = plan(input([defaultRoute, lab, lan, vlan]));
  const labCopy: Route = { ...copyOf(lab, FIREZONE), gateway: "192.168.1.254" };
  const vlanCopy: Route = { ...copyOf(vlan, FIREZONE), gateway: "192.168.1.253" };
  deepEqual(p.adds, [labCopy, vlanCopy, copyOf(lan, FIREZONE)]);
  equal(labCopy.scope, RT_SCOPE.UNIVERSE);
  equal(vlanCopy.priority, 2 ** 31 + 100);
  deepEqual(reasons(p), [["0.0.0.0/0", "default"]]);
});

Deno.test("on: a gateway outside every mirrored LAN, or on another device, is gateway-off-lan", () => {
  const offLan = static4("10.40.0.0/16", IF.wlan0, { gateway: "172.16.0.1" });
  const otherDev = static4("10.50.0.0/16", IF.eth0, { gateway: "192.168.1.254" });
  const p = plan(input([lan, offLan, otherDev]));
  deepEqual(p.adds, [copyOf(lan, FIREZONE)]);
  deepEqual(p.excluded.map((e) => [e.route.dst, e.reason, e.table]), [
    ["10.40.0.0", "gateway-off-lan", FIREZONE],
    ["10.50.0.0", "gateway-off-lan", FIREZONE],
  ]);
});

Deno.test("on: --exclude limits it, on the gateway route or on its LAN", () => {
  const byPrefix = plan(input([lan, lab, vlan], [vpn()], {
    includeGatewayRoutes: true,
    exclude: [parseCidr("10.20.0.0/16")],
  }));
  deepEqual(byPrefix.adds.map((r) => r.dst), ["10.30.0.0", "192.168.1.0"]);
  deepEqual(reasons(byPrefix), [["10.20.0.0/16", "excluded-prefix"]]);

  const wholeRange = plan(input([lan, lab, vlan], [vpn()], {
    includeGatewayRoutes: true,
    exclude: [parseCidr("10.0.0.0/8")],
  }));
  deepEqual(wholeRange.adds, [copyOf(lan, FIREZONE)]);

  const noLan = plan(input([lan, lab], [vpn()], {
    includeGatewayRoutes: true,
    exclude: [parseCidr("192.168.1.0/24")],
  }));
  deepEqual(noLan.adds, []);
  deepEqual(reasons(noLan), [["10.20.0.0/16", "gateway-off-lan"], [
    "192.168.1.0/24",
    "excluded-prefix",
  ]]);

  const noDevice = plan(input([lan, lab], [vpn()], {
    includeGatewayRoutes: true,
    excludeDevices: ["wlan0"],
  }));
  deepEqual(noDevice.adds, []);
});

Deno.test("on: multipath and nexthop-object routes follow their gateways' LANs", () => {
  const multipath = static4("10.60.0.0/16", undefined, {
    multipath: [hop(IF.wlan0, "192.168.1.2"), hop(IF.wlan0, "192.168.1.3")],
  });
  const nexthop = static4("10.70.0.0/16", IF.wlan0, { nhId: 7 });
  const offLan = static4("10.80.0.0/16", undefined, {
    multipath: [hop(IF.wlan0, "192.168.1.2"), hop(IF.wlan0, "192.168.9.3")],
  });
  const p = plan(input([lan, defaultRoute, multipath, nexthop, offLan]));
  deepEqual(p.adds, [copyOf(multipath, FIREZONE), copyOf(lan, FIREZONE)]);
  deepEqual(reasons(p), [
    ["0.0.0.0/0", "default"],
    ["10.70.0.0/16", "nexthop-object"],
    ["10.80.0.0/16", "gateway-off-lan"],
  ]);
  const objects = [
    {
      id: 7,
      family: AF.INET,
      scope: 0,
      protocol: 0,
      flags: 0,
      oif: IF.wlan0,
      gateway: "192.168.1.9",
    },
  ];
  const withObjects = plan({ ...input([lan, nexthop]), nexthops: objects });
  deepEqual(withObjects.adds, [copyOf(nexthop, FIREZONE), copyOf(lan, FIREZONE)]);
  equal(withObjects.adds[0].oif, undefined, "a copy refers to the object, not its device");
  const offLanObject = [{ ...objects[0], gateway: "192.168.9.9" }];
  deepEqual(reasons(plan({ ...input([lan, nexthop]), nexthops: offLanObject })), [
    ["10.70.0.0/16", "gateway-off-lan"],
  ]);
});

Deno.test("on: a LAN held by a foreign route, or on the VPN's interface, takes its gateways along", () => {
  const foreignLan = v4("192.168.1.0/24", IF.tun0, { table: FIREZONE, protocol: RTPROT.BOOT });
  const held = plan(input([lan, lab], [vpn(FIREZONE, IF.tun0, foreignLan)]));
  deepEqual(held.adds, []);
  deepEqual(reasons(held), [["10.20.0.0/16", "gateway-off-lan"], [
    "192.168.1.0/24",
    "vpn-route-wins",
  ]]);
  const conflict = plan(input([lan, lab], [vpn(FIREZONE, IF.tun0, foreignLan)], {
    includeGatewayRoutes: true,
    precedence: "lan",
  }));
  deepEqual(conflict.adds, []);
  equal(conflict.conflicts.length, 1);
  deepEqual(reasons(conflict), [["10.20.0.0/16", "gateway-off-lan"]]);

  const onVpn = plan(input([lan, lab], [vpn(WG_QUICK, IF.wlan0)]));
  deepEqual(onVpn.adds, []);
  deepEqual(reasons(onVpn), [["10.20.0.0/16", "vpn-interface"], [
    "192.168.1.0/24",
    "vpn-interface",
  ]]);
});

Deno.test("on: several tables each get the gateway route only where its LAN is mirrored", () => {
  const p = plan(input([lan, lab], [vpn(FIREZONE, IF.tun0), vpn(WG_QUICK, IF.wlan0)]));
  deepEqual(p.adds.map((r) => [r.table, r.dst]), [
    [FIREZONE, "10.20.0.0"],
    [FIREZONE, "192.168.1.0"],
  ]);
  deepEqual(p.excluded.map((e) => [e.route.dst, e.reason, e.table]), [
    ["10.20.0.0", "vpn-interface", WG_QUICK],
    ["192.168.1.0", "vpn-interface", WG_QUICK],
  ]);
});

Deno.test("on: gateway routes obey the local address space guard", () => {
  const p = plan(input([linkLocal6, lab6]));
  deepEqual(p.adds, [copyOf(linkLocal6, FIREZONE)]);
  deepEqual(reasons(p), [["2001:db8:99::/48", "outside-local-space"]]);
  const publicVia = static4("198.51.100.0/24", IF.wlan0, { gateway: "192.168.1.254" });
  deepEqual(reasons(plan(input([lan, publicVia]))), [["198.51.100.0/24", "outside-local-space"]]);
});

Deno.test("on: IPv6 routes via a link-local gateway follow the mirrored fe80::/64", () => {
  const p = plan(input([linkLocal6, lab6], [vpn()], {
    includeGatewayRoutes: true,
    allowPrefixes: [parseCidr("2001:db8:99::/48")],
  }));
  deepEqual(p.adds, [
    { ...copyOf(lab6, FIREZONE), gateway: "fe80::1" },
    copyOf(linkLocal6, FIREZONE),
  ]);
  const inet4Only = plan(input([linkLocal6, lab6], [vpn()], {
    includeGatewayRoutes: true,
    families: [AF.INET],
  }));
  deepEqual(inet4Only.adds, []);
});

Deno.test("on: a copied gateway route is kept, and deleted when its LAN leaves main", () => {
  const labCopy: Route = { ...copyOf(lab, FIREZONE), gateway: "192.168.1.254" };
  const target = vpn(FIREZONE, IF.tun0, copyOf(lan, FIREZONE), labCopy);
  const steady = plan(input([lan, lab], [target]));
  ok(isEmptyPlan(steady));
  equal(steady.unchanged.length, 2);

  const lanGone = plan(input([lab], [target]));
  deepEqual(lanGone.adds, []);
  deepEqual(lanGone.deletes, [labCopy, copyOf(lan, FIREZONE)]);

  const optionOff = plan(input([lan, lab], [target], {}));
  deepEqual(optionOff.deletes, [labCopy]);
});

Deno.test("a gateway copy whose gateway moved is replaced in its slot", () => {
  const stale: Route = { ...copyOf(lab, FIREZONE), gateway: "192.168.1.200" };
  const p = plan(input([lan, lab], [vpn(FIREZONE, IF.tun0, copyOf(lan, FIREZONE), stale)]));
  deepEqual(p.deletes, []);
  deepEqual(p.adds, []);
  deepEqual(p.replaces, [{
    from: stale,
    to: { ...copyOf(lab, FIREZONE), gateway: "192.168.1.254" },
  }]);
});

Deno.test("gatewayOnMirroredLan: same family, same interface, gateway inside the prefix", () => {
  const lanCopy = copyOf(lan, FIREZONE);
  equal(gatewayOnMirroredLan(lab, [lanCopy]), true);
  equal(gatewayOnMirroredLan({ ...lab, gateway: "192.168.2.1" }, [lanCopy]), false);
  equal(gatewayOnMirroredLan({ ...lab, oif: IF.eth0 }, [lanCopy]), false);
  equal(gatewayOnMirroredLan(lab, [{ ...lanCopy, gateway: "192.168.1.1" }]), false);
  equal(gatewayOnMirroredLan(lab6, [copyOf(linkLocal6, FIREZONE)]), true);
  equal(gatewayOnMirroredLan(lab6, [lanCopy]), false);
  equal(gatewayOnMirroredLan(lan, [lanCopy]), false);
});
