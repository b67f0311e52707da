import assert from "node:assert/strict";
import rulesIp from "./testdata/rules.ip.json" with { type: "json" };
import {
  assertDecodeErrors,
  fromHex,
  GOLDEN,
  layout,
  named,
  PROTOCOL_NAMES,
  TABLE_NAMES,
  toHex,
} from "./testdata/golden.ts";
import { AF, FIB_RULE, FR_ACT, FRA, RT_TABLE } from "../../src/netlink/constants.ts";
import { InvalidAddressError } from "../../src/netlink/ip.ts";
import { decodeRule, encodeRule, FIB_RULE_HDR_LEN, type Rule } from "../../src/netlink/rule.ts";

/** A rule as `ip -j rule show` prints it. */
interface IpRule {
  priority: number;
  not?: null;
  src: string;
  srclen?: number;
  dst?: string;
  dstlen?: number;
  iif?: string;
  oif?: string;
  fwmark?: string;
  fwmask?: string;
  table?: string;
  action?: string;
  protocol?: string;
  suppress_prefixlen?: number;
}

const IP_RULES = rulesIp as IpRule[];
const DECODED = GOLDEN.rules.map((g) => decodeRule(g.message.payload));
const ACTIONS: Record<string, number> = { blackhole: FR_ACT.BLACKHOLE };

Deno.test("golden rules decode to what ip -j printed", () => {
  // `ip -4/-6 rule show` leaves out the multicast-routing families that the AF_UNSPEC dump has.
  const ipRules = DECODED.filter((r) => r.family === AF.INET || r.family === AF.INET6);
  assert.deepEqual(DECODED.filter((r) => !ipRules.includes(r)).map((r) => r.family), [128, 129]);
  assert.equal(ipRules.length, IP_RULES.length);
  ipRules.forEach((rule, i) => {
    const ip = IP_RULES[i];
    const where = `rule ${ip.priority}`;
    assert.equal(rule.priority ?? 0, ip.priority, where);
    assert.equal((rule.flags & FIB_RULE.INVERT) !== 0, "not" in ip, where);
    assert.equal(rule.src ?? "all", ip.src, where);
    assert.equal(rule.srcLen || undefined, ip.srclen, where);
    assert.equal(rule.dst, ip.dst, where);
    assert.equal(rule.dstLen || undefined, ip.dstlen, where);
    assert.equal(rule.iifname, ip.iif, where);
    assert.equal(rule.oifname, ip.oif, where);
    assert.equal(rule.fwmark, ip.fwmark === undefined ? undefined : Number(ip.fwmark), where);
    // ip leaves out the full mask 0xffffffff.
    const fwmask = ip.fwmask ?? (ip.fwmark === undefined ? undefined : "0xffffffff");
    assert.equal(rule.fwmask, fwmask === undefined ? undefined : Number(fwmask), where);
    assert.equal(rule.action, ip.action === undefined ? FR_ACT.TO_TBL : ACTIONS[ip.action], where);
    if (ip.table !== undefined) assert.equal(rule.table, named(TABLE_NAMES, ip.table), where);
    if (ip.protocol !== undefined) {
      assert.equal(rule.protocol, named(PROTOCOL_NAMES, ip.protocol), where);
    }
    const suppress = rule.suppressPrefixLen === 0xffffffff ? undefined : rule.suppressPrefixLen;
    assert.equal(suppress, ip.suppress_prefixlen, where);
  });
});

Deno.test("the Firezone rule decodes with its 32-bit table", () => {
  const firezone = DECODED.find((r) => r.family === AF.INET && r.priority === 32765);
  assert.deepEqual(firezone, {
    family: AF.INET,
    priority: 32765,
    table: 539098368,
    action: FR_ACT.TO_TBL,
    flags: FIB_RULE.INVERT,
    tos: 0,
    srcLen: 0,
    dstLen: 0,
    fwmark: 0xfd002021,
    fwmask: 0xffffffff,
    suppressPrefixLen: 0xffffffff,
    protocol: 0,
  });
  const golden = GOLDEN.rules[DECODED.indexOf(firezone!)];
  assert.equal(golden.message.payload[4], RT_TABLE.COMPAT);
});

Deno.test("golden rules re-encode to the kernel's bytes", () => {
  GOLDEN.rules.forEach((g, i) => {
    assert.equal(toHex(encodeRule(DECODED[i])), toHex(g.message.payload), `rule ${i}`);
  });
});

Deno.test("encodeRule writes only the fields that are set", () => {
  const rule: Rule = {
    family: AF.INET6,
    priority: 2000,
    table: 51820,
    action: FR_ACT.TO_TBL,
    flags: 0,
    tos: 0,
    src: "2001:db8::",
    srcLen: 32,
    dstLen: 0,
  };
  const bytes = encodeRule(rule);
  assert.deepEqual(layout(bytes, FIB_RULE_HDR_LEN), {
    header: "0a002000fc000001" + "00000000",
    types: [FRA.TABLE, FRA.PRIORITY, FRA.SRC],
  });
  assert.deepEqual(decodeRule(bytes), rule);
  const small = encodeRule({ ...rule, table: RT_TABLE.MAIN });
  assert.equal(small[4], RT_TABLE.MAIN);
  assert.throws(() => encodeRule({ ...rule, src: "10.0.0.0" }), InvalidAddressError);
  assert.throws(() => encodeRule({ ...rule, srcLen: 129 }), InvalidAddressError);
  assert.throws(() => encodeRule({ ...rule, family: AF.UNSPEC }), InvalidAddressError);
});

Deno.test("without FRA_TABLE the table is the header's", () => {
  assert.equal(decodeRule(fromHex("02000000fe000001" + "00000000")).table, RT_TABLE.MAIN);
});

Deno.test("malformed rules are a DecodeError", () => {
  const head = "02000000fe000001" + "00000000";
  assertDecodeErrors(decodeRule, [
    "",
    head.slice(0, 22), // 11 bytes of fib_rule_hdr
    "02210000fe000001" + "00000000", // dst_len 33
    "00000800fe000001" + "00000000", // src_len 8 in AF_UNSPEC
    head + "08000f00fe0000", // FRA_TABLE runs past the end
    head + "06000f00fe00", // FRA_TABLE of 2 bytes
    head + "0500020001000000", // FRA_SRC of 1 byte
    "0a000000fe000001" + "00000000" + "080002000a000000", // IPv4-sized FRA_SRC on IPv6
    "00000000fe000001" + "00000000" + "080002000a000000", // FRA_SRC in AF_UNSPEC
    head + "04001500", // FRA_PROTOCOL of 0 bytes
  ]);
});
