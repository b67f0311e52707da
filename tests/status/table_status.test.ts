import { deepEqual, equal } from "node:assert/strict";
import { planOptions } from "../../src/planner/options.ts";
import { planSync } from "../../src/planner/plan.ts";
import { mirrorCopy } from "../../src/planner/route_copy.ts";
import { tableStatuses } from "../../src/status/table_status.ts";
import { RTPROT } from "../../src/netlink/constants.ts";
import { defaultVia, IF, LINKS, route } from "../detect/fixtures.ts";

Deno.test("tableStatuses splits a plan per table: owned, missing, stale, conflicts, excluded", () => {
  const lan = route(254, "192.168.1.0/24", { oif: IF.eth0, protocol: RTPROT.KERNEL });
  const lab = route(254, "10.1.0.0/16", { oif: IF.eth0, protocol: RTPROT.KERNEL });
  const vpnLan = route(254, "172.31.0.0/16", { oif: IF.tun0, protocol: RTPROT.KERNEL });
  const staleCopy = mirrorCopy(route(254, "172.16.0.0/12", { oif: IF.eth0 }), {
    table: 100,
    protocol: 77,
  });
  const holder = route(200, "10.1.0.0/16", { oif: IF.wg0 });
  const plan = planSync({
    source: [lan, lab, vpnLan, defaultVia(254, IF.eth0)],
    targets: new Map([
      [100, [defaultVia(100, IF.tun0), mirrorCopy(lan, { table: 100, protocol: 77 }), staleCopy]],
      [200, [defaultVia(200, IF.wg0), holder]],
    ]),
    links: LINKS,
    addresses: [],
    // Longest prefix wins, so that table 200's route of the same prefix is a conflict.
    options: planOptions({ precedence: "lan" }),
  });
  const [a, b] = tableStatuses(plan, [100, 200]);
  equal(a.table, 100);
  deepEqual(a.owned.map((r) => r.dst), ["172.16.0.0", "192.168.1.0"]);
  deepEqual(a.stale.map((r) => r.dst), ["172.16.0.0"]);
  deepEqual(a.missing.map((r) => r.dst), ["10.1.0.0"]);
  equal(a.inSync, false);
  deepEqual(a.excluded.map((e) => [e.route.dst, e.reason]), [
    ["0.0.0.0", "default"],
    ["172.31.0.0", "vpn-interface"],
  ]);
  deepEqual(b.missing.map((r) => r.dst), ["172.31.0.0", "192.168.1.0"]);
  deepEqual(b.conflicts.map((c) => c.wanted.dst), ["10.1.0.0"]);
  deepEqual(b.excluded.map((e) => e.reason), ["default"]);
  equal(tableStatuses(plan, [300])[0].inSync, true);
});
