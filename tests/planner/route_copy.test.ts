import { deepEqual, equal } from "node:assert/strict";
import { AF, RT_SCOPE, RTA, RTAX, RTNH_F, RTPROT } from "../../src/netlink/constants.ts";
import type { Route, RouteCacheInfo } from "../../src/netlink/route.ts";
import {
  EXPIRY_SLACK_SECONDS,
  hasCopyKey,
  isCopyOf,
  isSameCopy,
  mirrorCopy,
} from "../../src/planner/route_copy.ts";
import { sameRouteKey } from "../../src/planner/route_identity.ts";
import { Random } from "../_fixtures/random.ts";
import { FIREZONE, IF, OURS, v4, v6 } from "./fixtures.ts";

const target = { table: FIREZONE, protocol: OURS };

/** Cache info counting down `seconds` (USER_HZ = 100), as the kernel reports it. */
function expiringIn(seconds: number): RouteCacheInfo {
  return {
    clntref: 0,
    lastuse: 0,
    expires: seconds * 100,
    error: 0,
    used: 0,
    id: 0,
    ts: 0,
    tsage: 0,
  };
}

const METRICS = {
  lock: 1 << RTAX.MTU,
  mtu: 1400,
  advmss: 1360,
  hoplimit: 33,
  initcwnd: 10,
  initrwnd: 20,
  rtoMin: 50,
  quickack: 1,
  congctl: "cubic",
  features: 1,
  other: [{ type: 40, data: Uint8Array.of(1, 0, 0, 0) }],
};

Deno.test("mirrorCopy of an IPv4 route carries every forwarding attribute, not kernel state; the metric + 2^31", () => {
  const source = v4("192.168.1.0/24", IF.eth0, {
    protocol: RTPROT.DHCP,
    prefsrc: "192.168.1.5",
    priority: 600,
    tos: 0x10,
    flags: RTNH_F.LINKDOWN,
    metrics: METRICS,
    flow: 7,
    other: [{ type: 99, data: new Uint8Array(4) }],
  });
  deepEqual(mirrorCopy(source, target), {
    family: 2,
    table: FIREZONE,
    dst: "192.168.1.0",
    dstLen: 24,
    srcLen: 0,
    tos: 0x10,
    protocol: OURS,
    scope: RT_SCOPE.LINK,
    type: 1,
    flags: 0,
    oif: IF.eth0,
    prefsrc: "192.168.1.5",
    priority: 600 + 2 ** 31,
    metrics: METRICS,
    flow: 7,
  });
});

Deno.test("mirrorCopy of an IPv6 RA route carries pref, metrics and the remaining lifetime", () => {
  const source = v6("2001:db8::/64", IF.wlan0, {
    protocol: RTPROT.RA,
    pref: 1,
    metrics: { mtu: 1300 },
    cacheinfo: expiringIn(1700.5),
    flow: 3, // IPv6 has no realms: not carried
  });
  deepEqual(mirrorCopy(source, target), {
    family: 10,
    table: FIREZONE,
    dst: "2001:db8::",
    dstLen: 64,
    srcLen: 0,
    tos: 0,
    protocol: OURS,
    scope: 0,
    type: 1,
    flags: 0,
    oif: IF.wlan0,
    priority: 256 + 2 ** 31,
    metrics: { mtu: 1300 },
    pref: 1,
    expires: 1700,
  });
  // Expired but not yet collected: the copy still gets a lifetime, the shortest.
  equal(mirrorCopy({ ...source, cacheinfo: expiringIn(-3) }, target).expires, 1);
});

Deno.test("mirrorCopy of multipath and nexthop-object routes", () => {
  const multipath = v4("10.0.0.0/8", undefined, {
    scope: RT_SCOPE.UNIVERSE,
    multipath: [
      {
        oif: IF.eth0,
        flags: RTNH_F.LINKDOWN | RTNH_F.ONLINK,
        hops: 1,
        gateway: "10.9.0.1",
        flow: 3,
      },
      {
        oif: IF.eth1,
        flags: RTNH_F.LINKDOWN,
        hops: 4,
        other: [{ type: 99, data: new Uint8Array(4) }],
      },
    ],
  });
  deepEqual(mirrorCopy(multipath, target).multipath, [
    { oif: IF.eth0, flags: RTNH_F.ONLINK, hops: 1, gateway: "10.9.0.1", flow: 3 },
    { oif: IF.eth1, flags: 0, hops: 4 },
  ]);
  // The kernel reports the object's device beside the id; a request must not carry both.
  const object = v4("10.1.0.0/16", IF.eth0, { scope: RT_SCOPE.UNIVERSE, nhId: 12 });
  const copy = mirrorCopy(object, target);
  equal(copy.nhId, 12);
  equal(copy.oif, undefined);
  equal(copy.multipath, undefined);
  const onlink = v4("10.2.0.0/16", IF.eth0, {
    gateway: "172.16.0.1",
    scope: RT_SCOPE.UNIVERSE,
    flags: RTNH_F.ONLINK | RTNH_F.LINKDOWN,
  });
  equal(mirrorCopy(onlink, target).flags, RTNH_F.ONLINK);
});

Deno.test("mirrorCopy of multipath: hops whose device is down (dead) are left out", () => {
  const hop = (oif: number, flags: number, hops: number, gateway?: string) =>
    gateway === undefined ? { oif, flags, hops } : { oif, flags, hops, gateway };
  const route = (multipath: Route["multipath"]) =>
    v4("10.57.0.0/24", undefined, { scope: RT_SCOPE.UNIVERSE, multipath });
  const cases: [string, Route["multipath"], Partial<Route>][] = [
    [
      "two live of three: multipath of the two",
      [hop(IF.eth0, RTNH_F.DEAD, 4), hop(IF.eth1, 0, 1), hop(IF.wlan0, 0, 2)],
      { multipath: [hop(IF.eth1, 0, 1), hop(IF.wlan0, 0, 2)] },
    ],
    [
      "one live: a plain route on its device",
      [hop(IF.eth0, RTNH_F.DEAD | RTNH_F.LINKDOWN, 4), hop(IF.eth1, RTNH_F.ONLINK, 1, "10.9.0.1")],
      { oif: IF.eth1, gateway: "10.9.0.1", flags: RTNH_F.ONLINK },
    ],
    [
      "none live: every hop (the kernel flushes such a route)",
      [hop(IF.eth0, RTNH_F.DEAD, 4), hop(IF.eth1, RTNH_F.DEAD, 1)],
      { multipath: [hop(IF.eth0, 0, 4), hop(IF.eth1, 0, 1)] },
    ],
  ];
  for (const [name, hops, want] of cases) {
    const copy = mirrorCopy(route(hops), target);
    const got = {
      multipath: copy.multipath,
      oif: copy.oif,
      gateway: copy.gateway,
      flags: copy.flags,
    };
    deepEqual(
      got,
      { multipath: undefined, oif: undefined, gateway: undefined, flags: 0, ...want },
      name,
    );
  }
});

Deno.test("mirrorCopy leaves absent optional fields absent; the metric is always set", () => {
  const copy = mirrorCopy(v4("10.0.0.0/8", IF.eth0), target);
  deepEqual(Object.keys(copy).sort(), [
    "dst",
    "dstLen",
    "family",
    "flags",
    "oif",
    "priority",
    "protocol",
    "scope",
    "srcLen",
    "table",
    "tos",
    "type",
  ]);
});

/** Source metric → copy metric: the offset 2^31, IPv6's default 1024, saturation, order kept. */
const METRIC_CASES: Array<[string, Route, number]> = [
  ["v4 without metric (0)", v4("10.0.0.0/8", IF.eth0), 2 ** 31],
  ["v4 metric 600", v4("10.0.0.0/8", IF.eth0, { priority: 600 }), 2 ** 31 + 600],
  ["v6 without metric (1024)", v6("fd00::/64", IF.eth0, { priority: undefined }), 2 ** 31 + 1024],
  ["v6 metric 256", v6("fd00::/64", IF.eth0), 2 ** 31 + 256],
  ["v4 metric 2^31 - 1", v4("10.0.0.0/8", IF.eth0, { priority: 2 ** 31 - 1 }), 2 ** 32 - 1],
  ["v4 metric 2^31 (saturates)", v4("10.0.0.0/8", IF.eth0, { priority: 2 ** 31 }), 2 ** 32 - 1],
  [
    "v6 metric 2^32 - 1 (saturates)",
    v6("fd00::/64", IF.eth0, { priority: 2 ** 32 - 1 }),
    2 ** 32 - 1,
  ],
];
for (const [name, source, metric] of METRIC_CASES) {
  Deno.test(`mirrorCopy metric: ${name} → ${metric}`, () => {
    equal(mirrorCopy(source, target).priority, metric);
  });
}

Deno.test("mirrorCopy metric keeps the order of source metrics below 2^31", () => {
  const metrics = [0, 1, 100, 256, 600, 1024, 20600, 2 ** 31 - 2];
  const copies = metrics.map((m) => mirrorCopy(v4("10.0.0.0/8", IF.eth0, { priority: m }), target));
  for (let i = 1; i < copies.length; i++) {
    equal(copies[i - 1].priority! < copies[i].priority!, true, `${metrics[i - 1]} < ${metrics[i]}`);
  }
});

Deno.test("isSameCopy ignores what the kernel adds and notices every copied field", () => {
  const wanted = mirrorCopy(
    v6("2001:db8::/64", IF.eth0, { prefsrc: "2001:db8::5", metrics: { mtu: 1400 } }),
    target,
  );
  const readBack: Route = {
    ...wanted,
    flags: RTNH_F.LINKDOWN,
    pref: 0,
    cacheinfo: expiringIn(0),
    other: [{ type: RTA.ENCAP_TYPE + 100, data: new Uint8Array(16) }],
  };
  equal(isSameCopy(readBack, wanted), true);
  const changes: Array<[string, Partial<Route>]> = [
    ["table", { table: 254 }],
    ["dst", { dst: "2001:db8:1::" }],
    ["dstLen", { dstLen: 48 }],
    ["tos", { tos: 4 }],
    ["protocol", { protocol: 78 }],
    ["scope", { scope: RT_SCOPE.LINK }],
    ["type", { type: 2 }],
    ["oif", { oif: IF.eth1 }],
    ["prefsrc", { prefsrc: "2001:db8::6" }],
    ["prefsrc removed", { prefsrc: undefined }],
    ["metric", { priority: 1024 }],
    ["metric + 1", { priority: wanted.priority! + 1 }],
    ["gateway", { gateway: "fe80::1" }],
    ["multipath", { multipath: [] }],
    ["nexthop object", { nhId: 3 }],
    ["expiry", { expires: 60 }],
    ["expiry in the cache info", { cacheinfo: expiringIn(60) }],
    ["source prefix", { src: "2001:db8::", srcLen: 64 }],
    ["onlink", { flags: RTNH_F.ONLINK }],
    ["pref", { pref: 1 }],
    ["mtu", { metrics: { mtu: 1500 } }],
    ["mtu lock", { metrics: { mtu: 1400, lock: 1 << RTAX.MTU } }],
    ["metrics gone", { metrics: undefined }],
    ["another metric", { metrics: { mtu: 1400, hoplimit: 9 } }],
    ["unknown metric", { metrics: { mtu: 1400, other: [{ type: 40, data: new Uint8Array(4) }] } }],
  ];
  for (const [what, change] of changes) {
    equal(isSameCopy({ ...readBack, ...change }, wanted), false, what);
  }
});

Deno.test("isSameCopy: realms count for IPv4, hops as a set with their weights", () => {
  const hops = [{ oif: IF.eth0, flags: 0, hops: 0 }, { oif: IF.eth1, flags: 0, hops: 2 }];
  const wanted = mirrorCopy(v4("10.0.0.0/8", undefined, { multipath: hops, flow: 5 }), target);
  equal(isSameCopy({ ...wanted, multipath: [...hops].reverse() }, wanted), true);
  equal(isSameCopy({ ...wanted, multipath: [hops[0], { ...hops[1], hops: 1 }] }, wanted), false);
  equal(isSameCopy({ ...wanted, multipath: [hops[0]] }, wanted), false);
  equal(isSameCopy({ ...wanted, flow: 6 }, wanted), false);
  equal(isSameCopy({ ...wanted, flow: undefined }, wanted), false);
  // A nexthop-object copy read back carries the object's device: still the same copy.
  const object = mirrorCopy(v4("10.1.0.0/16", IF.eth0, { nhId: 7 }), target);
  equal(isSameCopy({ ...object, oif: IF.eth0 }, object), true);
  equal(isSameCopy({ ...object, oif: IF.eth0, nhId: 8 }, object), false);
});

Deno.test("isSameCopy: a copy may run out a little before its source, never after", () => {
  const source = v6("2001:db8::/64", IF.eth0, { cacheinfo: expiringIn(1000) });
  const wanted = mirrorCopy(source, target);
  const left = (seconds: number) => ({
    ...wanted,
    expires: undefined,
    cacheinfo: expiringIn(seconds),
  });
  equal(isSameCopy(left(1000), wanted), true);
  equal(isSameCopy(left(1001), wanted), true);
  equal(isSameCopy(left(1000 - EXPIRY_SLACK_SECONDS), wanted), true);
  equal(isSameCopy(left(1002), wanted), false, "the copy would outlive its source");
  equal(isSameCopy(left(1000 - EXPIRY_SLACK_SECONDS - 1), wanted), false, "refreshed source");
  equal(isSameCopy({ ...wanted, expires: undefined }, wanted), false, "a copy that never expires");
});

Deno.test("isSameCopy reads an absent metric as the kernel's default", () => {
  const v4copy = { ...mirrorCopy(v4("10.0.0.0/8", IF.eth0), target), priority: undefined };
  equal(isSameCopy({ ...v4copy, priority: 0 }, v4copy), true);
  const v6copy = { ...mirrorCopy(v6("2001:db8::/64", IF.eth0), target), priority: undefined };
  equal(isSameCopy({ ...v6copy, priority: 1024 }, v6copy), true);
  equal(isSameCopy({ ...v6copy, priority: 256 }, v6copy), false);
});

Deno.test("isSameCopy: a copy of an earlier version, at the source's metric, is not the copy", () => {
  const source = v6("2001:db8::/64", IF.eth0, { priority: undefined });
  const copy = mirrorCopy(source, target);
  equal(isSameCopy({ ...copy, priority: 1024 }, copy), false);
  equal(isSameCopy({ ...copy, priority: undefined }, copy), false);
});

/** A random source route of main, mostly single-path, with the attributes a copy carries. */
function randomSource(rand: Random): Route {
  const family = rand.pick([AF.INET, AF.INET6]);
  const build = family === AF.INET ? v4 : v6;
  const extra: Partial<Route> = {
    priority: rand.pick([undefined, 0, 100, 1024]),
    tos: rand.pick([0, 0, 0x10]),
    flags: rand.pick([0, 0, RTNH_F.ONLINK, RTNH_F.LINKDOWN]),
    scope: rand.pick([RT_SCOPE.LINK, RT_SCOPE.UNIVERSE]),
  };
  if (rand.chance(0.3)) extra.prefsrc = family === AF.INET ? "10.1.2.3" : "fd00::3";
  if (rand.chance(0.2)) extra.gateway = family === AF.INET ? "10.1.2.1" : "fe80::1";
  if (rand.chance(0.2)) extra.metrics = rand.pick([{ mtu: 1400 }, { mtu: 1400, advmss: 1360 }]);
  if (rand.chance(0.2)) extra.flow = 5;
  if (rand.chance(0.2)) extra.pref = rand.pick([0, 1, 3]);
  if (rand.chance(0.2)) extra.cacheinfo = expiringIn(rand.pick([0, 300, 302]));
  if (rand.chance(0.1)) extra.expires = 300;
  if (rand.chance(0.1)) extra.nhId = 7;
  if (rand.chance(0.1)) {
    extra.multipath = [
      { oif: IF.eth0, flags: rand.pick([0, RTNH_F.DEAD]), hops: 0 },
      { oif: IF.eth1, flags: 0, hops: rand.pick([0, 1]), gateway: "10.1.2.1" },
    ];
  }
  const prefix = rand.pick(family === AF.INET ? ["10.0.0.0/8", "10.0.0.0/16"] : ["fe80::/64"]);
  return build(prefix, rand.pick([undefined, IF.eth0, IF.eth1]), extra);
}

/** A route read back from the target: the copy of `source`, or of another, often altered. */
function randomReadBack(rand: Random, source: Route): Route {
  const other = randomSource(rand);
  const copy = mirrorCopy(rand.chance(0.8) ? source : other, target);
  if (rand.chance(0.5)) return copy;
  // One field changed (to another route's value), or what the kernel adds on its own.
  const field = rand.pick(Object.keys(other) as (keyof Route)[]);
  return rand.pick<Route>([
    { ...copy, [field]: other[field] },
    { ...copy, flags: copy.flags | RTNH_F.LINKDOWN },
    { ...copy, cacheinfo: expiringIn(rand.pick([0, 299, 303])) },
    { ...copy, priority: undefined },
    { ...copy, table: 254 },
    { ...copy, protocol: RTPROT.BOOT },
    { ...copy, src: "::" },
    { ...copy, srcLen: 64 },
    { ...copy, oif: IF.eth1 },
  ]);
}

Deno.test("hasCopyKey and isCopyOf agree with routeKey and isSameCopy of the built copy", () => {
  const rand = new Random(0x636f7079); // "copy"
  let same = 0, slot = 0;
  for (let i = 0; i < 20_000; i++) {
    const source = randomSource(rand);
    const route = randomReadBack(rand, source);
    const copy = mirrorCopy(source, target);
    const expectedSlot = sameRouteKey(route, copy);
    const expectedSame = isSameCopy(route, copy);
    const what = `case ${i}: ${JSON.stringify(route)} vs copy of ${JSON.stringify(source)}`;
    equal(hasCopyKey(route, source, target), expectedSlot, what);
    equal(isCopyOf(route, source, target), expectedSame, what);
    if (expectedSlot) slot++;
    if (expectedSame) same++;
  }
  equal(same > 4_000 && slot > same, true, `only ${same} copies, ${slot} in the slot`);
});

Deno.test("mirrorCopy: a plain route's copy is the one its general path makes, key order too", () => {
  // An IPv4 source's cache information changes nothing in its copy, but sends mirrorCopy down
  // its general path: both copies must be the same, field for field and in the same order.
  const rand = new Random(0x706c61696e); // "plain"
  for (let i = 0; i < 200; i++) {
    const source = v4(`10.${rand.int(256)}.${rand.int(256)}.0/24`, rand.pick([IF.eth0, IF.eth1]), {
      tos: rand.pick([0, 0x10]),
      scope: rand.pick([RT_SCOPE.LINK, RT_SCOPE.UNIVERSE]),
      flags: rand.pick([0, RTNH_F.ONLINK, RTNH_F.LINKDOWN]),
      ...(rand.chance(0.5) ? { priority: rand.int(1000) } : {}),
      ...(rand.chance(0.3) ? { protocol: RTPROT.DHCP } : {}),
    });
    const plain = mirrorCopy(source, target);
    const general = mirrorCopy({ ...source, cacheinfo: expiringIn(30) }, target);
    equal(JSON.stringify(plain), JSON.stringify(general));
  }
});
