import assert from "node:assert/strict";
import addressesIp from "./testdata/addresses.ip.json" with { type: "json" };
import {
  assertDecodeErrors,
  fromHex,
  GOLDEN,
  layout,
  SCOPE_NAMES,
  toHex,
} from "./testdata/golden.ts";
import { decodeAttributes } from "../../src/netlink/attributes.ts";
import { AF, IFA, IFA_F } from "../../src/netlink/constants.ts";
import { InvalidAddressError } from "../../src/netlink/ip.ts";
import {
  type Address,
  decodeAddress,
  encodeAddress,
  IFADDRMSG_LEN,
} from "../../src/netlink/address.ts";

/** One `addr_info` entry of `ip -j addr show`, with its link's index. */
interface IpAddress {
  family: string;
  local: string;
  address?: string;
  prefixlen: number;
  scope: string;
  label?: string;
  broadcast?: string;
  nodad?: boolean;
  dynamic?: boolean;
  tentative?: boolean;
  valid_life_time: number;
  preferred_life_time: number;
}

const IP_ADDRESSES = (addressesIp as { ifindex: number; addr_info: IpAddress[] }[])
  .flatMap((link) => link.addr_info.map((a) => ({ ...a, ifindex: link.ifindex })));
const DECODED = GOLDEN.addresses.map((g) => decodeAddress(g.message.payload));

function otherAttr(address: Address, type: number): Uint8Array | undefined {
  return address.other?.find((a) => a.type === type)?.data;
}

Deno.test("golden addresses decode to what ip -j printed", () => {
  assert.equal(DECODED.length, IP_ADDRESSES.length);
  for (const address of DECODED) {
    const local = address.local ?? address.address;
    const ip = IP_ADDRESSES.find((a) => a.ifindex === address.index && a.local === local);
    assert.ok(ip, `ip shows ${local} on ${address.index}`);
    assert.equal(address.family, ip.family === "inet" ? AF.INET : AF.INET6);
    assert.equal(address.prefixLen, ip.prefixlen, local);
    assert.equal(address.scope, SCOPE_NAMES[ip.scope], local);
    assert.equal(address.label, ip.label, local);
    // A peer shows as "address"; an IPv4 address repeats IFA_LOCAL in IFA_ADDRESS.
    if (ip.address !== undefined) assert.equal(address.address, ip.address);
    else if (address.family === AF.INET) assert.equal(address.address, address.local);
    const broadcast = otherAttr(address, IFA.BROADCAST);
    assert.equal(broadcast && broadcast.join("."), ip.broadcast, local);
    assert.equal((address.flags & IFA_F.NODAD) !== 0, ip.nodad === true, local);
    assert.equal((address.flags & IFA_F.PERMANENT) === 0, ip.dynamic === true, local);
    assert.equal((address.flags & IFA_F.TENTATIVE) !== 0, ip.tentative === true, local);
    const info = otherAttr(address, IFA.CACHEINFO)!;
    const view = new DataView(info.buffer, info.byteOffset, info.byteLength);
    const [preferred, valid] = [view.getUint32(0, true), view.getUint32(4, true)];
    // ip ran just after the dump: its lifetimes are at most a second or two lower.
    assert.ok(preferred - ip.preferred_life_time <= 2 && preferred >= ip.preferred_life_time);
    assert.ok(valid - ip.valid_life_time <= 2 && valid >= ip.valid_life_time);
  }
});

Deno.test("golden addresses re-encode to the kernel's bytes", () => {
  GOLDEN.addresses.forEach((g, i) => {
    assert.equal(toHex(encodeAddress(DECODED[i])), toHex(g.message.payload), `address ${i}`);
  });
});

Deno.test("IFA_FLAGS overrides the 8-bit ifa_flags, and both are encoded", () => {
  // ifa_flags says 0x80 (permanent), IFA_FLAGS says 0x280 (permanent | noprefixroute).
  const payload = fromHex("02188000" + "03000000" + "080002000a000002" + "0800080080020000");
  const address = decodeAddress(payload);
  assert.equal(address.flags, IFA_F.PERMANENT | IFA_F.NOPREFIXROUTE);
  const bytes = encodeAddress(address);
  assert.equal(bytes[2], 0x80);
  const flags = decodeAttributes(bytes.subarray(IFADDRMSG_LEN)).find((a) => a.type === IFA.FLAGS);
  assert.equal(toHex(flags!.data), "80020000");
  // Without IFA_FLAGS the header byte is all there is.
  assert.equal(decodeAddress(fromHex("02184000" + "03000000")).flags, 0x40);
});

Deno.test("encodeAddress writes only the fields that are set, and checks families", () => {
  // In the order of ifaddrmsg (the header below), then the attribute.
  const address: Address = {
    family: AF.INET6,
    prefixLen: 64,
    flags: IFA_F.NODAD,
    scope: 0,
    index: 4,
    local: "fd00::1",
  };
  const bytes = encodeAddress(address);
  assert.deepEqual(layout(bytes, IFADDRMSG_LEN), {
    header: "0a400200" + "04000000",
    types: [IFA.LOCAL, IFA.FLAGS],
  });
  assert.deepEqual(decodeAddress(bytes), address);
  assert.throws(() => encodeAddress({ ...address, local: "10.0.0.1" }), InvalidAddressError);
  assert.throws(() => encodeAddress({ ...address, prefixLen: 129 }), InvalidAddressError);
  assert.throws(() => encodeAddress({ ...address, family: 0 }), InvalidAddressError);
});

Deno.test("malformed addresses are a DecodeError", () => {
  const head = "02188000" + "03000000";
  assertDecodeErrors(decodeAddress, [
    "",
    head.slice(0, 14), // 7 bytes of ifaddrmsg
    "07188000" + "03000000", // no IPv4/IPv6 family
    "02218000" + "03000000", // prefix length 33
    "0a818000" + "03000000", // prefix length 129
    head + "0800020000000000" + "0c000100", // attribute runs past the end
    head + "0800010000000000" + "00000300", // attribute shorter than its header
    head + "0c000200" + "0000000000000000", // IFA_LOCAL of 8 bytes
    "0a408000" + "03000000" + "080001000a000002", // IPv4-sized IFA_ADDRESS on IPv6
    head + "0600080080000000", // IFA_FLAGS of 2 bytes
  ]);
});
