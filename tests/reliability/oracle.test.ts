/**
 * Pure tests of the reliability tests' own machinery: the oracle's restatement of the rules, the
 * step generator's determinism and its address arithmetic.
 */

import { deepEqual, equal, notDeepEqual } from "node:assert/strict";
import { generateSteps, networkOf } from "./host_model.ts";
import {
  actualCopies,
  expectedCopies,
  type FamilyRoute,
  foreignSnapshot,
  type HostState,
} from "./oracle.ts";

const T = "539098368";

function state(main: Partial<FamilyRoute>[], target: Partial<FamilyRoute>[] = []): HostState {
  const full = (r: Partial<FamilyRoute>): FamilyRoute => ({
    family: 4,
    type: "unicast",
    dst: "192.168.1.0/24",
    protocol: "kernel",
    scope: "link",
    flags: [],
    ...r,
  });
  return {
    main: main.map(full),
    targets: new Map([[T, target.map(full)]]),
    links: [
      { ifindex: 1, ifname: "lo", flags: ["LOOPBACK", "UP"] },
      { ifindex: 2, ifname: "lan0", flags: ["UP"] },
      { ifindex: 3, ifname: "lan1", flags: ["UP"] },
      { ifindex: 4, ifname: "tun0", flags: ["UP"] },
    ],
    addresses: [{
      ifname: "lan0",
      addr_info: [{ family: "inet6", local: "2001:db8::5", prefixlen: 64, scope: "global" }],
    }],
  };
}

/** A copy's metric: the source's + 2^31. */
const m = (source: number) => source + 2 ** 31;

Deno.test("oracle: on-link routes are copied with device, source, metric and scope", () => {
  const s = state([
    { dst: "192.168.1.0/24", dev: "lan0", prefsrc: "192.168.1.5" },
    { dst: "10.5.0.0/24", dev: "lan0", metric: 7, protocol: "boot" },
    { family: 6, dst: "2001:db8::/64", dev: "lan0", scope: "global", metric: 256 },
  ]);
  deepEqual(expectedCopies(s, T).copies, [
    `10.5.0.0/24 dev lan0 scope link metric ${m(7)} src - type unicast`,
    `192.168.1.0/24 dev lan0 scope link metric ${m(0)} src 192.168.1.5 type unicast`,
    `2001:db8::/64 dev lan0 scope global metric ${m(256)} src - type unicast pref medium`,
  ]);
});

Deno.test("oracle: copies carry hops with weights, metrics, realms, pref and expiry", () => {
  const s = state([
    {
      dst: "10.4.0.0/24",
      scope: "global",
      nexthops: [{ dev: "lan0" }, { dev: "lan1", weight: 3 }],
    },
    { dst: "10.5.0.0/24", dev: "lan0", metrics: [{ mtu: 1400, advmss: 1360 }], flow: { to: "7" } },
    {
      family: 6,
      dst: "2001:db8::/64",
      dev: "lan0",
      scope: "global",
      metric: 1024,
      pref: "high",
      expires: 300,
    },
  ]);
  deepEqual(expectedCopies(s, T).copies, [
    `10.4.0.0/24 dev - scope global metric ${m(0)} src - type unicast hops lan0*1,lan1*3`,
    `10.5.0.0/24 dev lan0 scope link metric ${
      m(0)
    } src - type unicast metrics [{"mtu":1400,"advmss":1360}] realms {"to":"7"}`,
    `2001:db8::/64 dev lan0 scope global metric ${m(1024)} src - type unicast pref high expires`,
  ]);
});

Deno.test("oracle: what is never copied", () => {
  const s = state([
    { dst: "default", dev: "lan0" },
    { dst: "10.1.0.0/24", dev: "lan0", gateway: "192.168.1.1", scope: "global" },
    { dst: "10.2.0.0/24", dev: "lan0", scope: "global" },
    { dst: "10.3.0.0/24", type: "blackhole", scope: "global" },
    { dst: "10.4.0.0/24", nexthops: [{ dev: "lan0" }, { dev: "lan1", gateway: "192.168.1.9" }] },
    { dst: "10.4.1.0/24", scope: "global", nexthops: [{ dev: "lan0" }, { dev: "lo" }] },
    { dst: "10.4.2.0/24", scope: "global", nhid: 5 },
    { dst: "127.0.0.0/8", dev: "lo" },
    { dst: "10.6.0.0/24", dev: "lan0", protocol: "77" },
    { family: 6, dst: "2001:db8:5::/64", dev: "lan0", gateway: "fe80::1", scope: "global" },
    { dst: "10.7.0.0/24", dev: "gone0" },
  ]);
  deepEqual(expectedCopies(s, T).copies, []);
});

Deno.test("oracle: the table's own devices, conflicts and duplicate keys", () => {
  const s = state([
    { dst: "192.168.1.0/24", dev: "lan0" },
    { dst: "192.168.1.0/24", dev: "lan1" }, // Same IPv4 key: only the first is copied.
    { dst: "10.9.0.0/24", dev: "tun0" }, // tun0 carries the VPN's default: not copied.
    { dst: "10.8.0.0/24", dev: "lan1" }, // Held by a foreign route: a conflict.
    { family: 6, dst: "fe80::/64", dev: "lan0", scope: "global", metric: 256 },
    { family: 6, dst: "fe80::/64", dev: "lan1", scope: "global", metric: 256 }, // IPv6: both.
  ], [
    { dst: "default", dev: "tun0", protocol: "boot" },
    { dst: "10.8.0.0/24", dev: "tun0", protocol: "static", metric: 5 },
  ]);
  const { copies, conflicts } = expectedCopies(s, T, { precedence: "lan" });
  const wanted = [
    `192.168.1.0/24 dev lan0 scope link metric ${m(0)} src - type unicast`,
    `fe80::/64 dev lan0 scope global metric ${m(256)} src - type unicast pref medium`,
    `fe80::/64 dev lan1 scope global metric ${m(256)} src - type unicast pref medium`,
  ];
  deepEqual(copies, wanted);
  deepEqual(conflicts, ["4 10.8.0.0/24"]);
  // By default the VPN's route of the same prefix simply wins: no copy, no conflict.
  deepEqual(expectedCopies(s, T), { copies: wanted, conflicts: [] });
});

Deno.test("oracle: only local address space is copied", () => {
  const s = state([
    { dst: "0.0.0.0/1", dev: "lan0", protocol: "dhcp" },
    { dst: "128.0.0.0/1", dev: "lan0" },
    { dst: "198.51.100.0/24", dev: "lan0" },
    { dst: "100.64.0.0/10", dev: "lan0" },
    { dst: "192.168.0.0/15", dev: "lan0" },
    { family: 6, dst: "2000::/3", dev: "lan0", scope: "global", protocol: "ra" },
    { family: 6, dst: "2001:db8::/48", dev: "lan0", scope: "global" }, // Shorter than /64.
    { family: 6, dst: "2001:db8::/64", dev: "lan1", scope: "global" }, // The address is on lan0.
    { family: 6, dst: "2001:db8:1::/64", dev: "lan0", scope: "global" }, // No address in it.
    { family: 6, dst: "fd00:1::/64", dev: "lan1", scope: "global", metric: 256 },
    { dst: "172.31.0.0/16", dev: "lan1" },
  ]);
  deepEqual(expectedCopies(s, T).copies, [
    `172.31.0.0/16 dev lan1 scope link metric ${m(0)} src - type unicast`,
    `fd00:1::/64 dev lan1 scope global metric ${m(256)} src - type unicast pref medium`,
  ]);
  deepEqual(
    expectedCopies(s, T, { allowPrefixes: ["198.51.100.0/24"] }).copies.map((l) => l.split(" ")[0]),
    ["172.31.0.0/16", "198.51.100.0/24", "fd00:1::/64"],
  );
});

Deno.test("oracle: the VPN's resources win, its catch-alls do not", () => {
  const main = [
    { dst: "192.168.1.0/24", dev: "lan0" },
    { dst: "10.20.0.0/24", dev: "lan1" },
    { family: 6 as const, dst: "fd00:1::/64", dev: "lan1", scope: "global" },
  ];
  const vpn = (dst: string, family: 4 | 6 = 4) => ({ family, dst, dev: "tun0", protocol: "boot" });
  const copied = (s: HostState, options = {}) =>
    expectedCopies(s, T, options).copies.map((l) => l.split(" ")[0]);
  const catchAlls = state(main, [vpn("0.0.0.0/1"), vpn("128.0.0.0/1"), vpn("2000::/3", 6)]);
  deepEqual(copied(catchAlls), ["10.20.0.0/24", "192.168.1.0/24", "fd00:1::/64"]);
  const resources = state(main, [vpn("default"), vpn("192.168.0.0/16"), vpn("fd00::/8", 6)]);
  deepEqual(copied(resources), ["10.20.0.0/24"]);
  deepEqual(copied(resources, { precedence: "lan" }), [
    "10.20.0.0/24",
    "192.168.1.0/24",
    "fd00:1::/64",
  ]);
  // The longest covering route decides: a resource /8 under the split default wins.
  deepEqual(copied(state(main, [vpn("0.0.0.0/1"), vpn("10.0.0.0/8")])), [
    "192.168.1.0/24",
    "fd00:1::/64",
  ]);
});

Deno.test("oracle: duplicates in the table show, and foreign snapshots ignore flags", () => {
  const copy = { dst: "192.168.1.0/24", dev: "lan0", protocol: "77" };
  const s = state([], [copy, copy, { dst: "default", dev: "tun0", protocol: "boot" }]);
  equal(actualCopies(s, T).length, 2);
  const a = foreignSnapshot(state([{ dst: "10.0.0.0/8", dev: "lan0", flags: [] }]));
  const b = foreignSnapshot(state([{ dst: "10.0.0.0/8", dev: "lan0", flags: ["linkdown"] }]));
  deepEqual(a, b);
  notDeepEqual(a, foreignSnapshot(state([{ dst: "10.0.0.0/8", dev: "lan1" }])));
});

Deno.test("steps: the same seed gives the same steps, another seed other steps", () => {
  deepEqual(generateSteps(42, 300), generateSteps(42, 300));
  notDeepEqual(generateSteps(42, 50), generateSteps(43, 50));
});

Deno.test("steps: networks of addresses as ip prints them", () => {
  equal(networkOf("192.168.1.77/24"), "192.168.1.0/24");
  equal(networkOf("10.20.1.5/16"), "10.20.0.0/16");
  equal(networkOf("172.16.5.99/28"), "172.16.5.96/28");
  equal(networkOf("2001:db8:1::a3/64"), "2001:db8:1::/64");
  equal(networkOf("2001:db8:3::fff/56"), "2001:db8:3::/56");
  equal(networkOf("2001:db8:3:ab::1/56"), "2001:db8:3::/56");
});
