import { deepEqual, equal } from "node:assert/strict";
import { ipv4Number } from "../../src/netlink/ip.ts";
import type { Route } from "../../src/netlink/route.ts";
import {
  compareAddresses,
  compareRoutes,
  RouteOrder,
  sortInPlace,
  sortRoutes,
} from "../../src/planner/order.ts";
import { Random } from "../_fixtures/random.ts";
import { IF, v4, v6 } from "./fixtures.ts";
import { AF } from "../../src/netlink/constants.ts";

Deno.test("compareAddresses orders numerically, then non-addresses as text", () => {
  const sorted = ["10.0.0.0", "9.0.0.0", "not-an-address", "192.168.1.0", "1.2.3.4", "abc"]
    .sort(compareAddresses);
  deepEqual(sorted, ["1.2.3.4", "9.0.0.0", "10.0.0.0", "192.168.1.0", "abc", "not-an-address"]);
  equal(compareAddresses("2001:db8::", "fe80::") < 0, true);
  equal(compareAddresses("2001:db8::2", "2001:db8::10") < 0, true);
  equal(compareAddresses("fe80::", "fe80:0::"), 0);
});

Deno.test("compareRoutes: family, table, dst, length, tos, metric, oif, prefsrc, gateway", () => {
  const expected = [
    v4("9.0.0.0/8", IF.eth0),
    v4("10.0.0.0/8", IF.eth0),
    v4("10.0.0.0/16", IF.eth0),
    v4("10.0.0.0/16", IF.eth0, { tos: 4 }),
    v4("10.0.0.0/16", IF.eth0, { tos: 4, priority: 5 }),
    v4("10.0.0.0/16", IF.eth1, { tos: 4, priority: 5 }),
    v4("10.0.0.0/16", IF.eth1, { tos: 4, priority: 5, prefsrc: "10.0.0.1" }),
    v4("10.0.0.0/16", IF.eth1, { tos: 4, priority: 5, prefsrc: "10.0.0.1", gateway: "10.0.0.9" }),
    v4("1.0.0.0/8", IF.eth0, { table: 300 }),
    v6("2001:db8::/64", IF.eth0),
    v6("fe80::/64", IF.eth0, { priority: 256 }),
    v6("fe80::/64", IF.eth1, { priority: 256 }),
    v6("fe80::/64", IF.eth0, { priority: undefined }),
  ];
  const shuffled = [...expected].reverse();
  deepEqual(shuffled.sort(compareRoutes), expected);
});

Deno.test("sortInPlace sorts like Array.prototype.sort (stably) and leaves sorted lists alone", () => {
  const byFirst = (a: number[], b: number[]) => a[0] - b[0];
  const lists = [[], [[1, 0]], [[1, 0], [1, 1], [2, 2]], [[2, 0], [1, 1], [1, 2], [0, 3]]];
  for (const list of lists) {
    const expected = [...list].sort(byFirst);
    const given = [...list];
    equal(sortInPlace(given, byFirst), given);
    deepEqual(given, expected);
  }
  const routes = [v4("10.0.0.0/8", IF.eth0), v4("9.0.0.0/8", IF.eth0), v6("fe80::/64", IF.eth0)];
  deepEqual(sortInPlace([...routes], compareRoutes), [...routes].sort(compareRoutes));
});

Deno.test("sortRoutes and RouteOrder agree with a stable sort by compareRoutes", () => {
  const rand = new Random(0x6f72646572); // "order"
  const pool = [
    v4("9.0.0.0/8", IF.eth0),
    v4("10.0.0.0/8", IF.eth0),
    v4("10.0.0.0/8", IF.eth1),
    v4("10.0.0.0/16", IF.eth0),
    v4("10.0.0.0/8", IF.eth0, { priority: 5 }),
    v4("10.0.0.0/8", IF.eth0, { table: 100 }),
    v4("192.168.1.0/24", IF.eth0),
    v6("fe80::/64", IF.eth0),
    v6("2001:db8::/64", IF.eth0),
  ];
  let sorted = 0;
  for (let i = 0; i < 2_000; i++) {
    // Often already in order: a sorted pick, now and then with two neighbours swapped.
    const items = Array.from({ length: rand.int(8) }, () => ({ ...rand.pick(pool) }));
    if (rand.chance(0.6)) items.sort(compareRoutes);
    // Or in runs of one family and table, each in any order, as the kernel dumps IPv6 routes of
    // one destination: only the runs out of order are sorted.
    else if (rand.chance(0.5)) items.sort((a, b) => a.family - b.family || a.table - b.table);
    if (rand.chance(0.2) && items.length > 1) {
      const j = rand.int(items.length - 1);
      [items[j], items[j + 1]] = [items[j + 1], items[j]];
    }
    const expected = [...items].sort(compareRoutes);
    const isSorted = items.every((item, j) => item === expected[j]);
    if (isSorted) sorted++;
    const order = new RouteOrder();
    for (const route of items) {
      order.note(route, route.family === AF.INET ? ipv4Number(route.dst) : -1);
    }
    equal(order.sorted, items.every((r, j) => j === 0 || compareRoutes(items[j - 1], r) <= 0));
    const wrapped = items.map((route) => ({ route }));
    deepEqual(sortRoutes(wrapped, (w: { route: Route }) => w.route).map((w) => w.route), expected);
    const watched = [...items];
    sortRoutes(watched, (route) => route, order);
    deepEqual(watched, expected);
    for (let j = 0; j < items.length; j++) equal(watched[j] === expected[j], true, "stable");
  }
  equal(sorted > 500 && sorted < 1_900, true, `${sorted} lists already in order`);
});

Deno.test("sortRoutes: large lists with shared prefixes agree with a stable sort by compareRoutes", () => {
  const rand = new Random(0x6c61726765); // "large"
  for (const size of [3_000, 40_000]) {
    const routes: Route[] = [];
    for (let i = 0; i < size; i++) {
      // Few enough prefixes that many routes share one, with another device or metric.
      const n = rand.int(size / 4);
      routes.push(
        v4(
          `10.${n >> 8 & 255}.${n & 255}.0/${rand.pick([24, 25, 32])}`,
          rand.pick([IF.eth0, IF.eth1]),
          {
            ...(rand.chance(0.3) ? { priority: rand.int(4) } : {}),
          },
        ),
      );
    }
    const expected = [...routes].sort(compareRoutes);
    const sorted = sortRoutes([...routes], (route) => route);
    equal(sorted.length, expected.length);
    for (let j = 0; j < sorted.length; j++) equal(sorted[j] === expected[j], true, `item ${j}`);
  }
});
