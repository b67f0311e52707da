import assert from "node:assert/strict";
import routeAttrsIp from "./testdata/route_attrs.ip.json" with { type: "json" };
import routesIp from "./testdata/routes.ip.json" with { type: "json" };
import {
  fromHex,
  GOLDEN,
  IFINDEX,
  named,
  PREF_NAMES,
  PROTOCOL_NAMES,
  SCOPE_NAMES,
  TABLE_NAMES,
  toHex,
  TYPE_NAMES,
} from "./testdata/golden.ts";
import { AttributeEncoder, decodeAttributes } from "../../src/netlink/attributes.ts";
import {
  AF,
  RT_SCOPE,
  RT_TABLE,
  RTA,
  RTAX,
  RTN,
  RTNH_F,
  RTPROT,
} from "../../src/netlink/constants.ts";
import { DecodeError } from "../../src/netlink/errors.ts";
import { InvalidAddressError } from "../../src/netlink/ip.ts";
import { FIREZONE, OURS, route as fixtureRoute } from "../_fixtures/routes.ts";
import { checkPlainRoute } from "./testdata/fuzzer.ts";
import {
  cacheExpires,
  decodeRoute,
  decodeRouteAt,
  encodeRoute,
  encodeRouteInto,
  type Route,
  RTMSG_LEN,
} from "../../src/netlink/route.ts";

/** A route as `ip -j -d route show table all` prints it. */
interface IpRoute {
  type: string;
  dst: string;
  table: string;
  protocol: string;
  scope: string;
  flags: string[];
  dev?: string;
  gateway?: string;
  metric?: number;
  prefsrc?: string;
  tos?: string;
  pref?: string;
  expires?: number;
  nhid?: number;
  metrics?: { mtu?: number; advmss?: number }[];
  nexthops?: { gateway: string; dev: string; weight: number; flags: string[] }[];
}

const IP_ROUTES = routesIp as IpRoute[];
const DECODED = GOLDEN.routes.map((g) => decodeRoute(g.message.payload));

function ipDst(route: Route): string {
  if (route.dstLen === 0) return "default";
  return route.dstLen === (route.family === AF.INET ? 32 : 128)
    ? route.dst
    : `${route.dst}/${route.dstLen}`;
}

function metrics(route: Route): Record<string, number> {
  const { mtu, advmss } = route.metrics ?? {};
  return JSON.parse(JSON.stringify({ mtu, advmss }));
}

Deno.test("golden routes: the capture covers the cases the codec must handle", () => {
  assert.equal(DECODED.length, IP_ROUTES.length);
  assert.ok(DECODED.some((r) => r.family === AF.INET && r.multipath !== undefined));
  assert.ok(DECODED.some((r) => r.family === AF.INET6 && r.multipath !== undefined));
  assert.ok(DECODED.some((r) => r.table === 539098368 && r.family === AF.INET));
  assert.ok(DECODED.some((r) => r.table === 539098368 && r.family === AF.INET6));
  assert.ok(DECODED.some((r) => r.type === RTN.BLACKHOLE));
  assert.ok(DECODED.some((r) => r.type === RTN.UNREACHABLE && r.family === AF.INET6));
  assert.ok(DECODED.some((r) => r.nhId !== undefined));
  assert.ok(DECODED.some((r) => r.pref === 1 && cacheExpires(r) !== undefined));
});

Deno.test("golden routes decode to what ip -j printed", () => {
  DECODED.forEach((route, i) => {
    const ip = IP_ROUTES[i];
    const where = `route ${i} (${ip.dst} table ${ip.table})`;
    assert.equal(route.type, TYPE_NAMES[ip.type], where);
    assert.equal(ipDst(route), ip.dst, where);
    assert.equal(route.table, named(TABLE_NAMES, ip.table), where);
    assert.equal(route.protocol, named(PROTOCOL_NAMES, ip.protocol), where);
    assert.equal(route.scope, SCOPE_NAMES[ip.scope], where);
    assert.equal(route.oif, ip.dev === undefined ? undefined : IFINDEX.get(ip.dev), where);
    assert.equal(route.gateway, ip.gateway, where);
    assert.equal(route.priority, ip.metric, where);
    assert.equal(route.prefsrc, ip.prefsrc, where);
    assert.equal(route.tos, ip.tos === undefined ? 0 : Number(ip.tos), where);
    assert.equal(route.pref, ip.pref === undefined ? undefined : PREF_NAMES[ip.pref], where);
    assert.equal(route.nhId, ip.nhid, where);
    assert.equal((route.flags & RTNH_F.ONLINK) !== 0, ip.flags.includes("onlink"), where);
    assert.deepEqual(metrics(route), ip.metrics?.[0] ?? {}, where);
    assert.deepEqual(
      route.multipath?.map((h) => ({ gateway: h.gateway, oif: h.oif, weight: h.hops + 1 })),
      ip.nexthops?.map((h) => ({ gateway: h.gateway, oif: IFINDEX.get(h.dev), weight: h.weight })),
      where,
    );
    // ip ran just after the dump: its countdown is at most a second or two behind ours.
    const expires = cacheExpires(route);
    if (ip.expires === undefined) assert.equal(expires, undefined, where);
    else assert.ok(expires! - ip.expires >= 0 && expires! - ip.expires <= 2, where);
  });
});

Deno.test("golden routes re-encode to the kernel's bytes", () => {
  GOLDEN.routes.forEach((g, i) => {
    assert.equal(toHex(encodeRoute(DECODED[i])), toHex(g.message.payload), `route ${i}`);
  });
});

Deno.test("a table above 255 is 252 in rtm_table and whole in RTA_TABLE", () => {
  const golden = GOLDEN.routes.find((g) => decodeRoute(g.message.payload).table === 539098368)!;
  assert.equal(golden.message.payload[4], RT_TABLE.COMPAT);
  const route = fixtureRoute(FIREZONE, "192.168.1.0/24", { protocol: OURS, oif: 3 });
  const bytes = encodeRoute(route);
  assert.equal(bytes[4], RT_TABLE.COMPAT);
  assert.deepEqual(decodeRoute(bytes), route);
  const main = encodeRoute({ ...route, table: RT_TABLE.MAIN });
  assert.equal(main[4], RT_TABLE.MAIN);
  const tableAttr = decodeAttributes(main.subarray(RTMSG_LEN)).find((a) => a.type === RTA.TABLE);
  assert.equal(toHex(tableAttr!.data), "fe000000"); // RTA_TABLE is written for small ids too
});

Deno.test("without RTA_TABLE the table is rtm_table", () => {
  const payload = fromHex("02180000fe02fd0100000000" + "080001000a000000");
  assert.equal(decodeRoute(payload).table, RT_TABLE.MAIN);
});

Deno.test("encodeRoute writes exactly the fields that are set", () => {
  const route = fixtureRoute(RT_TABLE.MAIN, "0.0.0.0/0", {
    protocol: RTPROT.STATIC,
    scope: RT_SCOPE.UNIVERSE,
  });
  // A default route has no RTA_DST: just the header and RTA_TABLE.
  assert.equal(toHex(encodeRoute(route)), "02000000fe04000100000000" + "08000f00fe000000");
  const full = encodeRoute({
    ...route,
    family: AF.INET6,
    dst: "2001:db8::",
    dstLen: 32,
    src: "2001:db8:1::",
    srcLen: 48,
    gateway: "fe80::1",
    oif: 3,
    priority: 1024,
    prefsrc: "2001:db8::5",
    pref: 1,
    expires: 300,
    nhId: 9,
  });
  const types = decodeAttributes(full.subarray(RTMSG_LEN)).map((a) => a.type);
  assert.deepEqual(types, [
    RTA.TABLE,
    RTA.DST,
    RTA.SRC,
    RTA.PREFSRC,
    RTA.PRIORITY,
    RTA.NH_ID,
    RTA.GATEWAY,
    RTA.OIF,
    RTA.EXPIRES,
    RTA.PREF,
  ]);
  const back = decodeRoute(full);
  assert.equal(back.expires, 300);
  assert.equal(back.pref, 1);
  assert.equal(back.src, "2001:db8:1::");
  assert.equal(back.srcLen, 48);
});

Deno.test("multipath next hops round-trip, with the kernel's layout", () => {
  const route = fixtureRoute(RT_TABLE.MAIN, "10.3.0.0/24", {
    protocol: RTPROT.BOOT,
    scope: RT_SCOPE.UNIVERSE,
    multipath: [
      { oif: 3, flags: 0, hops: 0, gateway: "10.0.0.1" },
      { oif: 4, flags: RTNH_F.ONLINK, hops: 2, gateway: "192.168.7.2" },
      { oif: 5, flags: 0, hops: 0, flow: 1 },
      { oif: 6, flags: 0, hops: 0, other: [{ type: RTA.ENCAP_TYPE, data: Uint8Array.of(1, 0) }] },
    ],
  });
  const bytes = encodeRoute(route);
  assert.deepEqual(decodeRoute(bytes), route);
  const attr = decodeAttributes(bytes.subarray(RTMSG_LEN)).find((a) => a.type === RTA.MULTIPATH)!;
  assert.equal(attr.flags, undefined); // no NLA_F_NESTED, like the kernel and ip
  assert.equal(toHex(attr.data.subarray(0, 16)), "10000000030000000800050" + "00a000001");
});

/** An IPv6 on-link route in main, for the attribute tests. */
const ON_LINK6 = fixtureRoute(RT_TABLE.MAIN, "2001:db8::/64", {
  protocol: RTPROT.BOOT,
  scope: RT_SCOPE.UNIVERSE,
  oif: 2,
});

Deno.test("unmodelled attributes keep their bytes and order", () => {
  const metricsAttr = new AttributeEncoder().u32(2, 1400).finish();
  const route: Route = {
    ...ON_LINK6,
    other: [
      { type: 200, data: Uint8Array.of(1, 2, 3) },
      { type: RTA.ENCAP, data: metricsAttr },
      { type: 201, data: Uint8Array.of(), flags: 0x8000 },
    ],
  };
  assert.deepEqual(decodeRoute(encodeRoute(route)), route);
});

Deno.test("metrics decode to typed fields, unknown ones kept, in the kernel's order", () => {
  const metricsAttr = new AttributeEncoder().u32(2, 1400).finish();
  const route: Route = {
    ...ON_LINK6,
    other: [{ type: RTA.METRICS, data: metricsAttr }],
  };
  assert.deepEqual(decodeRoute(encodeRoute(route)).metrics, { mtu: 1400 });
  const full: Route = {
    ...route,
    other: undefined,
    metrics: {
      lock: (1 << RTAX.MTU) | (1 << RTAX.CC_ALGO),
      mtu: 1400,
      window: 1000,
      rtt: 160,
      rttvar: 40,
      ssthresh: 30,
      cwnd: 5,
      advmss: 1360,
      reordering: 4,
      hoplimit: 33,
      initcwnd: 10,
      features: 1,
      rtoMin: 50,
      initrwnd: 20,
      quickack: 1,
      congctl: "cubic",
      fastopenNoCookie: 1,
      other: [{ type: 40, data: Uint8Array.of(7, 0, 0, 0) }],
    },
  };
  delete full.other;
  const bytes = encodeRoute(full);
  assert.deepEqual(decodeRoute(bytes), full);
  const attr = decodeAttributes(bytes.subarray(RTMSG_LEN)).find((a) => a.type === RTA.METRICS)!;
  assert.deepEqual(
    decodeAttributes(attr.data).map((a) => a.type),
    [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 40],
  );
});

Deno.test("encodeRoute rejects addresses of the other family and bad prefix lengths", () => {
  const route = fixtureRoute(RT_TABLE.MAIN, "10.0.0.0/8", {
    protocol: RTPROT.BOOT,
    scope: RT_SCOPE.UNIVERSE,
  });
  assert.throws(() => encodeRoute({ ...route, gateway: "fe80::1" }), InvalidAddressError);
  assert.throws(() => encodeRoute({ ...route, dst: "::" }), InvalidAddressError);
  assert.throws(() => encodeRoute({ ...route, dstLen: 33 }), InvalidAddressError);
  assert.throws(() => encodeRoute({ ...route, prefsrc: "10.0.0.256" }), InvalidAddressError);
  assert.throws(
    () => encodeRoute({ ...route, multipath: [{ oif: 1, flags: 0, hops: 0, gateway: "::1" }] }),
    InvalidAddressError,
  );
  assert.throws(() => encodeRoute({ ...route, family: 7 }), InvalidAddressError);
});

Deno.test("cacheExpires reads rta_expires in USER_HZ ticks", () => {
  const info = new Uint8Array(32);
  new DataView(info.buffer).setInt32(8, 29950, true);
  const route = decodeRoute(GOLDEN.routes[0].message.payload);
  const withInfo = decodeRoute(
    encodeRoute({ ...route, other: [{ type: RTA.CACHEINFO, data: info }] }),
  );
  assert.equal(withInfo.cacheinfo?.expires, 29950);
  assert.equal(cacheExpires(withInfo), 299);
  assert.equal(
    cacheExpires({ ...withInfo, cacheinfo: { ...withInfo.cacheinfo!, expires: 0 } }),
    undefined,
  );
  assert.equal(cacheExpires(route), undefined);
  // A cache info of another size is not the kernel's struct: kept, unread.
  const odd = decodeRoute(
    encodeRoute({ ...route, other: [{ type: RTA.CACHEINFO, data: info.subarray(0, 12) }] }),
  );
  assert.equal(odd.cacheinfo, undefined);
  assert.equal(odd.other?.length, 1);
});

// --- Malformed input: always DecodeError. ---

const V4_HEAD = "02180000fe030001" + "00000000";
const V6_HEAD = "0a400000fe030001" + "00000000";

/**
 * `payload` in the middle of a larger buffer (as in a datagram, after its `nlmsghdr` and before
 * the next message), decoded in place with {@linkcode decodeRouteAt}.
 */
function decodeInPlace(payload: Uint8Array): Route {
  const data = new Uint8Array(16 + payload.length + 24).fill(0xa5);
  data.set(payload, 16);
  return decodeRouteAt(data, new DataView(data.buffer), 16, 16 + payload.length);
}

/** Asserts that `payload` is refused with a DecodeError matching `pattern`, in place or not. */
function rejects(hex: string, pattern: RegExp): void {
  const payload = fromHex(hex);
  let offset = -1;
  assert.throws(() => decodeRoute(payload), (error: unknown) => {
    assert.ok(error instanceof DecodeError, `${error}`);
    assert.match(error.message, pattern);
    offset = error.offset;
    return true;
  });
  assert.throws(() => decodeInPlace(payload), (error: unknown) => {
    assert.ok(error instanceof DecodeError, `${error}`);
    assert.match(error.message, pattern);
    assert.equal(error.offset, offset, "the same offset, relative to the payload");
    return true;
  });
}

Deno.test("the fast path takes plain IPv4 routes and decodes them as the general decoder", () => {
  const routes = [...GOLDEN.routes, ...GOLDEN.routeAttrs].map((g) => g.message.payload);
  const taken = routes.filter((payload) => checkPlainRoute(payload));
  assert.ok(taken.length > 0, "some golden routes are plain");
  const plain = (attrs: string) => fromHex(V4_HEAD + attrs);
  const TABLE = "08000f00fe000000";
  const DST = "08000100c0a80100";
  const OIF = "0800040002000000";
  const PRIORITY = "0800060000000080"; // 2^31: not a small integer
  const cases: [string, boolean][] = [
    ["", true],
    [TABLE + DST, true],
    [TABLE + DST + OIF, true],
    [TABLE + DST + PRIORITY + OIF, true],
    [TABLE + DST + PRIORITY, true],
    [DST + TABLE + OIF + "00", true], // any order of table and dst; padding left over
    [TABLE + DST + OIF + PRIORITY, false], // not the kernel's order
    [TABLE + DST + OIF + OIF, false], // twice
    [TABLE + DST + "08000700c0a80101" + OIF, false], // RTA_PREFSRC
    [TABLE + "0c000100c0a80100000000", false], // an address of 8 bytes
    [TABLE + "0800", true], // fewer than 4 bytes left: padding
    [TABLE + "08000100c0a8", false], // a torn attribute
  ];
  for (const [attrs, fast] of cases) {
    assert.equal(checkPlainRoute(plain(attrs)), fast, attrs);
  }
  assert.equal(checkPlainRoute(fromHex(V6_HEAD + OIF)), false, "IPv6 takes the general path");
});

Deno.test("decodeRouteAt decodes every golden route in place as decodeRoute does", () => {
  for (const g of [...GOLDEN.routes, ...GOLDEN.routeAttrs]) {
    const route = decodeInPlace(g.message.payload);
    assert.deepEqual(route, decodeRoute(g.message.payload));
    // Nothing kept points into the datagram: unmodelled attributes are views of a copy.
    for (const attr of route.other ?? []) {
      assert.equal(attr.data.buffer.byteLength, g.message.payload.length);
    }
  }
});

Deno.test("a short rtmsg is a DecodeError", () => {
  for (let n = 0; n < RTMSG_LEN; n++) rejects(V4_HEAD.slice(0, 2 * n), /struct rtmsg needs 12/);
});

Deno.test("an unknown family or an impossible prefix length is a DecodeError", () => {
  rejects("07180000fe03000100000000", /family 7/);
  rejects("02210000fe03000100000000", /destination prefix length 33 exceeds 32/);
  rejects("0a008100fe03000100000000", /source prefix length 129 exceeds 128/);
});

Deno.test("addresses of the wrong length are a DecodeError", () => {
  rejects(V4_HEAD + "0900010001020304050000", /attribute 1 has 5 bytes/); // RTA_DST, 5 bytes
  rejects(V4_HEAD + "14000500" + "00".repeat(16), /attribute 5 has 16 bytes/); // v6 gateway
  rejects(V6_HEAD + "08000500fe800000", /attribute 5 has 4 bytes/); // v4 gateway
  rejects(V6_HEAD + "04000700", /attribute 7 has 0 bytes/); // empty RTA_PREFSRC
});

Deno.test("attributes that overrun the message are a DecodeError", () => {
  rejects(V4_HEAD + "0c0001000a000000", /runs past/);
  rejects(V4_HEAD + "02000100", /shorter than its header/);
  rejects(V4_HEAD + "0600040001000000", /attribute 4 has 2 bytes, expected 4/); // short RTA_OIF
  rejects(V4_HEAD + "0400140000", /attribute 20 has 0 bytes, expected 1/); // empty RTA_PREF
});

Deno.test("multipath garbage is a DecodeError", () => {
  const mp = (body: string) => {
    const len = 4 + body.length / 2;
    return V4_HEAD + len.toString(16).padStart(2, "0") + "000900" + body + "00".repeat(-len & 3);
  };
  rejects(mp("040000000300"), /truncated rtnexthop/); // fewer than 8 bytes
  rejects(mp("0400000003000000"), /rtnexthop length 4 shorter than its header/);
  rejects(mp("1000000003000000"), /rtnexthop length 16 runs past/);
  rejects(mp("0800000003000000" + "0102"), /truncated rtnexthop/); // trailing garbage
  rejects(mp("1000000003000000" + "0c0005000a000001"), /runs past/); // hop attribute overrun
  rejects(mp("1000000003000000" + "0600050001020000"), /attribute 5 has 2 bytes/);
  rejects(mp("0c00000003000000" + "02000000"), /attribute 0 length 2 shorter than its header/);
});

Deno.test("truncating or corrupting any golden route never throws anything but DecodeError", () => {
  for (const g of GOLDEN.routes) {
    const payload = g.message.payload;
    for (let n = 0; n < payload.length; n++) {
      for (const decode of [decodeRoute, decodeInPlace]) {
        try {
          decode(payload.subarray(0, n));
        } catch (error) {
          assert.ok(error instanceof DecodeError, `${error}`);
        }
      }
    }
  }
});

// --- Table 100 of the capture: every attribute a copy carries. ---

/** A route of `ip -j -d route show table 100`, the fields this part checks. */
interface IpAttrRoute {
  dst: string;
  flags: string[];
  flow?: { from?: string; to?: string };
  metrics?: Record<string, number | string | null>[];
  nexthops?: { dev: string; weight: number; gateway?: string; flow?: { to?: string } }[];
  nhid?: number;
  pref?: string;
  expires?: number;
}

const ATTR_ROUTES = GOLDEN.routeAttrs.map((g) => decodeRoute(g.message.payload));

/** The metrics as `ip -j` prints them: rtt in ms (kernel: 1/8 ms), rttvar in ms (1/4 ms). */
function ipMetrics(route: Route): Record<string, number | string | null> {
  const m = route.metrics ?? {};
  const out: Record<string, number | string | null> = {};
  const put = (name: string, value: number | string | null | undefined) => {
    if (value !== undefined) out[name] = value;
  };
  put("mtu", m.mtu);
  put("window", m.window);
  put("rtt", m.rtt === undefined ? undefined : m.rtt / 8);
  put("rttvar", m.rttvar === undefined ? undefined : m.rttvar / 4);
  put("ssthresh", m.ssthresh);
  put("cwnd", m.cwnd);
  put("advmss", m.advmss);
  put("reordering", m.reordering);
  put("hoplimit", m.hoplimit);
  put("initcwnd", m.initcwnd);
  put("ecn", m.features === undefined ? undefined : null);
  put("rto_min", m.rtoMin);
  put("initrwnd", m.initrwnd);
  put("quickack", m.quickack);
  put("congestion", m.congctl);
  put("fastopen_no_cookie", m.fastopenNoCookie);
  return out;
}

function realms(flow: number | undefined): { from?: string; to?: string } | undefined {
  if (flow === undefined) return undefined;
  const out: { from?: string; to?: string } = {};
  if (flow >>> 16) out.from = String(flow >>> 16);
  out.to = String(flow & 0xffff);
  return out;
}

Deno.test("golden route attributes decode to what ip -j printed", () => {
  const ip = routeAttrsIp as IpAttrRoute[];
  assert.equal(ATTR_ROUTES.length, ip.length);
  ATTR_ROUTES.forEach((route, i) => {
    const want = ip[i];
    const where = `route ${i} (${want.dst})`;
    assert.equal(ipDst(route), want.dst, where);
    assert.deepEqual(ipMetrics(route), want.metrics?.[0] ?? {}, where);
    assert.deepEqual(realms(route.flow), want.flow, where);
    assert.equal((route.flags & RTNH_F.ONLINK) !== 0, want.flags.includes("onlink"), where);
    assert.equal(route.nhId, want.nhid, where);
    assert.equal(route.pref, want.pref === undefined ? undefined : PREF_NAMES[want.pref], where);
    assert.deepEqual(
      route.multipath?.map((h) => ({
        dev: h.oif,
        weight: h.hops + 1,
        gateway: h.gateway,
        flow: realms(h.flow),
      })),
      want.nexthops?.map((h) => ({
        dev: IFINDEX.get(h.dev),
        weight: h.weight,
        gateway: h.gateway,
        flow: h.flow,
      })),
      where,
    );
    const expires = cacheExpires(route);
    if (want.expires === undefined) assert.equal(expires, undefined, where);
    else assert.ok(expires! - want.expires >= 0 && expires! - want.expires <= 2, where);
  });
  // The lock bits: mtu, rto_min and congctl of the first route, mtu of the IPv6 one.
  assert.equal(
    ATTR_ROUTES[0].metrics?.lock,
    (1 << RTAX.MTU) | (1 << RTAX.RTO_MIN) | (1 << RTAX.CC_ALGO),
  );
  assert.equal(ATTR_ROUTES[5].metrics?.lock, 1 << RTAX.MTU);
});

Deno.test("golden route attributes re-encode to the kernel's bytes", () => {
  GOLDEN.routeAttrs.forEach((g, i) => {
    assert.equal(toHex(encodeRoute(ATTR_ROUTES[i])), toHex(g.message.payload), `route ${i}`);
  });
});

Deno.test("routes with only the common fields encode as through the general path", () => {
  // An empty `other` sends a route down the general path (attribute objects, kernel ranks); the
  // plain one is written straight into its buffer. Both must give the same bytes.
  const base = {
    table: 539098368,
    dstLen: 24,
    srcLen: 0,
    tos: 0,
    protocol: 77,
    scope: RT_SCOPE.LINK,
    type: RTN.UNICAST,
    flags: 0,
  };
  const cases = [
    { ...base, family: AF.INET, dst: "192.168.1.0", oif: 3 },
    { ...base, family: AF.INET, dst: "192.168.1.0", oif: 3, prefsrc: "192.168.1.5", priority: 7 },
    { ...base, family: AF.INET, dst: "0.0.0.0", dstLen: 0, gateway: "10.0.0.1", oif: 2 },
    { ...base, family: AF.INET, table: 100, dst: "10.1.2.3", dstLen: 32, tos: 8, priority: 0 },
    { ...base, family: AF.INET6, dst: "2001:db8::", dstLen: 64, oif: 4, priority: 1024 },
    {
      ...base,
      family: AF.INET6,
      dst: "fe80::",
      dstLen: 64,
      src: "2001:db8::",
      srcLen: 48,
      prefsrc: "2001:db8::5",
      gateway: "fe80::1",
      priority: 256,
      oif: 4,
    },
    { ...base, family: AF.INET6, dst: "::", dstLen: 0, oif: 9 },
  ];
  for (const route of cases) {
    assert.deepEqual(encodeRoute(route), encodeRoute({ ...route, other: [] }), route.dst);
  }
  // An address of the wrong family is refused the same way on both paths.
  const bad = { ...cases[0], gateway: "fe80::1" };
  assert.throws(() => encodeRoute(bad), InvalidAddressError);
  assert.throws(() => encodeRoute({ ...cases[4], gateway: "10.0.0.1" }), InvalidAddressError);
});

Deno.test("encodeRouteInto writes encodeRoute's bytes at the offset, or -1 without room", () => {
  const plain = fixtureRoute(FIREZONE, "192.168.1.0/24", { protocol: OURS, oif: 3 });
  for (const route of [plain, ...DECODED]) {
    const want = encodeRoute(route);
    const out = new Uint8Array(16 + want.length + 200).fill(0xaa);
    const length = encodeRouteInto(route, out, 16);
    assert.equal(length, want.length);
    assert.equal(toHex(out.subarray(16, 16 + length)), toHex(want));
    assert.ok(out.subarray(0, 16).every((b) => b === 0xaa)); // nothing before the offset
    assert.equal(encodeRouteInto(route, new Uint8Array(want.length - 1), 0), -1);
  }
  assert.throws(() => encodeRouteInto({ ...plain, dstLen: 33 }, new Uint8Array(256), 0));
  assert.throws(
    () => encodeRouteInto({ ...plain, gateway: "fe80::1" }, new Uint8Array(256), 0),
    InvalidAddressError,
  );
});
