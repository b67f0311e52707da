import { deepEqual, equal } from "node:assert/strict";
import { identifyVpn } from "../../src/detect/known_vpns.ts";
import { FIB_RULE } from "../../src/netlink/constants.ts";
import { firezoneRule, rule, tailscaleRules, wgQuickRules } from "./fixtures.ts";

Deno.test("Firezone by its table or its fwmark, with the device as extra evidence", () => {
  deepEqual(identifyVpn({ table: 539098368, rules: [firezoneRule()], devices: ["tun-firezone"] }), {
    name: "firezone",
    evidence: ["table 539098368", "fwmark 0xfd002021", "device tun-firezone"],
  });
  const moved = { ...firezoneRule(), table: 1234 };
  deepEqual(identifyVpn({ table: 1234, rules: [moved], devices: [] }), {
    name: "firezone",
    evidence: ["fwmark 0xfd002021"],
  });
});

Deno.test("wg-quick by table 51820 or by its `not fwmark T lookup T` rule", () => {
  deepEqual(identifyVpn({ table: 51820, rules: wgQuickRules(), devices: ["wg0"] })?.evidence, [
    "table 51820",
    'rule "not fwmark 0xca6c lookup 51820"',
    "device wg0",
  ]);
  const custom = rule(32765, 4242, { flags: FIB_RULE.INVERT, fwmark: 4242 });
  equal(identifyVpn({ table: 4242, rules: [custom], devices: ["wg1"] })?.name, "wg-quick");
});

Deno.test("Tailscale by table 52, with its rule priority and device as extra evidence", () => {
  const rules = tailscaleRules().filter((r) => r.table === 52);
  deepEqual(identifyVpn({ table: 52, rules, devices: ["tailscale0"] }), {
    name: "tailscale",
    evidence: ["table 52", "rule priority 5270", "device tailscale0"],
  });
});

Deno.test("no name without a clear signature; a device name alone is not one", () => {
  equal(identifyVpn({ table: 100, rules: [rule(100, 100)], devices: ["tailscale0"] }), undefined);
  equal(identifyVpn({ table: 100, rules: [], devices: ["tun-firezone", "wg0"] }), undefined);
});
