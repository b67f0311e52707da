import assert from "node:assert/strict";
import { GOLDEN } from "./testdata/golden.ts";
import { NLMSG, RTM } from "../../src/netlink/constants.ts";
import { DecodeError } from "../../src/netlink/errors.ts";
import type { Message } from "../../src/netlink/message.ts";
import { decodeRtnlMessage } from "../../src/netlink/rtnl_message.ts";

function withType(message: Message, type: number): Message {
  return { header: { ...message.header, type }, payload: message.payload };
}

Deno.test("dumped messages decode to their kind, as new", () => {
  const kinds = { routes: "route", links: "link", addresses: "address", rules: "rule" } as const;
  for (const [file, kind] of Object.entries(kinds) as [keyof typeof kinds, string][]) {
    for (const g of GOLDEN[file]) {
      const event = decodeRtnlMessage(g.message);
      assert.equal(event.kind, kind);
      assert.ok(event.kind !== "other" && event.op === "new");
    }
  }
});

Deno.test("DEL messages decode as del, with the same value", () => {
  const cases = [
    [GOLDEN.routes[0].message, RTM.DELROUTE],
    [GOLDEN.links[0].message, RTM.DELLINK],
    [GOLDEN.addresses[0].message, RTM.DELADDR],
    [GOLDEN.rules[0].message, RTM.DELRULE],
  ] as const;
  for (const [message, del] of cases) {
    const added = decodeRtnlMessage(message);
    const removed = decodeRtnlMessage(withType(message, del));
    assert.ok(removed.kind !== "other" && removed.op === "del");
    assert.deepEqual({ ...removed, op: "new" }, added);
  }
});

Deno.test("the route value is the decoded route", () => {
  const event = decodeRtnlMessage(GOLDEN.routes[0].message);
  assert.ok(event.kind === "route");
  assert.equal(event.route.table, 539098368);
});

Deno.test("other types and non-IP families are 'other'", () => {
  const route = GOLDEN.routes[0].message;
  assert.deepEqual(decodeRtnlMessage(withType(route, NLMSG.DONE)), {
    kind: "other",
    type: NLMSG.DONE,
  });
  assert.deepEqual(decodeRtnlMessage(withType(route, RTM.GETROUTE)), {
    kind: "other",
    type: RTM.GETROUTE,
  });
  const mpls = route.payload.slice();
  mpls[0] = 28; // AF_MPLS
  assert.deepEqual(decodeRtnlMessage({ header: route.header, payload: mpls }), {
    kind: "other",
    type: RTM.NEWROUTE,
    family: 28,
  });
  const address = GOLDEN.addresses[0].message;
  const ipmr = address.payload.slice();
  ipmr[0] = 128;
  assert.deepEqual(decodeRtnlMessage({ header: address.header, payload: ipmr }), {
    kind: "other",
    type: RTM.NEWADDR,
    family: 128,
  });
});

Deno.test("malformed payloads are a DecodeError", () => {
  const header = { type: RTM.NEWROUTE, flags: 0, seq: 0, pid: 0 };
  for (const type of [RTM.NEWROUTE, RTM.DELLINK, RTM.NEWADDR, RTM.DELRULE]) {
    assert.throws(
      () => decodeRtnlMessage({ header: { ...header, type }, payload: new Uint8Array(0) }),
      DecodeError,
    );
  }
});
