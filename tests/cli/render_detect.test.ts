import { deepEqual, equal, match, ok } from "node:assert/strict";
import { detectJson, detectText } from "../../src/cli/render_detect.ts";
import { palette } from "../../src/cli/tty.ts";
import { detectVpnTables } from "../../src/detect/vpn_tables.ts";
import { AF } from "../../src/netlink/constants.ts";
import {
  defaultVia,
  firezoneRule,
  IF,
  LINKS,
  route,
  stockRules,
  tailscaleRules,
  wgQuickRules,
} from "../detect/fixtures.ts";

const links = new Map(LINKS.map((l) => [l.index, l.name]));
const context = { names: new Map<string, number>(), links, source: 254 };

const firezone = detectVpnTables({
  rules: [
    ...stockRules(AF.INET),
    firezoneRule(AF.INET),
    ...stockRules(AF.INET6),
    firezoneRule(AF.INET6),
  ],
  routes: [defaultVia(539098368, IF.tun0), defaultVia(539098368, IF.tun0, AF.INET6)],
  links: LINKS,
});

Deno.test("detect --json: the documented shape", () => {
  const doc = detectJson(firezone, { ...context, names: new Map([["fz", 539098368]]) });
  deepEqual(Object.keys(doc), ["candidates", "ignored", "mainRule", "auto"]);
  const [c] = doc.candidates;
  equal(
    Object.keys(c).join(" "),
    "table name vpn evidence families rules devices defaultRoutes routeCount bypassMark mainFirst",
  );
  equal(c.name, "fz");
  equal(c.vpn, "firezone");
  deepEqual(c.families, ["inet", "inet6"]);
  deepEqual(c.rules[0], {
    family: "inet",
    priority: 32765,
    text: "not from all fwmark 0xfd002021 lookup fz",
  });
  equal(c.bypassMark, "0xfd002021");
  equal(c.defaultRoutes[0].dev, "tun-firezone");
  deepEqual(doc.mainRule, { inet: 32766, inet6: 32766 });
  deepEqual(doc.auto, { table: 539098368, error: null });
});

Deno.test("detect text: aligned rows per rule, notes, and what --table auto picks", () => {
  const text = detectText(firezone, context);
  const lines = text.split("\n");
  match(lines[0], /^TABLE {6}VPN {7}FAMILY {2}PREF {3}RULE {2,}DEV {11}ROUTES$/);
  match(lines[1], /^539098368 {2}firezone {2}inet {4}32765 {2}not from all fwmark 0xfd002021/);
  equal(lines[1].indexOf("tun-firezone"), lines[0].indexOf("DEV"));
  match(text, /note 539098368: packets marked 0xfd002021 \(the VPN's own\) skip it/);
  match(text, /--table auto uses 539098368\n$/);
  ok(!text.includes("\x1b["), "no colour without a palette");
  ok(detectText(firezone, { ...context, colors: palette(true) }).includes("\x1b["));
});

Deno.test("detect text: nothing found, ignored tables, several candidates, wg-quick note", () => {
  const none = detectVpnTables({
    rules: [...stockRules(), ...tailscaleRules()],
    routes: [route(52, "100.64.0.0/10", { oif: IF.tailscale0 })],
    links: LINKS,
  });
  const text = detectText(none, context);
  match(text, /^No table captures traffic ahead of main\.\n/);
  match(text, /Also looked at:\n {2}52 {2}5270: from all lookup 52 {2}it holds no default route/);
  match(text, /--table auto fails: no routing table captures/);
  equal(detectJson(none, context).auto.table, null);

  const several = detectVpnTables({
    rules: [...stockRules(), firezoneRule(), ...wgQuickRules()],
    routes: [defaultVia(539098368, IF.tun0), defaultVia(51820, IF.wg0)],
    links: LINKS,
  });
  const text2 = detectText(several, context);
  match(text2, /--table auto fails: 2 tables capture traffic ahead of main/);
  match(text2, /51820: rule 32764 \(from all lookup main suppress_prefixlength 0\) consults main/);
});
