/**
 * The wanted copies of a table: `add` refuses exactly the copies whose slot ({@linkcode routeKey})
 * an earlier one took, and `find` gives the wanted candidate of a route's slot, in any order of
 * sources and routes (the shortcuts for the kernel's order must never change an answer).
 */

import { equal } from "node:assert/strict";
import { AF, RTNH_F } from "../../src/netlink/constants.ts";
import type { Route } from "../../src/netlink/route.ts";
import { Candidate, dstKey } from "../../src/planner/candidate.ts";
import { isSameCopy, mirrorCopy } from "../../src/planner/route_copy.ts";
import { routeKey } from "../../src/planner/route_identity.ts";
import { WantedCopies } from "../../src/planner/wanted.ts";
import { Random } from "../_fixtures/random.ts";
import { FIREZONE, IF, OURS, v4, v6 } from "./fixtures.ts";

const target = { table: FIREZONE, protocol: OURS };

function randomSource(rand: Random): Route {
  if (rand.chance(0.2)) {
    return v6(rand.pick(["fe80::/64", "fd00::/64"]), rand.pick([IF.eth0, IF.eth1]), {
      priority: rand.pick([undefined, 256]),
    });
  }
  const extra: Partial<Route> = { priority: rand.pick([undefined, undefined, 5]) };
  if (rand.chance(0.1)) extra.multipath = [{ oif: IF.eth0, flags: 0, hops: 0 }];
  return v4(
    `10.0.${rand.int(6)}.0/${rand.pick([24, 24, 25])}`,
    rand.pick([IF.eth0, IF.eth1]),
    extra,
  );
}

Deno.test("WantedCopies.add and find agree with a map of the built copies by routeKey", () => {
  const rand = new Random(0x77616e74); // "want"
  let duplicates = 0, found = 0, exact = 0;
  for (let i = 0; i < 3_000; i++) {
    const sources = Array.from({ length: rand.int(12) }, () => randomSource(rand));
    // Half the time in destination order, as the kernel dumps them.
    if (rand.chance(0.5)) {
      sources.sort((a, b) => (dstKey(a) as number) - (dstKey(b) as number) || a.family - b.family);
    }
    const candidates = sources.map((route) => new Candidate(route, new Map()));
    const wanted = new WantedCopies(candidates, target);
    const byKey = new Map<string, Candidate>();
    for (const candidate of candidates) {
      const key = routeKey(mirrorCopy(candidate.route, target));
      const expected = !byKey.has(key);
      if (expected) byKey.set(key, candidate);
      else duplicates++;
      equal(wanted.add(candidate), expected, `case ${i}: ${key}`);
    }
    // The table: copies of the sources (some altered), in the same or another order.
    const routes = sources.map((route) => {
      const copy = mirrorCopy(route, target);
      return rand.chance(0.2) ? { ...copy, oif: IF.wlan0, flags: RTNH_F.ONLINK } : copy;
    });
    routes.push(mirrorCopy(randomSource(rand), target));
    for (const route of rand.chance(0.5) ? rand.shuffle(routes) : routes) {
      const expected = byKey.get(routeKey(route));
      const candidate = wanted.find(route);
      equal(candidate, expected, `case ${i}: ${routeKey(route)}`);
      if (candidate === undefined) continue;
      found++;
      equal(wanted.exact, isSameCopy(route, mirrorCopy(candidate.route, target)));
      if (wanted.exact) exact++;
    }
  }
  equal(duplicates > 1_000 && found > 10_000 && exact > 5_000, true, `${duplicates} ${found}`);
});

Deno.test("dstKey: IPv4 destinations as numbers, others as text", () => {
  equal(dstKey(v4("10.0.0.1/32", IF.eth0)), 167772161);
  equal(dstKey(v4("192.168.0.0/16", IF.eth0)), 0xc0a80000 | 0);
  equal(dstKey(v6("fe80::/64", IF.eth0)), "fe80::");
  equal(dstKey({ family: AF.INET, dst: "fe80::" }), "fe80::");
});
