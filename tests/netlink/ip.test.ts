import assert from "node:assert/strict";
import ntop from "./testdata/ntop.json" with { type: "json" };
import { fromHex, toHex } from "./testdata/golden.ts";
import { AF } from "../../src/netlink/constants.ts";
import {
  addressLength,
  cidrOverlaps,
  formatCidr,
  formatIp,
  InvalidAddressError,
  maxPrefixLen,
  parseCidr,
  parseIp,
} from "../../src/netlink/ip.ts";

Deno.test("formatIp matches glibc inet_ntop on every captured vector", () => {
  assert.ok(ntop.vectors.length > 300);
  for (const { bytes, text } of ntop.vectors) {
    assert.equal(formatIp(fromHex(bytes)), text, bytes);
  }
});

Deno.test("parseIp reads back every inet_ntop text", () => {
  for (const { bytes, text } of ntop.vectors) {
    const parsed = parseIp(text);
    assert.equal(parsed.family, AF.INET6);
    assert.equal(toHex(parsed.bytes), bytes, text);
  }
});

Deno.test("formatIp edge cases of RFC 5952 and glibc", () => {
  const cases: [string, string][] = [
    ["00000000000000000000000000000000", "::"],
    ["00000000000000000000000000000001", "::1"],
    ["00000000000000000000000000000002", "::2"], // glibc no longer prints ::0.0.0.2
    ["00000000000000000000ffffc0000201", "::ffff:192.0.2.1"],
    ["000000000000000000000000c0000201", "::192.0.2.1"],
    ["0000000000000000ffff0000c0000201", "::ffff:0:c000:201"],
    ["20010db8000000010000000100000001", "2001:db8:0:1:0:1:0:1"], // no :: for a single zero
    ["20010db8000000000001000000000001", "2001:db8::1:0:0:1"], // the first of equal runs
    ["20010db8000000000000000000000000", "2001:db8::"],
    ["fe800000000000000000000000000001", "fe80::1"],
    ["20010DB8ABCD00000000000000000000".toLowerCase(), "2001:db8:abcd::"],
  ];
  for (const [hex, text] of cases) assert.equal(formatIp(fromHex(hex)), text);
  assert.equal(formatIp(Uint8Array.of(0, 0, 0, 0)), "0.0.0.0");
  assert.equal(formatIp(Uint8Array.of(255, 255, 255, 255)), "255.255.255.255");
});

Deno.test("formatIp rejects lengths other than 4 and 16", () => {
  for (const n of [0, 3, 5, 15, 17]) {
    assert.throws(() => formatIp(new Uint8Array(n)), InvalidAddressError);
  }
});

Deno.test("parseIp accepts the forms inet_pton accepts", () => {
  const cases: [string, number, string][] = [
    ["192.0.2.1", AF.INET, "c0000201"],
    ["0.0.0.0", AF.INET, "00000000"],
    ["2001:DB8::1", AF.INET6, "20010db8000000000000000000000001"],
    ["::", AF.INET6, "00000000000000000000000000000000"],
    ["1::", AF.INET6, "00010000000000000000000000000000"],
    ["1:2:3:4:5:6:7::", AF.INET6, "00010002000300040005000600070000"],
    ["::2:3:4:5:6:7:8", AF.INET6, "00000002000300040005000600070008"],
    ["1:2:3:4:5:6:7:8", AF.INET6, "00010002000300040005000600070008"],
    ["::ffff:192.0.2.1", AF.INET6, "00000000000000000000ffffc0000201"],
    ["1:2:3:4:5:6:192.0.2.1", AF.INET6, "000100020003000400050006c0000201"],
    ["0001:0db8::00ff", AF.INET6, "00010db80000000000000000000000ff"],
  ];
  for (const [text, family, hex] of cases) {
    const parsed = parseIp(text);
    assert.equal(parsed.family, family, text);
    assert.equal(toHex(parsed.bytes), hex, text);
  }
});

Deno.test("parseIp rejects malformed text with InvalidAddressError", () => {
  const bad = [
    "",
    "1.2.3",
    "1.2.3.4.5",
    "256.0.0.1",
    "01.2.3.4",
    "1.2.3.-4",
    " 1.2.3.4",
    "1.2.3.4 ",
    "0x1.2.3.4",
    "::1::",
    ":::",
    ":1::2",
    "1::2:",
    "1:2:3:4:5:6:7:8:9",
    "1:2:3:4:5:6:7:8::",
    "1:2:3:4:5:6:7",
    "12345::",
    "g::",
    "fe80::1%eth0",
    "1.2.3.4::",
    "::1.2.3.256",
    "::1.2.3",
    "1:2:3:4:5:6:7:1.2.3.4",
    "::1.2.3.4:5",
  ];
  for (const text of bad) {
    assert.throws(() => parseIp(text), InvalidAddressError, JSON.stringify(text));
  }
  assert.throws(() => parseIp("300.1.1.1"), /^InvalidAddressError: Invalid address "300.1.1.1": /);
});

Deno.test("addressLength and maxPrefixLen per family", () => {
  assert.equal(addressLength(AF.INET), 4);
  assert.equal(addressLength(AF.INET6), 16);
  assert.equal(addressLength(128), 4); // RTNL_FAMILY_IPMR
  assert.equal(addressLength(AF.UNSPEC), undefined);
  assert.equal(maxPrefixLen(AF.INET), 32);
  assert.equal(maxPrefixLen(AF.INET6), 128);
  assert.throws(() => maxPrefixLen(7), InvalidAddressError);
});

Deno.test("parseCidr canonicalises and defaults to a host prefix", () => {
  assert.deepEqual(parseCidr("10.0.0.0/8"), { family: AF.INET, address: "10.0.0.0", prefixLen: 8 });
  assert.deepEqual(parseCidr("2001:DB8:0::/32"), {
    family: AF.INET6,
    address: "2001:db8::",
    prefixLen: 32,
  });
  assert.deepEqual(parseCidr("192.0.2.7"), {
    family: AF.INET,
    address: "192.0.2.7",
    prefixLen: 32,
  });
  assert.deepEqual(parseCidr("fe80::1"), { family: AF.INET6, address: "fe80::1", prefixLen: 128 });
  assert.deepEqual(parseCidr("0.0.0.0/0"), { family: AF.INET, address: "0.0.0.0", prefixLen: 0 });
  assert.deepEqual(parseCidr("::/0"), { family: AF.INET6, address: "::", prefixLen: 0 });
  assert.deepEqual(parseCidr("10.0.0.128/25").prefixLen, 25);
});

Deno.test("parseCidr rejects set host bits, naming the network", () => {
  assert.throws(() => parseCidr("10.0.0.1/8"), /host bits are set; the network is 10\.0\.0\.0\/8/);
  assert.throws(() => parseCidr("10.0.0.129/25"), /10\.0\.0\.128\/25/);
  assert.throws(() => parseCidr("2001:db8::1/64"), /2001:db8::\/64/);
  assert.throws(() => parseCidr("0.0.0.1/0"), InvalidAddressError);
});

Deno.test("parseCidr checks prefix lengths per family", () => {
  for (const text of ["10.0.0.0/33", "::/129", "10.0.0.0/-1", "10.0.0.0/08", "10.0.0.0/", "::/a"]) {
    assert.throws(() => parseCidr(text), InvalidAddressError, text);
  }
  assert.equal(parseCidr("::/128").prefixLen, 128);
  assert.equal(parseCidr("1.2.3.4/32").prefixLen, 32);
});

Deno.test("formatCidr writes address/length", () => {
  assert.equal(formatCidr(parseCidr("192.168.0.0/16")), "192.168.0.0/16");
  assert.equal(formatCidr(parseCidr("fe80::1")), "fe80::1/128");
});

Deno.test("cidrOverlaps is true when one prefix contains the other", () => {
  const c = parseCidr;
  assert.equal(cidrOverlaps(c("10.0.0.0/8"), c("10.1.0.0/16")), true);
  assert.equal(cidrOverlaps(c("10.1.0.0/16"), c("10.0.0.0/8")), true);
  assert.equal(cidrOverlaps(c("10.1.0.0/16"), c("10.1.0.0/16")), true);
  assert.equal(cidrOverlaps(c("0.0.0.0/0"), c("192.0.2.1")), true);
  assert.equal(cidrOverlaps(c("10.0.0.0/16"), c("10.1.0.0/16")), false);
  assert.equal(cidrOverlaps(c("10.0.0.0/25"), c("10.0.0.128/25")), false);
  assert.equal(cidrOverlaps(c("2001:db8::/32"), c("2001:db8:1::/48")), true);
  assert.equal(cidrOverlaps(c("2001:db8::/32"), c("2001:db9::/32")), false);
  assert.equal(cidrOverlaps(c("::/0"), c("0.0.0.0/0")), false); // different families
  assert.equal(cidrOverlaps(c("::ffff:10.0.0.0/104"), c("10.0.0.0/8")), false);
});
