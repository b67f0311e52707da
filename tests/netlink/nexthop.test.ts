import assert from "node:assert/strict";
import nexthopsIp from "./testdata/nexthops.ip.json" with { type: "json" };
import { fromHex, GOLDEN, IFINDEX, PROTOCOL_NAMES, SCOPE_NAMES, toHex } from "./testdata/golden.ts";
import { AF, NEXTHOP_GRP_TYPE, NHA, RTM } from "../../src/netlink/constants.ts";
import { DecodeError } from "../../src/netlink/errors.ts";
import { InvalidAddressError } from "../../src/netlink/ip.ts";
import {
  decodeNexthop,
  encodeNexthop,
  type NexthopObject,
  NHMSG_LEN,
} from "../../src/netlink/nexthop.ts";
import { decodeRtnlMessage } from "../../src/netlink/rtnl_message.ts";

/** A nexthop as `ip -j -d nexthop show` prints it. */
interface IpNexthop {
  id: number;
  dev?: string;
  gateway?: string;
  group?: { id: number; weight?: number }[];
  type?: string;
  blackhole?: null;
  fdb?: null;
  scope: string;
  protocol: string;
}

const IP = nexthopsIp as IpNexthop[];
const DECODED = GOLDEN.nexthops.map((g) => decodeNexthop(g.message.payload));

Deno.test("golden nexthops: the capture covers single, gateway, group, resilient, blackhole, fdb", () => {
  assert.ok(GOLDEN.nexthops.every((g) => g.message.header.type === RTM.NEWNEXTHOP));
  assert.ok(DECODED.some((n) => n.family === AF.INET6 && n.gateway !== undefined));
  assert.ok(DECODED.some((n) => n.groupType === NEXTHOP_GRP_TYPE.RES));
  assert.ok(DECODED.some((n) => n.group?.some((m) => m.weight > 1)));
  assert.ok(DECODED.some((n) => n.blackhole));
  assert.ok(DECODED.some((n) => n.fdb));
});

Deno.test("golden nexthops decode to what ip -j printed", () => {
  assert.equal(DECODED.length, IP.length);
  DECODED.forEach((nh, i) => {
    const ip = IP[i];
    const where = `nexthop ${ip.id}`;
    assert.equal(nh.id, ip.id, where);
    assert.equal(nh.oif, ip.dev === undefined ? undefined : IFINDEX.get(ip.dev), where);
    assert.equal(nh.gateway, ip.gateway, where);
    assert.equal(nh.blackhole, "blackhole" in ip ? true : undefined, where);
    assert.equal(nh.fdb, "fdb" in ip ? true : undefined, where);
    assert.equal(nh.scope, SCOPE_NAMES[ip.scope], where);
    assert.equal(nh.protocol, PROTOCOL_NAMES[ip.protocol], where);
    assert.deepEqual(
      nh.group,
      ip.group?.map((m) => ({ id: m.id, weight: m.weight ?? 1 })),
      where,
    );
    if (ip.group !== undefined) {
      assert.equal(nh.groupType, ip.type === "resilient" ? 1 : 0, where);
    }
  });
});

Deno.test("golden nexthops re-encode to the kernel's bytes", () => {
  GOLDEN.nexthops.forEach((g, i) => {
    assert.equal(toHex(encodeNexthop(DECODED[i])), toHex(g.message.payload), `nexthop ${i}`);
  });
});

Deno.test("decodeRtnlMessage tags nexthop messages", () => {
  const event = decodeRtnlMessage(GOLDEN.nexthops[0].message);
  assert.equal(event.kind, "nexthop");
  const del = decodeRtnlMessage({
    header: { ...GOLDEN.nexthops[0].message.header, type: RTM.DELNEXTHOP },
    payload: GOLDEN.nexthops[0].message.payload,
  });
  assert.equal(del.kind === "nexthop" && del.op, "del");
});

Deno.test("group weights above 256 use weight_high; out of range is refused", () => {
  const nh: NexthopObject = {
    family: AF.UNSPEC,
    scope: 0,
    protocol: 0,
    flags: 0,
    id: 7,
    group: [{ id: 1, weight: 65536 }, { id: 2, weight: 300 }, { id: 3, weight: 1 }],
  };
  const bytes = encodeNexthop(nh);
  assert.deepEqual(decodeNexthop(bytes), nh);
  assert.throws(() => encodeNexthop({ ...nh, group: [{ id: 1, weight: 0 }] }), RangeError);
  assert.throws(() => encodeNexthop({ ...nh, group: [{ id: 1, weight: 65537 }] }), RangeError);
});

Deno.test("a gateway of the other family is refused on encode", () => {
  const nh: NexthopObject = { family: AF.INET, scope: 0, protocol: 0, flags: 0, id: 1 };
  assert.throws(() => encodeNexthop({ ...nh, gateway: "fe80::1" }), InvalidAddressError);
});

function rejects(hex: string, pattern: RegExp): void {
  assert.throws(() => decodeNexthop(fromHex(hex)), (error: unknown) => {
    assert.ok(error instanceof DecodeError, `${error}`);
    assert.match(error.message, pattern);
    return true;
  });
}

Deno.test("malformed nexthop messages are a DecodeError", () => {
  const head = "02fd000000000000";
  assert.equal(head.length / 2, NHMSG_LEN);
  rejects("02fd00", /struct nhmsg needs 8/);
  rejects(head, /without NHA_ID/);
  rejects(head + "080001000a000000" + "0600060001020000", /NHA_GATEWAY has 2 bytes/);
  rejects("00000000000000000800010001000000" + "0800020001000000", /not a multiple of 8/);
  rejects("00000000000000000800010001000000" + "0c000200", /runs past/);
  assert.equal(NHA.ID, 1);
});

Deno.test("truncating any golden nexthop never throws anything but DecodeError", () => {
  for (const g of GOLDEN.nexthops) {
    for (let n = 0; n < g.message.payload.length; n++) {
      try {
        decodeNexthop(g.message.payload.subarray(0, n));
      } catch (error) {
        assert.ok(error instanceof DecodeError, `${error}`);
      }
    }
  }
});
