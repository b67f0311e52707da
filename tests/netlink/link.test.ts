import assert from "node:assert/strict";
import linksIp from "./testdata/links.ip.json" with { type: "json" };
import { assertDecodeErrors, fromHex, GOLDEN, IFINDEX, toHex } from "./testdata/golden.ts";
import { decodeAttributes } from "../../src/netlink/attributes.ts";
import { IFF, IFLA, IFLA_INFO } from "../../src/netlink/constants.ts";
import { decodeLink, encodeLink, IFINFOMSG_LEN, type Link } from "../../src/netlink/link.ts";

/** A link as `ip -j -d link show` prints it (the fields the test reads). */
interface IpLink {
  ifindex: number;
  ifname: string;
  flags: string[];
  mtu: number;
  operstate: string;
  link_type: string;
  master?: string;
  link?: string;
  linkinfo?: { info_kind?: string; info_slave_kind?: string };
}

const IP_LINKS = linksIp as IpLink[];
const DECODED = GOLDEN.links.map((g) => decodeLink(g.message.payload));
const OPERSTATES = ["UNKNOWN", "NOTPRESENT", "DOWN", "LOWERLAYERDOWN", "TESTING", "DORMANT", "UP"];
const FLAG_NAMES: Record<string, number> = {
  UP: IFF.UP,
  BROADCAST: IFF.BROADCAST,
  LOOPBACK: IFF.LOOPBACK,
  POINTOPOINT: IFF.POINTOPOINT,
  NOARP: IFF.NOARP,
  MULTICAST: IFF.MULTICAST,
  LOWER_UP: IFF.LOWER_UP,
};
const LINK_TYPES: Record<string, number> = { ether: 1, loopback: 772 };

function u32Of(link: Link, type: number): number | undefined {
  const attr = link.other?.find((a) => a.type === type);
  return attr && new DataView(attr.data.buffer, attr.data.byteOffset).getUint32(0, true);
}

Deno.test("golden links decode to what ip -j printed", () => {
  assert.equal(DECODED.length, IP_LINKS.length);
  DECODED.forEach((link, i) => {
    const ip = IP_LINKS[i];
    assert.equal(link.index, ip.ifindex);
    assert.equal(link.name, ip.ifname);
    assert.equal(link.mtu, ip.mtu);
    assert.equal(link.type, LINK_TYPES[ip.link_type]);
    assert.equal(OPERSTATES[link.operstate!], ip.operstate);
    const shown = Object.entries(FLAG_NAMES).filter(([, bit]) => (link.flags & bit) !== 0);
    assert.deepEqual(shown.map(([name]) => name).sort(), [...ip.flags].sort(), ip.ifname);
    assert.equal(link.kind, ip.linkinfo?.info_kind);
    assert.equal(u32Of(link, IFLA.MASTER), ip.master && IFINDEX.get(ip.master));
    assert.equal(u32Of(link, IFLA.LINK), ip.link && IFINDEX.get(ip.link));
    const slaveKind = link.linkInfo?.find((a) => a.type === 4); // IFLA_INFO_SLAVE_KIND
    assert.equal(
      slaveKind && new TextDecoder().decode(slaveKind.data.subarray(0, -1)),
      ip.linkinfo?.info_slave_kind,
    );
    assert.equal(link.family, undefined);
    assert.equal(link.change, undefined);
  });
});

Deno.test("golden links re-encode to the kernel's bytes", () => {
  GOLDEN.links.forEach((g, i) => {
    assert.equal(toHex(encodeLink(DECODED[i])), toHex(g.message.payload), `link ${i}`);
  });
});

Deno.test("encodeLink writes the header and only the fields that are set", () => {
  const link: Link = {
    index: 7,
    name: "lm0",
    flags: IFF.UP,
    type: 1,
    change: 0xffffffff,
    family: 7,
    kind: "veth",
  };
  const bytes = encodeLink(link);
  assert.equal(
    toHex(bytes.subarray(0, IFINFOMSG_LEN)),
    "0700" + "0100" + "07000000" + "01000000" + "ffffffff",
  );
  const attrs = decodeAttributes(bytes.subarray(IFINFOMSG_LEN));
  assert.deepEqual(attrs.map((a) => a.type), [IFLA.IFNAME, IFLA.LINKINFO]);
  assert.equal(attrs[1].flags, undefined); // IFLA_LINKINFO without NLA_F_NESTED, as ip sends it
  assert.deepEqual(decodeAttributes(attrs[1].data).map((a) => a.type), [IFLA_INFO.KIND]);
  assert.deepEqual(decodeLink(bytes), link);
  // An index-only link (RTM_GETLINK by index) has no attributes at all.
  assert.equal(encodeLink({ index: 3, name: "", flags: 0, type: 0 }).length, IFINFOMSG_LEN);
});

Deno.test("malformed links are a DecodeError", () => {
  const head = "00000100" + "03000000" + "43100100" + "00000000";
  assert.equal(decodeLink(fromHex(head + "0800030065746830")).name, "eth0");
  assertDecodeErrors(decodeLink, [
    "",
    head.slice(0, 30), // 15 bytes of ifinfomsg
    head + "0900030065746830", // IFLA_IFNAME runs past the end
    head + "03000300", // attribute shorter than its header
    head + "06000400dc05", // IFLA_MTU of 2 bytes
    head + "04001000", // IFLA_OPERSTATE of 0 bytes
    head + "0c001200" + "0c00010076657468", // IFLA_INFO_KIND overruns IFLA_LINKINFO
  ]);
});
