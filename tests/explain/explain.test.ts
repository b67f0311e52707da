import { deepEqual, equal } from "node:assert/strict";
import type { MirrorConfig } from "../../src/engine/config.ts";
import {
  explainAddress,
  type ExplainSource,
  explainVerdict,
  marksToTry,
  tableExplanation,
} from "../../src/explain/explain.ts";
import { AF, RT_SCOPE, RTPROT } from "../../src/netlink/constants.ts";
import { ERRNO, NetlinkError } from "../../src/netlink/errors.ts";
import type { Route } from "../../src/netlink/route.ts";
import type { Rule } from "../../src/netlink/rule.ts";
import { planOptions } from "../../src/planner/options.ts";
import { planSync } from "../../src/planner/plan.ts";
import { mirrorCopy } from "../../src/planner/route_copy.ts";
import type { RouteGetRequest } from "../../src/rtnl/client.ts";
import { readVpnDetection } from "../../src/detect/auto_table.ts";
import { defaultVia, firezoneRule, IF, LINKS, route, stockRules } from "../detect/fixtures.ts";

const FZ = 539098368;
const lan = route(254, "192.168.1.0/24", {
  oif: IF.eth0,
  protocol: RTPROT.KERNEL,
  prefsrc: "192.168.1.5",
});
const mainDefault = route(254, "0.0.0.0/0", {
  oif: IF.eth0,
  gateway: "192.168.1.1",
  scope: RT_SCOPE.UNIVERSE,
  protocol: RTPROT.DHCP,
});
const copy = mirrorCopy(lan, { table: FZ, protocol: 77 });
const vpnDefault = defaultVia(FZ, IF.tun0);

const config: MirrorConfig = {
  tables: [FZ],
  source: 254,
  protocol: 77,
  families: [AF.INET, AF.INET6],
  exclude: [],
  excludeDevices: [],
};

/** A fake kernel: fixed tables and rules; lookups answered by `answer`. */
function kernel(
  routes: Route[],
  answer: (request: RouteGetRequest) => Route | number,
  rules: Rule[] = [...stockRules(), firezoneRule()],
): ExplainSource & { requests: RouteGetRequest[] } {
  const requests: RouteGetRequest[] = [];
  return {
    requests,
    rules: (family) => rules.filter((r) => r.family === family),
    routes: (filter) =>
      routes.filter((r) =>
        (filter.table === undefined || r.table === filter.table) &&
        (filter.family === undefined || r.family === filter.family)
      ),
    links: () => [...LINKS],
    addresses: () => [],
    apply: () => [],
    routeGet: (request) => {
      requests.push(request);
      const out = answer(request);
      if (typeof out === "number") throw new NetlinkError("route get", out);
      return out;
    },
  };
}

Deno.test("the copy makes the LAN reachable: verdict lan-via-copy, marked lookup uses main", () => {
  const k = kernel([lan, mainDefault, vpnDefault, copy], (req) => req.mark ? lan : copy);
  const e = explainAddress(k, "192.168.1.20", config);
  equal(e.verdict, "lan-via-copy");
  equal(e.lookups.length, 2);
  equal(e.lookups[0].rule?.priority, 32765);
  equal(e.lookups[1].mark, 0xfd002021);
  equal(e.lookups[1].markOf, FZ);
  equal(e.lookups[1].rule?.priority, 32766);
  const [t] = e.tables;
  equal(t.status, "copied");
  equal(t.captures, true);
  equal(t.vpn?.name, "firezone");
  deepEqual(t.copy, copy);
  deepEqual(t.withoutCopy, vpnDefault);
  deepEqual(k.requests.map((r) => [r.dst, r.mark, r.fibMatch === true]), [
    ["192.168.1.20", undefined, true],
    ["192.168.1.20", undefined, false],
    ["192.168.1.20", 0xfd002021, true],
    ["192.168.1.20", 0xfd002021, false],
  ]);
});

Deno.test("no copy yet: verdict vpn, the table says the copy is missing", () => {
  const k = kernel([lan, mainDefault, vpnDefault], (req) => req.mark ? lan : vpnDefault);
  const e = explainAddress(k, "192.168.1.20", config);
  equal(e.verdict, "vpn");
  equal(e.tables[0].status, "missing");
  deepEqual(e.tables[0].source, lan);
});

Deno.test("an Internet address: the VPN carries it, main's default route is excluded", () => {
  const k = kernel(
    [lan, mainDefault, vpnDefault, copy],
    (req) => req.mark ? mainDefault : vpnDefault,
  );
  const e = explainAddress(k, "8.8.8.8", config);
  equal(e.verdict, "vpn");
  equal(e.tables[0].status, "excluded");
  equal(e.tables[0].reason, "default");
});

Deno.test("an excluded LAN and a conflicting route are told apart", () => {
  const excluded = explainAddress(
    kernel([lan, vpnDefault], () => vpnDefault),
    "192.168.1.20",
    { ...config, excludeDevices: ["eth0"] },
  );
  equal(excluded.tables[0].status, "excluded");
  equal(excluded.tables[0].reason, "excluded-device");

  const holder = route(FZ, "192.168.1.0/24", { oif: IF.tun0 });
  const conflict = explainAddress(
    kernel([lan, vpnDefault, holder], () => holder),
    "192.168.1.20",
    { ...config, precedence: "lan" },
  );
  equal(conflict.verdict, "vpn");
  equal(conflict.tables[0].status, "conflict");
  deepEqual(conflict.tables[0].conflicting, [holder]);
});

Deno.test("a VPN resource covering the LAN wins: excluded as vpn-route-wins, naming the route", () => {
  const resource = route(FZ, "192.168.0.0/16", { oif: IF.tun0 });
  const e = explainAddress(
    kernel([lan, vpnDefault, resource], () => resource),
    "192.168.1.20",
    config,
  );
  equal(e.verdict, "vpn");
  equal(e.tables[0].status, "excluded");
  equal(e.tables[0].reason, "vpn-route-wins");
  deepEqual(e.tables[0].vpnRoute, resource);
});

Deno.test("a hostile on-link route for public space is excluded as outside-local-space", () => {
  const hostile = route(254, "0.0.0.0/1", { oif: IF.eth0, protocol: RTPROT.DHCP });
  const e = explainAddress(kernel([lan, hostile, vpnDefault], () => vpnDefault), "8.8.8.8", config);
  equal(e.verdict, "vpn");
  equal(e.tables[0].status, "excluded");
  equal(e.tables[0].reason, "outside-local-space");
});

Deno.test("unreachable, main and other verdicts; no route in main", () => {
  const e = explainAddress(kernel([vpnDefault], () => ERRNO.ENETUNREACH), "10.9.9.9", config);
  equal(e.verdict, "unreachable");
  equal(e.lookups[0].error?.code, "ENETUNREACH");
  equal(e.lookups[0].match, undefined);
  equal(e.tables[0].status, "no-source-route");
  equal(explainVerdict({ match: lan }, config), "main");
  equal(explainVerdict({ match: route(100, "10.0.0.0/8") }, config), "other");
  equal(explainVerdict({ match: copy }, config), "lan-via-copy");
  equal(explainVerdict({ match: copy }, { ...config, protocol: 99 }), "vpn");
});

Deno.test("marksToTry: the target tables' marks, else every VPN's, without repeats", () => {
  const found = readVpnDetection(kernel([vpnDefault], () => vpnDefault));
  deepEqual(marksToTry(found, [FZ]), [{ mark: { mark: 0xfd002021, mask: 0xffffffff }, table: FZ }]);
  deepEqual(marksToTry(found, [100]).length, 1);
  deepEqual(marksToTry({ candidates: [], ignored: [], mainPriority: {} }, [FZ]), []);
});

Deno.test("tableExplanation: an outdated copy (a sync replaces it)", () => {
  const old = { ...copy, prefsrc: "192.168.1.99" };
  const plan = planSync({
    source: [lan],
    targets: new Map([[FZ, [vpnDefault, old]]]),
    links: LINKS,
    addresses: [],
    options: planOptions(),
  });
  const t = tableExplanation({
    table: FZ,
    address: "192.168.1.20",
    plan,
    sourceRoutes: [lan],
    targetRoutes: [vpnDefault, old],
    protocol: 77,
  });
  equal(t.status, "outdated");
  deepEqual(t.copy, old);
  const gone = planSync({
    source: [],
    targets: new Map([[FZ, [vpnDefault, old]]]),
    links: LINKS,
    addresses: [],
    options: planOptions(),
  });
  equal(
    tableExplanation({
      table: FZ,
      address: "192.168.1.20",
      plan: gone,
      sourceRoutes: [],
      targetRoutes: [vpnDefault, old],
      protocol: 77,
    }).status,
    "no-source-route",
  );
});
