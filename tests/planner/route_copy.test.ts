import { deepEqual, equal } from "node:assert/strict";
import { RT_SCOPE, RTA, RTNH_F, RTPROT } from "../../src/netlink/constants.ts";
import type { Route } from "../../src/netlink/route.ts";
import { isSameCopy, mirrorCopy } from "../../src/planner/route_copy.ts";
import { FIREZONE, IF, OURS, v4, v6 } from "./fixtures.ts";

const target = { table: FIREZONE, protocol: OURS };

Deno.test("mirrorCopy keeps dst, length, tos, oif, prefsrc, metric, scope, type and nothing else", () => {
  const source = v4("192.168.1.0/24", IF.eth0, {
    protocol: RTPROT.DHCP,
    prefsrc: "192.168.1.5",
    priority: 600,
    tos: 0x10,
    flags: RTNH_F.LINKDOWN,
    other: [{ type: RTA.CACHEINFO, data: new Uint8Array(16) }],
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
    priority: 600,
  });
});

Deno.test("mirrorCopy of an IPv6 route drops expiry, pref and cache info", () => {
  const source = v6("2001:db8::/64", IF.wlan0, {
    protocol: RTPROT.RA,
    expires: 1700,
    pref: 0,
    other: [{ type: RTA.CACHEINFO, data: new Uint8Array(16) }],
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
    priority: 256,
  });
});

Deno.test("mirrorCopy leaves absent optional fields absent", () => {
  const copy = mirrorCopy(v4("10.0.0.0/8", IF.eth0), target);
  deepEqual(Object.keys(copy).sort(), [
    "dst",
    "dstLen",
    "family",
    "flags",
    "oif",
    "protocol",
    "scope",
    "srcLen",
    "table",
    "tos",
    "type",
  ]);
});

Deno.test("isSameCopy ignores what the kernel adds and notices every copied field", () => {
  const wanted = mirrorCopy(v6("2001:db8::/64", IF.eth0, { prefsrc: "2001:db8::5" }), target);
  const readBack: Route = {
    ...wanted,
    flags: RTNH_F.LINKDOWN,
    pref: 0,
    other: [{ type: RTA.CACHEINFO, data: new Uint8Array(16) }],
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
    ["gateway", { gateway: "fe80::1" }],
    ["multipath", { multipath: [] }],
    ["nexthop object", { nhId: 3 }],
    ["expiry", { expires: 60 }],
    ["source prefix", { src: "2001:db8::", srcLen: 64 }],
  ];
  for (const [what, change] of changes) {
    equal(isSameCopy({ ...readBack, ...change }, wanted), false, what);
  }
});

Deno.test("isSameCopy reads an absent metric as the kernel's default", () => {
  const v4copy = mirrorCopy(v4("10.0.0.0/8", IF.eth0), target);
  equal(isSameCopy({ ...v4copy, priority: 0 }, v4copy), true);
  const v6copy = mirrorCopy(v6("2001:db8::/64", IF.eth0, { priority: undefined }), target);
  equal(isSameCopy({ ...v6copy, priority: 1024 }, v6copy), true);
  equal(isSameCopy({ ...v6copy, priority: 256 }, v6copy), false);
});
