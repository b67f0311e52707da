import { deepEqual, equal } from "node:assert/strict";
import { AF, RT_SCOPE, RTAX, RTN, RTNH_F, RTPROT } from "../../src/netlink/constants.ts";
import type { Route } from "../../src/netlink/route.ts";
import {
  exclusionText,
  planJson,
  planText,
  resultsText,
  routeJson,
  routeText,
} from "../../src/cli/render.ts";
import { ERRNO, NetlinkError } from "../../src/netlink/errors.ts";
import type { ChangeResult } from "../../src/rtnl/client.ts";
import { Random } from "../_fixtures/random.ts";
import { v4 } from "../planner/fixtures.ts";

const links = new Map([[2, "lan0"], [3, "lan1"]]);
const base: Route = v4("10.50.0.0/24", 2, { table: 539098368, protocol: 77 });
const names = { protocols: new Map([[77, "linkmirror"], [16, "dhcp"]]), scopes: new Map() };

Deno.test("routeText: protocol and scope names as ip prints them, numbers when unnamed", () => {
  equal(
    routeText({ ...base, protocol: RTPROT.DHCP }, links),
    "10.50.0.0/24 dev lan0 proto dhcp scope link",
  );
  equal(routeText(base, links), "10.50.0.0/24 dev lan0 proto 77 scope link");
  equal(routeText(base, links, { names }), "10.50.0.0/24 dev lan0 proto linkmirror scope 253");
  equal(routeText({ ...base, type: RTN.UNREACHABLE }, links).split(" ")[0], "unreachable");
});

Deno.test("routeText: what a copy carries, in ip's words and order", () => {
  const route: Route = {
    ...base,
    flow: (2 << 16) | 9,
    metrics: {
      lock: 1 << RTAX.MTU,
      mtu: 1400,
      rtt: 160,
      advmss: 1360,
      hoplimit: 33,
      features: 1,
      rtoMin: 50,
      congctl: "cubic",
    },
  };
  equal(
    routeText(route, links),
    "10.50.0.0/24 dev lan0 proto 77 scope link realms 2/9 mtu lock 1400 rtt 20ms advmss 1360 " +
      "hoplimit 33 features ecn rto_min 50ms congctl cubic",
  );
  const multipath: Route = {
    ...base,
    oif: undefined,
    scope: RT_SCOPE.UNIVERSE,
    multipath: [
      { oif: 2, flags: 0, hops: 1, flow: 3 },
      { oif: 3, flags: RTNH_F.ONLINK, hops: 4, gateway: "172.16.0.1" },
    ],
  };
  delete multipath.oif;
  equal(
    routeText(multipath, links),
    "10.50.0.0/24 proto 77 nexthop dev lan0 weight 2 realm 3 " +
      "nexthop via 172.16.0.1 dev lan1 weight 5 onlink",
  );
  equal(
    routeText({ ...base, oif: undefined, nhId: 12 }, links),
    "10.50.0.0/24 nhid 12 proto 77 scope link",
  );
  const ra: Route = {
    ...base,
    family: AF.INET6,
    dst: "2001:db8::",
    dstLen: 64,
    scope: RT_SCOPE.UNIVERSE,
    priority: 1024,
    pref: 1,
    expires: 300,
  };
  equal(
    routeText(ra, links),
    "2001:db8::/64 dev lan0 proto 77 metric 1024 expires 300sec pref high",
  );
});

Deno.test("routeJson keeps numbers and adds names and the copied attributes", () => {
  const json = routeJson(
    { ...base, protocol: RTPROT.DHCP, metrics: { mtu: 1400, congctl: "bbr" }, flow: 7 },
    links,
  );
  equal(json.protocol, 16);
  equal(json.protocolName, "dhcp");
  deepEqual(json.metrics, { mtu: 1400, congctl: "bbr" });
  equal(json.realms, 7);
  equal(routeJson(base, links).protocolName, undefined);
  equal(routeJson(base, links, names).protocolName, "linkmirror");
});

Deno.test("planText: the security guards' refusals show without verbose, with the VPN's route", () => {
  const lan = v4("192.168.188.0/24", 2);
  const hostile = v4("0.0.0.0/1", 2, { protocol: RTPROT.DHCP });
  const resource = v4("192.168.0.0/16", 3, { table: 539098368, protocol: RTPROT.BOOT });
  const plan = {
    adds: [],
    replaces: [],
    deletes: [],
    conflicts: [],
    unchanged: [],
    excluded: [
      { route: hostile, reason: "outside-local-space" as const },
      { route: lan, reason: "vpn-route-wins" as const, table: 539098368, vpnRoute: resource },
      { route: v4("0.0.0.0/0", 2), reason: "default" as const },
    ],
  };
  const text = planText(plan, { tables: [539098368], links });
  equal(
    text,
    "table 539098368:\n" +
      "  ~ 0.0.0.0/1 dev lan0 proto dhcp scope link (outside-local-space)\n" +
      "  ~ 192.168.188.0/24 dev lan0 proto kernel scope link (vpn-route-wins: 192.168.0.0/16 " +
      "dev lan1 proto boot scope link)\n",
  );
  equal(planText(plan, { tables: [539098368], links, verbose: true }).split("\n").length, 5);
  equal(exclusionText(plan.excluded[0], links), "outside-local-space");
  const json = planJson(plan, { source: 254, tables: [539098368], protocol: 77, links });
  deepEqual(json.excluded.map((e) => [e.reason, e.vpnRoute?.dst ?? null]), [
    ["outside-local-space", null],
    ["vpn-route-wins", "192.168.0.0/16"],
    ["default", null],
  ]);
});

Deno.test("resultsText: each line is the change's sign, its routeText and its failure", () => {
  // resultsText reuses a route's tail (after the destination) for later routes on the same
  // device: every field routeText prints after the destination is varied here, so a tail reused
  // where one field differs shows as a line unlike routeText's.
  const rand = new Random(0x7461696c); // "tail"
  const variants: Partial<Route>[] = [
    {},
    { table: 100 },
    { protocol: RTPROT.DHCP },
    { scope: RT_SCOPE.UNIVERSE },
    { priority: 2147483648 },
    { priority: 600 },
    { flags: RTNH_F.ONLINK },
    { gateway: "10.50.0.1", scope: RT_SCOPE.UNIVERSE },
    { prefsrc: "10.50.0.7" },
    { flow: 9 },
    { expires: 30 },
    { pref: 1 },
    { nhId: 7 },
    { type: RTN.UNREACHABLE },
    { metrics: { mtu: 1400, lock: 0 } },
    { dst: "0.0.0.0", dstLen: 0 },
  ];
  const ops = ["add", "replace", "delete"] as const;
  const results: ChangeResult[] = [];
  for (let i = 0; i < 400; i++) {
    const route: Route = {
      ...base,
      dst: `10.50.${i >> 8}.${i & 255}`,
      dstLen: 32,
      oif: rand.chance(0.5) ? 2 : 3,
      ...rand.pick(variants),
      ...(rand.chance(0.3) ? rand.pick(variants) : {}),
    };
    const error = rand.chance(0.1) ? new NetlinkError("add route", ERRNO.EEXIST) : null;
    results.push({ change: { op: rand.pick(ops), route }, error });
  }
  const expected = results.map((r) =>
    (r.change.op === "add" ? "  + " : r.change.op === "replace" ? "  * " : "  - ") +
    routeText(r.change.route, links, { table: true, names }) +
    (r.error ? `  FAILED: ${r.error.code}` : "") + "\n"
  ).join("");
  equal(resultsText(results, links, names), expected);
});
