import { deepEqual, equal, match, throws } from "node:assert/strict";
import {
  AutoTableError,
  chooseAutoTable,
  describeCandidate,
  readVpnDetection,
  resolveAutoTable,
  type VpnTableSource,
} from "../../src/detect/auto_table.ts";
import type { MirrorConfig } from "../../src/engine/config.ts";
import { AF } from "../../src/netlink/constants.ts";
import type { Route } from "../../src/netlink/route.ts";
import type { Rule } from "../../src/netlink/rule.ts";
import type { RouteFilter } from "../../src/rtnl/client.ts";
import {
  defaultVia,
  firezoneRule,
  IF,
  LINKS,
  stockRules,
  tailscaleRules,
  wgQuickRules,
} from "./fixtures.ts";

/** A kernel with these rules and routes; records which tables were dumped. */
function source(rules: Rule[], routes: Route[]): VpnTableSource & { dumped: RouteFilter[] } {
  const dumped: RouteFilter[] = [];
  return {
    dumped,
    rules: (family) => rules.filter((r) => r.family === family),
    routes: (filter) => {
      dumped.push(filter);
      return routes.filter((r) => filter.table === undefined || r.table === filter.table);
    },
    links: () => [...LINKS],
  };
}

const config = (extra: Partial<MirrorConfig> = {}): MirrorConfig => ({
  tables: [],
  source: 254,
  protocol: 77,
  families: [AF.INET, AF.INET6],
  exclude: [],
  excludeDevices: [],
  autoTable: true,
  ...extra,
});

const firezone = () =>
  source(
    [
      ...stockRules(AF.INET),
      firezoneRule(AF.INET),
      ...stockRules(AF.INET6),
      firezoneRule(AF.INET6),
    ],
    [defaultVia(539098368, IF.tun0), defaultVia(539098368, IF.tun0, AF.INET6)],
  );

Deno.test("readVpnDetection dumps only the tables rules point at", () => {
  const kernel = firezone();
  const found = readVpnDetection(kernel);
  deepEqual(found.candidates.map((c) => c.table), [539098368]);
  deepEqual(kernel.dumped, [{ table: 539098368 }]);
});

Deno.test("resolveAutoTable: exactly one candidate becomes the target", () => {
  const resolved = resolveAutoTable(config(), firezone());
  deepEqual(resolved.tables, [539098368]);
  equal("autoTable" in resolved, false);
  // Explicit tables stay first; the detected one is not repeated.
  deepEqual(resolveAutoTable(config({ tables: [100] }), firezone()).tables, [100, 539098368]);
  deepEqual(resolveAutoTable(config({ tables: [539098368] }), firezone()).tables, [539098368]);
});

Deno.test("resolveAutoTable leaves a configuration without auto alone, without reading", () => {
  const kernel = firezone();
  const plain = config({ tables: [51820], autoTable: undefined });
  equal(resolveAutoTable(plain, kernel), plain);
  deepEqual(kernel.dumped, []);
});

Deno.test("no candidate: a clear error naming the tables looked at", () => {
  const noExit = source([...stockRules(), ...tailscaleRules()], []);
  throws(
    () => resolveAutoTable(config({ families: [AF.INET] }), noExit),
    (e) =>
      e instanceof AutoTableError &&
      /no routing table captures traffic ahead of main/.test(e.message) &&
      /52 \(rule 5270: from all lookup 52: it holds no default route/.test(e.message),
  );
  throws(
    () => resolveAutoTable(config(), source(stockRules(), [])),
    /--table auto: no routing table captures traffic ahead of main.*is the VPN connected\?$/,
  );
});

Deno.test("several candidates: a clear error listing each with its VPN and rule", () => {
  const both = source(
    [...stockRules(), firezoneRule(), ...wgQuickRules()],
    [defaultVia(539098368, IF.tun0), defaultVia(51820, IF.wg0)],
  );
  throws(() => resolveAutoTable(config({ families: [AF.INET] }), both), (e) => {
    if (!(e instanceof AutoTableError)) return false;
    match(e.message, /^--table auto: 2 tables capture traffic ahead of main: /);
    match(e.message, /539098368 \(firezone; rule 32765: not from all fwmark 0xfd002021 lookup/);
    match(e.message, /51820 \(wg-quick; rule 32765: not from all fwmark 0xca6c lookup 51820/);
    match(e.message, /choose with --table ID/);
    equal(e.detection.candidates.length, 2);
    return true;
  });
});

Deno.test("chooseAutoTable skips a candidate that is the source table", () => {
  const found = readVpnDetection(firezone());
  throws(() => chooseAutoTable(found, 539098368), AutoTableError);
  equal(chooseAutoTable(found, 254).table, 539098368);
  equal(
    describeCandidate(found.candidates[0], new Map([["firezone", 539098368]])),
    "539098368 (firezone; rule 32765: not from all fwmark 0xfd002021 lookup firezone; dev " +
      "tun-firezone)",
  );
});
