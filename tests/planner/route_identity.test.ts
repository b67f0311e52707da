import { deepEqual, equal, notEqual } from "node:assert/strict";
import { AF, RT_SCOPE, RTN } from "../../src/netlink/constants.ts";
import {
  IPV6_DEFAULT_METRIC,
  prefixKey,
  routeKey,
  routeMetric,
} from "../../src/planner/route_identity.ts";
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
