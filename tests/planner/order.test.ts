import { deepEqual, equal } from "node:assert/strict";
import { compareAddresses, compareRoutes, sortInPlace } from "../../src/planner/order.ts";
import { IF, v4, v6 } from "./fixtures.ts";

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
