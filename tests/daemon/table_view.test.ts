/**
 * TableView: route identity, what is tracked, links and addresses, nexthop objects, the header
 * flags of replace/append/ECMP as the kernel sent them, and the prefix index against a scan. The
 * recorded kernel cases (link down, address deleted, ...) are a table in
 * table_view_kernel_cases.test.ts; the namespace of both is table_view_namespace.ts.
 */
import assert from "node:assert/strict";
import { TableView } from "../../src/daemon/table_view.ts";
import { viewKey } from "../../src/planner/route_identity.ts";
import { IFA_F, NLM_F, RT_SCOPE, RTM_F, RTN, RTNH_F, RTPROT } from "../../src/netlink/constants.ts";
import type { Nexthop, Route } from "../../src/netlink/route.ts";
import { Random } from "../_fixtures/random.ts";
import { route } from "../_fixtures/routes.ts";
import {
  ADDR4,
  addr4,
  ADDR6,
  assertTable,
  COPY4,
  COPY6,
  FLAGS_UP,
  hop,
  link,
  LOCAL,
  LOCAL4,
  LOCAL6,
  MAIN,
  makeView,
  replay,
  T,
  v4,
  v6,
  VETH0,
  VETH2,
} from "./table_view_namespace.ts";

// ---- identity -------------------------------------------------------------------------------

Deno.test("viewKey: flags and expires are not identity; next hop, prefsrc and metric are", () => {
  assert.equal(viewKey(COPY4), viewKey({ ...COPY4, flags: RTNH_F.LINKDOWN }));
  assert.equal(viewKey(COPY6), viewKey({ ...COPY6, expires: 3 }));
  assert.notEqual(viewKey(COPY4), viewKey({ ...COPY4, oif: VETH2 }));
  assert.notEqual(viewKey(COPY4), viewKey({ ...COPY4, prefsrc: undefined }));
  assert.notEqual(viewKey(COPY6), viewKey({ ...COPY6, priority: 1024 }));
  assert.notEqual(viewKey(COPY4), viewKey({ ...COPY4, table: MAIN }));
  // An IPv6 route without RTA_PRIORITY has the kernel's default metric 1024.
  assert.equal(
    viewKey(v6(T, "2001:db8::/64", { priority: undefined })),
    viewKey(v6(T, "2001:db8::/64")),
  );
  // Multipath hops in any order.
  const a = v6(T, "2001:db8:70::/64", {
    multipath: [hop(VETH0, "2001:db8:50::2"), hop(VETH2, "2001:db8:60::2")],
  });
  const b = { ...a, multipath: [a.multipath![1], a.multipath![0]] };
  assert.equal(viewKey(a), viewKey(b));
});

// ---- basics -----------------------------------------------------------------------------------

Deno.test("only tracked tables, IP families and uncloned routes are kept", () => {
  const view = makeView({ routes: [COPY4, LOCAL4, v4(100, "10.0.0.0/8", { oif: VETH0 })] });
  assertTable(view, T, [COPY4]);
  assert.deepEqual(view.routes(LOCAL), []);
  assert.equal(view.applyRoute("new", LOCAL6), false);
  assert.equal(view.applyRoute("new", { ...COPY4, family: 28 }), false);
  assert.equal(view.applyRoute("new", { ...COPY6, flags: RTM_F.CLONED }), false);
  assert.equal(view.applyRoute("new", COPY6, NLM_F.CREATE | NLM_F.EXCL), true);
  assertTable(view, T, [COPY4, COPY6]);
  assert.equal(view.applyRoute("del", COPY6), true);
  assert.equal(view.applyRoute("del", COPY6), false, "deleting a missing route changes nothing");
  assert.equal(
    view.applyRoute("new", COPY4),
    false,
    "re-announcing the same route changes nothing",
  );
  const cacheinfo = {
    clntref: 1,
    lastuse: 2,
    expires: 3,
    error: 0,
    used: 4,
    id: 0,
    ts: 0,
    tsage: 0,
  };
  assert.equal(view.applyRoute("new", { ...COPY4, cacheinfo }), false, "counters only");
  assert.equal(view.applyRoute("new", { ...COPY4, flags: RTNH_F.LINKDOWN }), true);
});

Deno.test("links and addresses are kept and replaced", () => {
  const view = makeView();
  assert.deepEqual([...view.links().keys()].sort(), [1, VETH0]);
  assert.equal(view.applyLink("new", link(VETH0, FLAGS_UP)), false);
  assert.equal(view.applyLink("new", link(VETH0, FLAGS_UP, 1400)), true);
  assert.equal(view.links().get(VETH0)?.mtu, 1400);
  assert.equal(view.applyAddress("new", ADDR4), false);
  assert.equal(view.applyAddress("new", addr4("192.168.50.7", 24)), true);
  assert.equal(view.addresses(VETH0).length, 4);
  assert.equal(view.addresses(VETH2).length, 0);
});

Deno.test("an address update of what changes by itself is kept but is no change", () => {
  const view = makeView();
  const tentative = { ...ADDR6, flags: IFA_F.TENTATIVE | IFA_F.PERMANENT };
  assert.equal(view.applyAddress("new", tentative), true);
  // Duplicate address detection ends; its lifetimes are renewed (IFA_CACHEINFO, unmodelled).
  const settled = {
    ...ADDR6,
    flags: IFA_F.PERMANENT,
    other: [{ type: 6, data: new Uint8Array(16).fill(1) }],
  };
  assert.equal(view.applyAddress("new", settled), false);
  assert.equal(
    view.addresses(VETH0).find((a) => a.address === ADDR6.address)?.flags,
    IFA_F.PERMANENT,
  );
  assert.equal(
    view.applyAddress("new", { ...settled, flags: IFA_F.PERMANENT | IFA_F.DEPRECATED }),
    false,
  );
  assert.equal(
    view.applyAddress("new", { ...settled, flags: IFA_F.PERMANENT | IFA_F.DADFAILED }),
    true,
  );
  assert.equal(view.applyAddress("new", { ...settled, prefixLen: 64, scope: 200 }), true);
});

Deno.test("needsResync: first reason wins; a routes reset clears it", () => {
  const view = makeView();
  assert.equal(view.needsResync, undefined);
  view.requestResync("event socket overrun");
  view.requestResync("something else");
  assert.equal(view.needsResync, "event socket overrun");
  view.reset("links", []);
  assert.equal(view.needsResync, "event socket overrun");
  view.reset("routes", [COPY4]);
  assert.equal(view.needsResync, undefined);
});

Deno.test("nexthop objects: kept from dumps and events; a deleted one takes its routes along", () => {
  const nh = (id: number, extra = {}) => ({
    family: 2,
    scope: 253,
    protocol: 0,
    flags: 0,
    id,
    ...extra,
  });
  const viaObject = v4(T, "10.0.0.0/8", { nhId: 7, oif: VETH0, scope: RT_SCOPE.UNIVERSE });
  const mainViaObject = v4(MAIN, "10.0.0.0/8", { nhId: 7, oif: VETH0, scope: RT_SCOPE.UNIVERSE });
  const other = v4(T, "10.1.0.0/16", { nhId: 8, oif: VETH0, scope: RT_SCOPE.UNIVERSE });
  const view = makeView({ routes: [viaObject, mainViaObject, other] });
  view.reset("nexthops", [nh(7, { oif: VETH0 }), nh(8, { oif: VETH0 })]);
  assert.deepEqual([...view.nexthops().keys()], [7, 8]);
  assert.equal(view.applyNexthop("new", nh(7, { oif: VETH0 })), false, "the same object again");
  assert.equal(view.applyNexthop("new", nh(7, { oif: VETH0, gateway: "192.168.50.9" })), true);
  assert.equal(view.nexthops().get(7)?.gateway, "192.168.50.9");
  // The kernel removes IPv4 routes of a deleted object without a notification.
  assert.equal(view.applyNexthop("del", nh(7)), true);
  assert.deepEqual(view.routes(T), [other]);
  assert.deepEqual(view.routes(MAIN), []);
  assert.equal(view.nexthops().has(7), false);
  assert.equal(view.applyNexthop("del", nh(7)), false, "deleting it again changes nothing");
  // Unmodelled attributes (an encapsulation) are kept, as copies.
  const data = new Uint8Array([1, 2, 3, 4]);
  view.applyNexthop("new", nh(9, { oif: VETH0, other: [{ type: 8, data }] }));
  assert.notEqual(view.nexthops().get(9)?.other?.[0].data, data);
  assert.deepEqual(view.nexthops().get(9)?.other?.[0].data, data);
});

// ---- replace / append / ECMP (header flags as the kernel sent them) ------------------------------

Deno.test("IPv4: replace takes the first of (tos, metric), append goes last, create first", () => {
  const view = makeView({ routes: [] });
  const r = (oif: number, extra: Partial<Route> = {}) => v4(T, "10.1.0.0/16", { oif, ...extra });
  const via9 = r(VETH0, { scope: RT_SCOPE.UNIVERSE, gateway: "192.168.50.9" });
  replay(view, [
    ["route", "new", r(VETH0), NLM_F.CREATE | NLM_F.EXCL],
    ["route", "new", r(VETH2), NLM_F.REPLACE],
    ["route", "new", v4(T, "10.2.0.0/16", { oif: VETH2 }), NLM_F.CREATE | NLM_F.EXCL],
    ["route", "new", r(VETH0), NLM_F.CREATE | NLM_F.APPEND],
    ["route", "new", via9, NLM_F.CREATE],
  ]);
  assert.deepEqual(
    view.routes(T).filter((x) => x.dst === "10.1.0.0"),
    [via9, r(VETH2), r(VETH0)],
    "kernel order as `ip route show` listed it",
  );
  replay(view, [
    ["route", "new", r(VETH0, { priority: 5 }), NLM_F.CREATE | NLM_F.EXCL],
    ["route", "del", via9],
    ["route", "new", r(VETH0, { type: RTN.UNREACHABLE, oif: undefined }), NLM_F.REPLACE],
  ]);
  assertTable(view, T, [
    r(VETH0, { type: RTN.UNREACHABLE, oif: undefined }),
    r(VETH0),
    r(VETH0, { priority: 5 }),
    v4(T, "10.2.0.0/16", { oif: VETH2 }),
  ]);
  assert.equal(view.needsResync, undefined);
});

Deno.test("IPv6: replace with several candidates is ambiguous and asks for a resync", () => {
  const view = makeView({ routes: [] });
  const r = (oif: number) => v6(T, "2001:db8:1::/64", { oif });
  replay(view, [
    ["route", "new", r(VETH0), NLM_F.CREATE | NLM_F.EXCL],
    ["route", "new", r(VETH2), NLM_F.CREATE | NLM_F.APPEND],
  ]);
  assert.equal(view.needsResync, undefined);
  view.applyRoute("new", r(VETH2), NLM_F.REPLACE);
  assert.match(view.needsResync ?? "", /ambiguous/);
  // The kernel replaced the first one: two identical routes (what `ip -6 route show` listed).
  assert.deepEqual(view.routes(T), [r(VETH2), r(VETH2)]);
});

Deno.test("IPv6: a replace with one candidate swaps it, whatever its device", () => {
  const view = makeView({ routes: [COPY6] });
  const moved = { ...COPY6, oif: VETH2 };
  assert.equal(view.applyRoute("new", moved, NLM_F.REPLACE), true);
  assertTable(view, T, [moved]);
  assert.equal(view.needsResync, undefined);
});

Deno.test("IPv6 ECMP: append merges, a hop delete collapses, replace swaps the group", () => {
  const view = makeView({ routes: [] });
  const gw = (oif: number, gateway: string) => v6(T, "2001:db8:2::/64", { oif, gateway });
  const g50 = gw(VETH0, "2001:db8:50::2");
  const mp = (hops: Nexthop[]) => v6(T, "2001:db8:2::/64", { multipath: hops });
  const dev2 = v6(T, "2001:db8:2::/64", { oif: VETH2 });
  replay(view, [
    ["route", "new", g50, NLM_F.CREATE | NLM_F.EXCL],
    // The notification of the appended sibling lists the whole group, new hop first.
    [
      "route",
      "new",
      mp([hop(VETH2, "2001:db8:60::2"), hop(VETH0, "2001:db8:50::2")]),
      NLM_F.CREATE | NLM_F.APPEND,
    ],
    ["route", "new", dev2, NLM_F.CREATE | NLM_F.APPEND],
  ]);
  assertTable(view, T, [
    mp([hop(VETH2, "2001:db8:60::2"), hop(VETH0, "2001:db8:50::2")]),
    dev2,
  ]);
  view.applyRoute("del", g50);
  assertTable(view, T, [gw(VETH2, "2001:db8:60::2"), dev2]);
  view.applyRoute(
    "new",
    mp([hop(VETH0, "2001:db8:50::2"), hop(VETH2, "2001:db8:60::2")]),
    NLM_F.REPLACE,
  );
  view.applyRoute("new", gw(VETH0, "2001:db8:50::3"), NLM_F.REPLACE);
  // What `ip -6 route show table 539098368` listed at the end.
  assertTable(view, T, [gw(VETH0, "2001:db8:50::3"), dev2]);
  assert.equal(view.needsResync, undefined);
});

Deno.test("IPv6 ECMP: a merge the view cannot reconstruct asks for a resync", () => {
  const view = makeView({ routes: [] });
  view.applyRoute("new", v6(T, "2001:db8:2::/64", { oif: VETH0, gateway: "2001:db8:50::2" }));
  view.applyRoute(
    "new",
    v6(T, "2001:db8:2::/64", { oif: VETH2, gateway: "2001:db8:60::2" }),
    NLM_F.CREATE | NLM_F.APPEND,
  );
  assert.match(view.needsResync ?? "", /ECMP/);
});

Deno.test("RA routes with the same metric via different routers stay separate", () => {
  const view = makeView({ routes: [] });
  const ra = (gateway: string) =>
    v6(MAIN, "::/0", { protocol: RTPROT.RA, oif: VETH0, gateway, expires: 1800 });
  view.applyRoute("new", ra("fe80::1"), NLM_F.CREATE);
  view.applyRoute("new", ra("fe80::2"), NLM_F.CREATE);
  assert.equal(view.routes(MAIN).length, 2);
  assert.equal(view.needsResync, undefined);
});

Deno.test("routesWithPrefix and collectWithPrefix agree with a scan of the table (random events)", () => {
  const random = new Random(7);
  const rand = (n: number) => random.int(n);
  const view = new TableView({ tables: [254, 100] });
  const prefixes = ["10.0.0.0/8", "10.1.0.0/16", "10.1.0.0/24", "192.168.1.0/24"];
  const make = () => {
    const prefix = prefixes[rand(prefixes.length)];
    const table = rand(2) ? 254 : 100;
    const oif = 2 + rand(3);
    const protocol = rand(2) ? RTPROT.KERNEL : 77;
    return route(table, prefix, { protocol, oif, priority: rand(3) * 100 });
  };
  for (let step = 0; step < 2000; step++) {
    const r = make();
    const op = rand(100);
    if (op < 48) view.applyRoute("new", r, rand(2) ? NLM_F.REPLACE : NLM_F.CREATE);
    else if (op < 96) view.applyRoute("del", r, 0);
    else if (op < 98) {
      // The link goes down: the kernel drops its IPv4 routes silently, and so does the view.
      view.applyLink("new", { index: r.oif!, name: `e${r.oif}`, flags: 0x1002, type: 1 });
    } else view.reset("routes", [make(), make()]);
    for (const table of [254, 100]) {
      for (const p of prefixes) {
        const [dst, len] = p.split("/");
        const scan = view.routes(table).filter((x) => x.dst === dst && x.dstLen === Number(len));
        const indexed = view.routesWithPrefix({ family: 2, table, dst, dstLen: Number(len) });
        assert.deepEqual(
          indexed.map((x) => viewKey(x)).sort(),
          scan.map((x) => viewKey(x)).sort(),
          `step ${step}, table ${table}, ${p}`,
        );
        // Appended after what the list holds, only of the protocol asked for.
        const collected: Route[] = [indexed[0]];
        view.collectWithPrefix(table, { family: 2, dst, dstLen: Number(len) }, collected, 77);
        assert.deepEqual(
          collected.slice(1),
          indexed.filter((x) => x.protocol === 77),
          `step ${step}, table ${table}, ${p}, protocol 77`,
        );
      }
    }
  }
});

Deno.test("foreignRoutes always agrees with a scan of the table (random events, mixed owners)", () => {
  const random = new Random(11);
  const rand = (n: number) => random.int(n);
  const view = new TableView({ tables: [254, 100], protocol: 77 });
  const prefixes = ["10.0.0.0/8", "10.1.0.0/24", "192.168.1.0/24", "2001:db8::/64"];
  const make = () => {
    const prefix = prefixes[rand(prefixes.length)];
    const table = rand(2) ? 254 : 100;
    const oif = 2 + rand(3);
    const protocol = [77, 77, RTPROT.KERNEL, RTPROT.BOOT][rand(4)];
    const over = { protocol, oif, priority: rand(2) * 100 };
    return route(table, prefix, rand(4) ? over : { ...over, gateway: `fe80::${1 + rand(2)}` });
  };
  for (let step = 0; step < 3000; step++) {
    const r = make();
    const op = rand(100);
    if (op < 48) {
      view.applyRoute("new", r, [NLM_F.REPLACE, NLM_F.CREATE, NLM_F.APPEND][rand(3)]);
    } else if (op < 96) view.applyRoute("del", r, 0);
    else if (op < 98) {
      view.applyLink("new", { index: r.oif!, name: `e${r.oif}`, flags: 0x1002, type: 1 });
    } else view.reset("routes", [make(), make()]);
    for (const table of [254, 100]) {
      assert.deepEqual(
        view.foreignRoutes(table).map((x) => viewKey(x)).sort(),
        view.routes(table).filter((x) => x.protocol !== 77).map((x) => viewKey(x)).sort(),
        `step ${step}, table ${table}`,
      );
    }
  }
});

Deno.test("stored routes keep their keys, their order and their values, compact shape or not", () => {
  const header = {
    family: 2,
    table: T,
    dst: "10.7.0.0",
    dstLen: 16,
    srcLen: 0,
    tos: 0,
    protocol: 77,
    scope: RT_SCOPE.LINK,
    type: RTN.UNICAST,
    flags: 0,
  };
  const shapes: Route[] = [
    { ...header, oif: 2 },
    { ...header, priority: 2 ** 31, oif: 2 },
    { ...header, prefsrc: "192.168.0.1", oif: 2 },
    { ...header, priority: 2 ** 31, prefsrc: "192.168.0.1", oif: 2 },
    { ...header, oif: 2, priority: 2 ** 31 },
    { ...header, oif: 2, prefsrc: "192.168.0.1", priority: 2 ** 31 },
    { ...header, gateway: "10.0.0.1", oif: 2, priority: 2 ** 31 },
    { ...header, nhId: 7 },
    { ...header, oif: 2, gateway: "10.0.0.1", prefsrc: "192.168.0.1", priority: 2 ** 31 },
    { ...header, priority: undefined, oif: 2 },
    { ...header, gateway: "10.0.0.1", oif: 2 },
    { ...header, family: 10, dst: "2001:db8::", dstLen: 64, priority: 1024, oif: 2 },
  ];
  for (const shape of shapes) {
    for (const asEvent of [false, true]) {
      const view = new TableView({ tables: [MAIN, T] });
      const source = { ...shape, table: MAIN, protocol: RTPROT.BOOT };
      if (asEvent) {
        view.applyRoute("new", source, NLM_F.CREATE | NLM_F.EXCL);
        view.applyRoute("new", shape, NLM_F.CREATE | NLM_F.EXCL);
      } else view.reset("routes", [source, shape]);
      assert.deepEqual(
        [view.routes(MAIN), view.routes(T)].map((r) => JSON.stringify(r)),
        [JSON.stringify([source]), JSON.stringify([shape])],
      );
      assert.deepEqual(Object.keys(view.routes(T)[0]), Object.keys(shape));
      assert.equal(view.applyRoute("new", { ...shape }, 0), false, "same state");
    }
  }
});
