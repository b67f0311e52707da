import { deepEqual, equal, throws } from "node:assert/strict";
import { decodeAttributes } from "../../src/netlink/attributes.ts";
import { AF, NLM_F, RTA, RTM, RTM_F } from "../../src/netlink/constants.ts";
import { Conn } from "../../src/netlink/conn.ts";
import { ERRNO, NetlinkError } from "../../src/netlink/errors.ts";
import { encodeRoute, type Route, RTMSG_LEN } from "../../src/netlink/route.ts";
import { routeGetPayload, RtnlClient } from "../../src/rtnl/client.ts";
import { FakeKernel } from "../netlink/fake_kernel.ts";
import { FIREZONE, OURS, route } from "../_fixtures/routes.ts";

const answer: Route = route(FIREZONE, "192.168.1.0/24", { protocol: OURS, oif: 2 });

function attributes(payload: Uint8Array): Map<number, Uint8Array> {
  return new Map(
    decodeAttributes(payload.subarray(RTMSG_LEN), RTMSG_LEN).map((a) => [a.type, a.data]),
  );
}

Deno.test("routeGetPayload: host prefix, flags, DST/MARK/OIF/IIF/SRC/UID", () => {
  const p = routeGetPayload({ dst: "192.168.1.7", mark: 0xfd002021, fibMatch: true });
  equal(p[0], AF.INET);
  equal(p[1], 32);
  equal(p[2], 0);
  equal(new DataView(p.buffer).getUint32(8, true), RTM_F.LOOKUP_TABLE | RTM_F.FIB_MATCH);
  const attrs = attributes(p);
  deepEqual([...attrs.get(RTA.DST)!], [192, 168, 1, 7]);
  equal(
    new DataView(attrs.get(RTA.MARK)!.buffer, attrs.get(RTA.MARK)!.byteOffset).getUint32(0, true),
    0xfd002021,
  );
  const v6 = routeGetPayload({ dst: "2001:db8::1", src: "2001:db8::2", oif: 3, iif: 1, uid: 0 });
  equal(v6[0], AF.INET6);
  equal(v6[1], 128);
  equal(v6[2], 128);
  equal(new DataView(v6.buffer).getUint32(8, true), 0, "IPv6 refuses RTM_F_LOOKUP_TABLE");
  const v6Match = routeGetPayload({ dst: "2001:db8::1", fibMatch: true });
  equal(new DataView(v6Match.buffer).getUint32(8, true), RTM_F.FIB_MATCH);
  deepEqual([...attributes(v6).keys()].sort((a, b) => a - b), [
    RTA.DST,
    RTA.SRC,
    RTA.IIF,
    RTA.OIF,
    RTA.UID,
  ]);
  throws(() => routeGetPayload({ dst: "10.0.0.1", src: "2001:db8::1" }), NetlinkError);
});

Deno.test("routeGet sends one acked request and decodes the kernel's route", () => {
  const kernel = new FakeKernel((request, k) => [
    // A foreign datagram and an unrelated reply come first; both are ignored.
    FakeKernel.datagram([
      k.reply(request, RTM.NEWROUTE, encodeRoute({ ...answer, dst: "6.6.6.0" })),
    ], {
      pid: 999,
    }),
    FakeKernel.datagram([
      k.reply(
        { ...request, header: { ...request.header, seq: request.header.seq + 7 } },
        RTM.NEWROUTE,
        encodeRoute(answer),
      ),
      k.reply(request, RTM.NEWROUTE, encodeRoute(answer)),
      k.ack(request),
    ]),
  ]);
  const client = new RtnlClient(new Conn(kernel));
  deepEqual(client.routeGet({ dst: "192.168.1.7", fibMatch: true }), answer);
  equal(kernel.requests.length, 1);
  const [request] = kernel.requests;
  equal(request.header.type, RTM.GETROUTE);
  equal(request.header.flags, NLM_F.REQUEST | NLM_F.ACK);
});

Deno.test("routeGet turns the kernel's refusal into a NetlinkError and times out on silence", () => {
  const refusing = new RtnlClient(
    new Conn(
      new FakeKernel((request, k) => [
        FakeKernel.datagram([k.ack(request, ERRNO.ENETUNREACH, { msg: "no route" })]),
      ]),
    ),
  );
  throws(
    () => refusing.routeGet({ dst: "10.9.9.9", mark: 1 }),
    (e) =>
      e instanceof NetlinkError && e.code === "ENETUNREACH" && e.extAck === "no route" &&
      e.op === "route get 10.9.9.9 mark 1",
  );
  const silent = new RtnlClient(new Conn(new FakeKernel(() => [])));
  throws(
    () => silent.routeGet({ dst: "10.9.9.9" }),
    (e) => e instanceof NetlinkError && e.errno === ERRNO.ETIMEDOUT,
  );
  const empty = new RtnlClient(
    new Conn(new FakeKernel((request, k) => [FakeKernel.datagram([k.ack(request)])])),
  );
  throws(() => empty.routeGet({ dst: "10.9.9.9" }), /no route in the reply/);
});

Deno.test("apply: one datagram of add, replace and delete requests, dump-only fields left out", () => {
  const requests: { type: number; flags: number; payload: Uint8Array }[] = [];
  const kernel = new FakeKernel((request, k) => {
    requests.push({ ...request.header, payload: request.payload.slice() });
    const failed = request.header.type === RTM.DELROUTE && request.payload[1] === 16;
    if (failed || (request.header.flags & NLM_F.ACK) !== 0) {
      return [FakeKernel.datagram([k.ack(request, failed ? ERRNO.ESRCH : 0)])];
    }
    return [];
  });
  const client = new RtnlClient(new Conn(kernel));
  const cacheinfo = {
    clntref: 0,
    lastuse: 0,
    expires: 0,
    error: 0,
    used: 0,
    id: 0,
    ts: 0,
    tsage: 0,
  };
  const dumped = route(FIREZONE, "10.1.0.0/16", {
    protocol: OURS,
    oif: 2,
    flags: 0x10,
    metrics: { mtu: 1400 },
    cacheinfo,
    pref: 0,
    expires: 30,
    flow: 5,
    other: [{ type: RTA.ENCAP_TYPE, data: Uint8Array.of(1, 0) }],
  });
  const viaObject = route(FIREZONE, "10.2.0.0/24", { protocol: OURS, oif: 2, nhId: 7 });
  const v6 = route(FIREZONE, "2001:db8::/64", { protocol: OURS, oif: 3, priority: 1024 });
  const added = route(FIREZONE, "10.3.0.0/24", { protocol: OURS, oif: 2, cacheinfo });
  const results = client.apply([
    { op: "replace", route: added },
    { op: "add", route: v6 },
    { op: "add", route: added },
    { op: "delete", route: dumped },
    { op: "delete", route: viaObject },
  ]);
  deepEqual(results.map((r) => r.error?.code ?? null), [null, null, null, "ESRCH", null]);
  equal(results[3].error?.op, `delete route ${"10.1.0.0/16"} oif 2 table ${FIREZONE}`);
  equal(kernel.datagramsSent, 1);
  const { cacheinfo: _c, ...addable } = added;
  const { metrics: _m, cacheinfo: _i, pref: _p, expires: _e, flow: _f, other: _o, ...rest } =
    dumped;
  const { oif: _oif, ...objectOnly } = viaObject;
  deepEqual(requests.map((r) => [r.type, r.flags & ~NLM_F.ACK]), [
    [RTM.NEWROUTE, NLM_F.REQUEST | NLM_F.CREATE | NLM_F.REPLACE],
    [RTM.NEWROUTE, NLM_F.REQUEST | NLM_F.CREATE],
    [RTM.NEWROUTE, NLM_F.REQUEST | NLM_F.CREATE | NLM_F.EXCL],
    [RTM.DELROUTE, NLM_F.REQUEST],
    [RTM.DELROUTE, NLM_F.REQUEST],
  ]);
  deepEqual(
    requests.map((r) => [...r.payload]),
    [
      addable,
      v6,
      addable,
      { ...rest, flags: 0 },
      objectOnly,
    ].map((r) => [...encodeRoute(r)]),
  );
});

Deno.test("routes: both families in order, filtered again as the kernel may not, links and addresses too", () => {
  const v4 = [
    route(FIREZONE, "192.168.1.0/24", { protocol: OURS, oif: 2 }),
    route(254, "192.168.2.0/24", { oif: 2 }), // another table: an older kernel's answer
    route(FIREZONE, "192.168.3.0/24", { protocol: 3, oif: 3 }), // another protocol
    route(FIREZONE, "192.168.4.0/24", { protocol: OURS, oif: 3, priority: 2 ** 31 }),
  ];
  const v6 = [route(FIREZONE, "fd00::/64", { protocol: OURS, oif: 2 })];
  const kernel = new FakeKernel((request, k) => {
    const family = request.payload[0];
    const answers = request.header.type !== RTM.GETROUTE
      ? []
      : (family === AF.INET ? v4 : v6).map((r) =>
        k.reply(request, RTM.NEWROUTE, encodeRoute(r), NLM_F.MULTI)
      );
    // A control message in the middle is not a route.
    return [
      FakeKernel.datagram([...answers, k.reply(request, 0x1, new Uint8Array())]),
      FakeKernel.datagram([k.done(request)]),
    ];
  });
  const client = new RtnlClient(new Conn(kernel));
  deepEqual(client.routes({ table: FIREZONE }), [v4[0], v4[2], v4[3], v6[0]]);
  deepEqual(client.routes({ table: FIREZONE, protocol: OURS, family: AF.INET }), [v4[0], v4[3]]);
  deepEqual(client.routes({}), [...v4, ...v6]);
  deepEqual(client.links(), []);
});
