import { deepEqual, equal } from "node:assert/strict";
import {
  detectVpnTables,
  mainRulePriority,
  matchesEverything,
  NO_MAIN_RULE,
  referencedTables,
} from "../../src/detect/vpn_tables.ts";
import { AF, FRA, RTM_F, RTN } from "../../src/netlink/constants.ts";
import {
  defaultVia,
  firezoneRule,
  IF,
  LINKS,
  route,
  rule,
  stockRules,
  tailscaleRules,
  wgQuickRules,
} from "./fixtures.ts";

Deno.test("a stock system has no candidate", () => {
  const found = detectVpnTables({
    rules: [...stockRules(AF.INET), ...stockRules(AF.INET6)],
    routes: [],
    links: LINKS,
  });
  deepEqual(found.candidates, []);
  deepEqual(found.ignored, []);
  deepEqual(found.mainPriority, { [AF.INET]: 32766, [AF.INET6]: 32766 });
});

Deno.test("Firezone: table 539098368, both families, its fwmark, its device", () => {
  const found = detectVpnTables({
    rules: [
      ...stockRules(AF.INET),
      firezoneRule(AF.INET),
      ...stockRules(AF.INET6),
      firezoneRule(AF.INET6),
    ],
    routes: [
      defaultVia(539098368, IF.tun0),
      route(539098368, "100.64.0.0/11", { oif: IF.tun0 }),
      defaultVia(539098368, IF.tun0, AF.INET6),
      route(539098368, "192.168.1.0/24", { oif: IF.eth0, protocol: 77 }),
    ],
    links: LINKS,
  });
  equal(found.candidates.length, 1);
  const [fz] = found.candidates;
  equal(fz.table, 539098368);
  deepEqual(fz.families, [AF.INET, AF.INET6]);
  deepEqual(fz.rules.map((r) => [r.family, r.priority]), [[AF.INET, 32765], [AF.INET6, 32765]]);
  deepEqual(fz.devices, ["tun-firezone"]);
  equal(fz.routeCount, 4);
  equal(fz.defaultRoutes.length, 2);
  equal(fz.vpn?.name, "firezone");
  deepEqual(fz.bypassMark, { mark: 0xfd002021, mask: 0xffffffff });
  equal(fz.mainFirst, undefined);
});

Deno.test("wg-quick: the suppress_prefixlength rule is not main's rule, and is reported", () => {
  const found = detectVpnTables({
    rules: [...stockRules(), ...wgQuickRules()],
    routes: [defaultVia(51820, IF.wg0)],
    links: LINKS,
    families: [AF.INET],
  });
  equal(found.mainPriority[AF.INET], 32766);
  equal(found.candidates.length, 1);
  const [wg] = found.candidates;
  equal(wg.table, 51820);
  equal(wg.vpn?.name, "wg-quick");
  deepEqual(wg.bypassMark, { mark: 51820, mask: 0xffffffff });
  equal(wg.mainFirst?.priority, 32764);
  deepEqual(wg.devices, ["wg0"]);
});

Deno.test("Tailscale: table 52 at 5270; its bypass mark comes from the rule to main at 5210", () => {
  const routes = [
    defaultVia(52, IF.tailscale0),
    route(52, "100.64.0.0/10", { oif: IF.tailscale0 }),
    route(52, "192.168.1.0/24", { type: RTN.THROW, scope: 0 }),
  ];
  const found = detectVpnTables({
    rules: [...stockRules(), ...tailscaleRules()],
    routes,
    links: LINKS,
  });
  equal(found.candidates.length, 1);
  const [ts] = found.candidates;
  equal(ts.table, 52);
  equal(ts.vpn?.name, "tailscale");
  deepEqual(ts.bypassMark, { mark: 0x80000, mask: 0xff0000 });
  equal(ts.routeCount, 3);

  // Without an exit node, table 52 has no default route: not a candidate.
  const noExit = detectVpnTables({
    rules: [...stockRules(), ...tailscaleRules()],
    routes: routes.slice(1),
    links: LINKS,
  });
  deepEqual(noExit.candidates, []);
  deepEqual(noExit.ignored.map((t) => [t.table, t.reason, t.routeCount]), [
    [52, "no-default-route", 2],
  ]);
});

Deno.test("several candidates are ordered by their first rule; reserved tables never count", () => {
  const found = detectVpnTables({
    rules: [...stockRules(), firezoneRule(), ...tailscaleRules(), rule(100, 255), rule(101, 253)],
    routes: [defaultVia(539098368, IF.tun0), defaultVia(52, IF.tailscale0)],
    links: LINKS,
    families: [AF.INET],
  });
  deepEqual(found.candidates.map((c) => c.table), [52, 539098368]);
});

Deno.test("a table whose rule comes after main's, or whose default is a throw, is ignored", () => {
  const found = detectVpnTables({
    rules: [...stockRules(), rule(40000, 100), rule(200, 300)],
    routes: [
      defaultVia(100, IF.tun0),
      route(300, "0.0.0.0/0", { type: RTN.THROW, scope: 0 }),
      route(300, "10.0.0.0/8", { oif: IF.tun0 }),
    ],
    links: LINKS,
  });
  deepEqual(found.candidates, []);
  deepEqual(found.ignored.map((t) => [t.table, t.reason]), [
    [100, "after-main"],
    [300, "no-default-route"],
  ]);
});

Deno.test("families are separate: an IPv6-only tunnel is a candidate in inet6 only", () => {
  const input = {
    rules: [
      ...stockRules(AF.INET),
      rule(1000, 77),
      ...stockRules(AF.INET6),
      rule(1000, 77, { family: AF.INET6 }),
    ],
    routes: [defaultVia(77, IF.tun0, AF.INET6)],
    links: LINKS,
  };
  const found = detectVpnTables(input);
  deepEqual(found.candidates.map((c) => [c.table, c.families]), [[77, [AF.INET6]]]);
  deepEqual(found.candidates[0].rules.map((r) => r.family), [AF.INET6]);
  const inet = detectVpnTables({ ...input, families: [AF.INET] });
  deepEqual(inet.candidates, []);
});

Deno.test("without a main rule, every lookup rule counts; cloned routes are not routes", () => {
  const found = detectVpnTables({
    rules: [rule(5, 100)],
    routes: [
      defaultVia(100, IF.tun0),
      { ...route(100, "10.0.0.1/32", { oif: IF.tun0 }), flags: RTM_F.CLONED },
    ],
    links: LINKS,
    families: [AF.INET],
  });
  equal(found.mainPriority[AF.INET], NO_MAIN_RULE);
  equal(found.candidates[0].routeCount, 1);
  equal(found.candidates[0].vpn, undefined);
});

Deno.test("multipath default routes name every hop's device; unknown indexes as ifN", () => {
  const found = detectVpnTables({
    rules: [...stockRules(), rule(100, 100)],
    routes: [route(100, "0.0.0.0/0", {
      multipath: [{ oif: IF.wg0, flags: 0, hops: 0 }, { oif: 99, flags: 0, hops: 0 }],
    })],
    links: LINKS,
    families: [AF.INET],
  });
  deepEqual(found.candidates[0].devices, ["wg0", "if99"]);
});

Deno.test("mainRulePriority, matchesEverything and referencedTables", () => {
  equal(mainRulePriority(stockRules()), 32766);
  equal(mainRulePriority([rule(10, 254, { fwmark: 1 }), rule(20, 254)]), 20);
  equal(mainRulePriority([rule(10, 254, { suppressPrefixLen: 0 })]), NO_MAIN_RULE);
  equal(matchesEverything(rule(1, 254)), true);
  equal(matchesEverything(rule(1, 254, { iifname: "lo" })), false);
  equal(
    matchesEverything(rule(1, 254, { other: [{ type: FRA.UID_RANGE, data: new Uint8Array(8) }] })),
    false,
  );
  deepEqual(referencedTables([...stockRules(), ...tailscaleRules(), firezoneRule()]), [
    52,
    539098368,
  ]);
});
