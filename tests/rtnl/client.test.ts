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
