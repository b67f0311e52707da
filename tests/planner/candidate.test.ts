/** A candidate computes per source route what each table asks, and matches copies without one. */

import { equal } from "node:assert/strict";
import { AF } from "../../src/netlink/constants.ts";
import type { NexthopObject } from "../../src/netlink/nexthop.ts";
import type { Route } from "../../src/netlink/route.ts";
import { Candidate } from "../../src/planner/candidate.ts";
import { isGatewayRoute } from "../../src/planner/eligibility.ts";
import { LocalSpace } from "../../src/planner/local_space.ts";
import { DEFAULT_CATCH_ALL, VpnRoutes } from "../../src/planner/precedence.ts";
import { isSameCopy, mirrorCopy } from "../../src/planner/route_copy.ts";
import { sameRouteKey } from "../../src/planner/route_identity.ts";
import { FIREZONE, hop, IF, OURS, v4, v6, vpnDefault } from "./fixtures.ts";

const target = { table: FIREZONE, protocol: OURS };
const NEXTHOPS = new Map<number, NexthopObject>([
  [7, { id: 7, family: AF.INET, scope: 253, protocol: 0, flags: 0, oif: IF.eth1 }],
]);
const SOURCES: Route[] = [
  v4("192.168.1.0/24", IF.eth0),
  v4("100.64.0.0/10", IF.eth0),
  v4("10.20.0.0/16", IF.eth0, { gateway: "192.168.1.254", scope: 0 }),
  v4("10.30.0.0/16", undefined, { nhId: 7, scope: 0 }),
  v4("10.40.0.0/16", undefined, {
    multipath: [hop(IF.eth0, "192.168.1.1"), hop(IF.wg0, "10.9.0.1")],
    scope: 0,
  }),
  v6("fe80::/64", IF.eth1),
  v6("2001:db8:9::/64", IF.eth1),
];

Deno.test("Candidate: what each table asks, as the functions it stands for answer it", () => {
  const space = new LocalSpace({ allow: [], addresses: [] });
  const vpn = new VpnRoutes(
    [vpnDefault(AF.INET, FIREZONE, IF.tun0), v4("10.0.0.0/8", IF.tun0, { table: FIREZONE })],
    DEFAULT_CATCH_ALL,
  );
  for (const source of SOURCES) {
    const candidate = new Candidate(source, NEXTHOPS);
    equal(candidate.isLocal(space), space.admits(source), source.dst);
    equal(candidate.viaGateway, isGatewayRoute(source, NEXTHOPS), source.dst);
    equal(candidate.vpnWinner(vpn), vpn.winner(source), source.dst);
    equal(candidate.usesAny(new Set()), false);
    const oifs = source.nhId !== undefined ? [IF.eth1] : source.multipath?.map((h) => h.oif) ??
      [source.oif ?? 0];
    for (const oif of [IF.eth0, IF.eth1, IF.wg0]) {
      equal(candidate.usesAny(new Set([oif])), oifs.includes(oif), `${source.dst} ${oif}`);
    }
  }
});

Deno.test("Candidate: the copy is built once per table; matching needs no copy", () => {
  for (const source of SOURCES) {
    const candidate = new Candidate(source, NEXTHOPS);
    const copy = mirrorCopy(source, target);
    const others = [copy, { ...copy, oif: IF.wg0 }, { ...copy, priority: 5 }, { ...copy, pref: 1 }];
    for (const route of others) {
      equal(candidate.hasCopyKey(route, target), sameRouteKey(route, copy));
      equal(candidate.isCopy(route, target), isSameCopy(route, copy));
      equal(
        candidate.isCopyInSlot(route, target),
        isSameCopy(route, copy) && sameRouteKey(route, copy),
      );
    }
    const built = candidate.copyFor(target);
    equal(candidate.copyFor(target), built, "once per table");
    equal(JSON.stringify(built), JSON.stringify(copy));
    candidate.startTable(0);
    equal(candidate.copyFor({ ...target, table: 100 }).table, 100, "a new table, a new copy");
  }
});
