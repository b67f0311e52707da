import { deepEqual, equal, notEqual } from "node:assert/strict";
import { AF, RT_SCOPE, RTN } from "../../src/netlink/constants.ts";
import {
  IPV6_DEFAULT_METRIC,
  prefixKey,
  replaceGroupKey,
  routeKey,
  routeMetric,
  sameReplaceGroup,
  sameRouteKey,
} from "../../src/planner/route_identity.ts";
import type { Route } from "../../src/netlink/route.ts";
import { Random } from "../_fixtures/random.ts";
import { FIREZONE, IF, v4, v6 } from "./fixtures.ts";

Deno.test("routeMetric fills in the kernel's default metric per family", () => {
  equal(routeMetric(v4("10.0.0.0/8", IF.eth0)), 0);
  equal(routeMetric(v4("10.0.0.0/8", IF.eth0, { priority: 100 })), 100);
  equal(routeMetric(v6("2001:db8::/64", IF.eth0, { priority: undefined })), IPV6_DEFAULT_METRIC);
  equal(routeMetric(v6("2001:db8::/64", IF.eth0, { priority: 256 })), 256);
});

Deno.test("IPv4 routeKey is (table, dst, dstLen, tos, metric) and nothing else", () => {
  const base = v4("192.168.1.0/24", IF.eth0, { table: FIREZONE, priority: 100 });
  const same: Array<[string, Partial<typeof base>]> = [
    ["device", { oif: IF.eth1 }],
    ["preferred source", { prefsrc: "192.168.1.5" }],
    ["protocol", { protocol: 4 }],
    ["scope", { scope: RT_SCOPE.UNIVERSE }],
    ["type", { type: RTN.UNREACHABLE }],
    ["flags", { flags: 16 }],
    ["gateway", { gateway: "192.168.1.1" }],
  ];
  for (const [what, change] of same) {
    equal(routeKey({ ...base, ...change }), routeKey(base), `${what} is not part of the key`);
  }
  const different: Array<[string, Partial<typeof base>]> = [
    ["table", { table: 254 }],
    ["destination", { dst: "192.168.2.0" }],
    ["prefix length", { dstLen: 25 }],
    ["tos", { tos: 0x10 }],
    ["metric", { priority: 101 }],
    ["absent metric (0)", { priority: undefined }],
    ["family", { family: AF.INET6 }],
  ];
  for (const [what, change] of different) {
    notEqual(routeKey({ ...base, ...change }), routeKey(base), `${what} is part of the key`);
  }
  equal(routeKey({ ...base, priority: 0 }), routeKey({ ...base, priority: undefined }));
});

Deno.test("IPv6 routeKey includes the device and gateway but not the preferred source", () => {
  const base = v6("fe80::/64", IF.eth0, { table: FIREZONE });
  const same: Array<[string, Partial<typeof base>]> = [
    ["preferred source", { prefsrc: "2001:db8::5" }],
    ["protocol", { protocol: 4 }],
    ["flags", { flags: 16 }],
    ["pref", { pref: 1 }],
    ["expires", { expires: 300 }],
  ];
  for (const [what, change] of same) {
    equal(routeKey({ ...base, ...change }), routeKey(base), `${what} is not part of the key`);
  }
  const different: Array<[string, Partial<typeof base>]> = [
    ["device", { oif: IF.eth1 }],
    ["gateway", { gateway: "fe80::1" }],
    ["metric", { priority: 1024 }],
    ["table", { table: 254 }],
    ["destination", { dst: "fe80:1::" }],
    ["prefix length", { dstLen: 10 }],
    ["source prefix", { src: "2001:db8::", srcLen: 64 }],
  ];
  for (const [what, change] of different) {
    notEqual(routeKey({ ...base, ...change }), routeKey(base), `${what} is part of the key`);
  }
  equal(routeKey({ ...base, priority: undefined }), routeKey({ ...base, priority: 1024 }));
});

Deno.test("prefixKey is family, destination and length", () => {
  equal(prefixKey(v4("10.0.0.0/8", IF.eth0)), "2 10.0.0.0/8");
  equal(prefixKey(v6("fe80::/64", IF.eth0)), "10 fe80::/64");
  deepEqual(
    [prefixKey(v4("10.0.0.0/8", IF.eth0, { priority: 5 })), prefixKey(v4("10.0.0.0/8", IF.eth1))],
    ["2 10.0.0.0/8", "2 10.0.0.0/8"],
  );
});

Deno.test("sameRouteKey agrees with routeKey on 5,000 random pairs that often collide", () => {
  const rand = new Random(0x6b6579); // "key"
  const dsts: Record<number, string[]> = {
    [AF.INET]: ["10.0.0.0/8", "10.0.0.0/16", "192.168.1.0/24"],
    [AF.INET6]: ["fe80::/64", "2001:db8::/64", "fe80::/10"],
  };
  const random = (): Route => {
    const family = rand.pick([AF.INET, AF.INET6]);
    const build = family === AF.INET ? v4 : v6;
    const extra: Partial<Route> = {
      table: rand.pick([FIREZONE, 254]),
      priority: rand.pick([undefined, 0, 1024, 5]),
      tos: rand.pick([0, 0x10]),
      gateway: rand.pick([undefined, "-", family === AF.INET ? "10.0.0.1" : "fe80::1"]),
      nhId: rand.pick([undefined, undefined, 0, 7]),
    };
    if (rand.chance(0.2)) Object.assign(extra, { src: rand.pick(["::", "fd00::"]), srcLen: 8 });
    if (rand.chance(0.1)) extra.src = "::";
    return build(rand.pick(dsts[family]), rand.pick([undefined, 0, IF.eth0, IF.eth1]), extra);
  };
  let same = 0;
  for (let i = 0; i < 5_000; i++) {
    const a = random();
    // Half the time `a` with one field taken from another random route.
    const other = random();
    const field = rand.pick(Object.keys(other) as (keyof Route)[]);
    const b = rand.chance(0.5) ? { ...a, [field]: other[field] } : other;
    const expected = routeKey(a) === routeKey(b);
    equal(sameRouteKey(a, b), expected, `${routeKey(a)} vs ${routeKey(b)}`);
    if (expected) same++;
  }
  equal(same > 1_000, true, `only ${same} pairs with the same key`);
});

Deno.test("sameReplaceGroup agrees with replaceGroupKey on every pair of varied routes", () => {
  const base = v4("10.0.0.0/8", IF.eth0);
  const variants = [
    base,
    { ...base, oif: IF.eth1, protocol: 77 },
    { ...base, table: FIREZONE },
    { ...base, dst: "10.1.0.0" },
    { ...base, dstLen: 16 },
    { ...base, tos: 4 },
    { ...base, priority: 0 },
    { ...base, priority: 5 },
    { ...base, family: AF.INET6, dst: "::", dstLen: 8 },
    { ...base, family: AF.INET6, dst: "::", dstLen: 8, priority: IPV6_DEFAULT_METRIC },
    { ...base, family: AF.INET6, dst: "::", dstLen: 8, src: "2001:db8::", srcLen: 32 },
    { ...base, family: AF.INET6, dst: "::", dstLen: 8, src: "2001:db8::", srcLen: 48 },
  ];
  for (const a of variants) {
    for (const b of variants) {
      equal(
        sameReplaceGroup(a, b),
        replaceGroupKey(a) === replaceGroupKey(b),
        `${replaceGroupKey(a)} vs ${replaceGroupKey(b)}`,
      );
    }
  }
});
