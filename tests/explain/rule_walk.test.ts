import { equal } from "node:assert/strict";
import { answeringRule, ruleSelects } from "../../src/explain/rule_walk.ts";
import { AF, FIB_RULE, FR_ACT, FRA } from "../../src/netlink/constants.ts";
import {
  firezoneRule,
  rule,
  stockRules,
  tailscaleRules,
  wgQuickRules,
} from "../detect/fixtures.ts";

const u32s = (...values: number[]) => {
  const data = new Uint8Array(values.length * 4);
  values.forEach((v, i) => new DataView(data.buffer).setUint32(i * 4, v, true));
  return data;
};

Deno.test("ruleSelects: fwmark with mask, inverted, prefixes, interfaces", () => {
  const fz = firezoneRule();
  equal(ruleSelects(fz, { dst: "10.0.0.1" }), true);
  equal(ruleSelects(fz, { dst: "10.0.0.1", mark: 0xfd002021 }), false);
  equal(ruleSelects(fz, { dst: "2001:db8::1" }), false, "other family");
  const [tsMain] = tailscaleRules();
  equal(ruleSelects(tsMain, { dst: "10.0.0.1", mark: 0x80000 }), true);
  equal(ruleSelects(tsMain, { dst: "10.0.0.1", mark: 0x80123 }), true, "mask 0xff0000");
  equal(ruleSelects(tsMain, { dst: "10.0.0.1", mark: 0x90000 }), false);
  equal(ruleSelects(rule(1, 100, { dst: "10.0.0.0", dstLen: 8 }), { dst: "10.9.9.9" }), true);
  equal(ruleSelects(rule(1, 100, { dst: "10.0.0.0", dstLen: 8 }), { dst: "11.0.0.1" }), false);
  equal(ruleSelects(rule(1, 100, { src: "10.0.0.0", srcLen: 8 }), { dst: "10.0.0.1" }), false);
  equal(ruleSelects(rule(1, 100, { src: "0.0.0.0", srcLen: 8 }), { dst: "10.0.0.1" }), true);
  equal(ruleSelects(rule(1, 100, { iifname: "lo" }), { dst: "10.0.0.1" }), true);
  equal(ruleSelects(rule(1, 100, { iifname: "eth0" }), { dst: "10.0.0.1" }), false);
  equal(ruleSelects(rule(1, 100, { oifname: "eth0" }), { dst: "10.0.0.1" }), false);
  equal(ruleSelects(rule(1, 100, { tos: 0x10 }), { dst: "10.0.0.1" }), false);
  equal(
    ruleSelects(rule(1, 100, { iifname: "eth0", flags: FIB_RULE.INVERT }), { dst: "10.0.0.1" }),
    true,
  );
  const uid = (start: number, end: number) =>
    rule(1, 100, { other: [{ type: FRA.UID_RANGE, data: u32s(start, end) }] });
  equal(ruleSelects(uid(0, 0), { dst: "10.0.0.1" }), true);
  equal(ruleSelects(uid(1000, 1000), { dst: "10.0.0.1" }), false);
  equal(ruleSelects(uid(1000, 1000), { dst: "10.0.0.1", uid: 1000 }), true);
  const proto = rule(1, 100, { other: [{ type: FRA.IP_PROTO, data: Uint8Array.of(6) }] });
  equal(ruleSelects(proto, { dst: "10.0.0.1" }), false);
});

Deno.test("answeringRule: Firezone, with and without its mark", () => {
  const rules = [...stockRules(), firezoneRule()];
  equal(
    answeringRule(rules, { dst: "192.168.1.7" }, { table: 539098368, dstLen: 24 })?.priority,
    32765,
  );
  equal(
    answeringRule(rules, { dst: "192.168.1.7", mark: 0xfd002021 }, { table: 254, dstLen: 24 })
      ?.priority,
    32766,
  );
  // A table answer that no rule leads to.
  equal(answeringRule(rules, { dst: "192.168.1.7" }, { table: 4242, dstLen: 24 }), undefined);
});

Deno.test("answeringRule: wg-quick's suppress_prefixlength 0 rule passes only longer prefixes", () => {
  const rules = [...stockRules(), ...wgQuickRules()];
  equal(answeringRule(rules, { dst: "192.168.1.7" }, { table: 254, dstLen: 24 })?.priority, 32764);
  equal(answeringRule(rules, { dst: "8.8.8.8" }, { table: 51820, dstLen: 0 })?.priority, 32765);
  equal(
    answeringRule(rules, { dst: "8.8.8.8", mark: 51820 }, { table: 254, dstLen: 0 })?.priority,
    32766,
  );
});

Deno.test("answeringRule: Tailscale's unreachable rule explains an error answer", () => {
  const rules = [...stockRules(), ...tailscaleRules()];
  equal(answeringRule(rules, { dst: "8.8.8.8" }, { table: 52, dstLen: 0 })?.priority, 5270);
  // Marked packets try main (5210) and default (5230); without a route there, 5250 refuses.
  equal(answeringRule(rules, { dst: "8.8.8.8", mark: 0x80000 }, { errno: 101 })?.priority, 5250);
  const onlyUnreachable = [...stockRules(), ...tailscaleRules().slice(2)];
  equal(
    answeringRule(onlyUnreachable, { dst: "8.8.8.8", mark: 0x80000 }, { errno: 101 })?.priority,
    5250,
  );
  equal(
    answeringRule(onlyUnreachable, { dst: "8.8.8.8", mark: 0x80000 }, { errno: 13 }),
    undefined,
  );
  equal(answeringRule(stockRules(), { dst: "8.8.8.8" }, { errno: 101 }), undefined);
});

Deno.test("answeringRule follows goto and skips nop", () => {
  const rules = [
    ...stockRules(),
    rule(10, 0, { action: FR_ACT.GOTO, other: [{ type: FRA.GOTO, data: u32s(30) }] }),
    rule(20, 100),
    rule(25, 0, { action: FR_ACT.NOP }),
    rule(30, 100),
  ];
  equal(answeringRule(rules, { dst: "10.0.0.1" }, { table: 100, dstLen: 8 })?.priority, 30);
  equal(
    answeringRule(stockRules(AF.INET6), { dst: "2001:db8::1" }, { table: 254, dstLen: 64 })
      ?.priority,
    32766,
  );
});
