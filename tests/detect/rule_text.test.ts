import { equal } from "node:assert/strict";
import { FIB_RULE, FR_ACT } from "../../src/netlink/constants.ts";
import { fwmarkText, ruleText, suppressPrefixLen } from "../../src/detect/rule_text.ts";
import { firezoneRule, rule, stockRules, tailscaleRules, wgQuickRules } from "./fixtures.ts";

Deno.test("ruleText reads like ip rule", () => {
  const [local, main, fallback] = stockRules();
  equal(ruleText(local), "0: from all lookup local");
  equal(ruleText(main), "32766: from all lookup main");
  equal(ruleText(fallback), "32767: from all lookup default");
  equal(ruleText(firezoneRule()), "32765: not from all fwmark 0xfd002021 lookup 539098368");
  const [suppress, wg] = wgQuickRules();
  equal(ruleText(suppress), "32764: from all lookup main suppress_prefixlength 0");
  equal(ruleText(wg), "32765: not from all fwmark 0xca6c lookup 51820");
  const [tsMain, , tsUnreachable, ts52] = tailscaleRules();
  equal(ruleText(tsMain), "5210: from all fwmark 0x80000/0xff0000 lookup main");
  equal(ruleText(tsUnreachable), "5250: from all fwmark 0x80000/0xff0000 unreachable");
  equal(ruleText(ts52), "5270: from all lookup 52");
});

Deno.test("ruleText: prefixes, tos, interfaces, names, other actions", () => {
  equal(
    ruleText(
      rule(100, 100, {
        src: "10.0.0.0",
        srcLen: 8,
        dst: "192.168.0.0",
        dstLen: 16,
        tos: 0x10,
        iifname: "eth0",
        oifname: "wg0",
      }),
      new Map([["lab", 100]]),
    ),
    "100: from 10.0.0.0/8 to 192.168.0.0/16 tos 0x10 iif eth0 oif wg0 lookup lab",
  );
  equal(ruleText(rule(7, 0, { action: FR_ACT.BLACKHOLE })), "7: from all blackhole");
  equal(
    ruleText(rule(8, 0, { action: FR_ACT.PROHIBIT, flags: FIB_RULE.INVERT })),
    "8: not from all prohibit",
  );
  equal(ruleText(rule(9, 0, { action: FR_ACT.GOTO })), "9: from all goto");
  equal(ruleText(rule(10, 0, { action: FR_ACT.NOP })), "10: from all nop");
  equal(ruleText(rule(11, 0, { action: 42 })), "11: from all action 42");
});

Deno.test("fwmarkText and suppressPrefixLen", () => {
  equal(fwmarkText(0xfd002021), "0xfd002021");
  equal(fwmarkText(0xfd002021, 0xffffffff), "0xfd002021");
  equal(fwmarkText(0x80000, 0xff0000), "0x80000/0xff0000");
  equal(suppressPrefixLen(rule(1, 254)), undefined);
  equal(suppressPrefixLen(rule(1, 254, { suppressPrefixLen: undefined })), undefined);
  equal(suppressPrefixLen(rule(1, 254, { suppressPrefixLen: 0 })), 0);
});
