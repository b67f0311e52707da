import { deepEqual } from "node:assert/strict";
import { detectVpnTables } from "../../src/detect/vpn_tables.ts";
import { uncapturedTables } from "../../src/detect/uncaptured.ts";
import { AF } from "../../src/netlink/constants.ts";
import { FIREZONE_TABLE, TAILSCALE_TABLE } from "../../src/detect/known_vpns.ts";
import { defaultVia, firezoneRule, IF, LINKS, stockRules, tailscaleRules } from "./fixtures.ts";

Deno.test("uncapturedTables: a captured table is fine; others say why no traffic reaches them", () => {
  const detection = detectVpnTables({
    rules: [...stockRules(AF.INET), firezoneRule(AF.INET), ...tailscaleRules(AF.INET)],
    routes: [defaultVia(FIREZONE_TABLE, IF.tun0)], // Tailscale's table 52: no exit node.
    links: LINKS,
    families: [AF.INET],
  });
  deepEqual(uncapturedTables(detection, [FIREZONE_TABLE]), []);
  deepEqual(uncapturedTables(detection, [FIREZONE_TABLE, 1234, TAILSCALE_TABLE]), [
    { table: 1234, why: "no rule before main's sends traffic to it" },
    {
      table: TAILSCALE_TABLE,
      why: "it holds no default route, so it captures only some destinations",
    },
  ]);
});
