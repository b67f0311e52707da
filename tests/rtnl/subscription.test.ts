import { deepEqual, equal, ok } from "node:assert/strict";
import { Conn } from "../../src/netlink/conn.ts";
import { ERRNO, NetlinkError } from "../../src/netlink/errors.ts";
import { ATTACH_FILTER_OP } from "../../src/netlink/socket.ts";
import { ownIpv4RouteFilter } from "../../src/rtnl/own_route_filter.ts";
import { NLM_F, RTM, RTNLGRP } from "../../src/netlink/constants.ts";
import { encodeMessage } from "../../src/netlink/message.ts";
import { encodeRoute, type Route } from "../../src/netlink/route.ts";
import { RtnlClient } from "../../src/rtnl/client.ts";
import { decodeEvents } from "../../src/rtnl/subscription.ts";
import { FakeKernel } from "../netlink/fake_kernel.ts";
import { FIREZONE, OURS, route as fixtureRoute } from "../_fixtures/routes.ts";

const route: Route = fixtureRoute(FIREZONE, "10.0.0.0/24", { protocol: OURS, oif: 3 });

function notification(type: number, flags: number, pid: number): Uint8Array {
  return encodeMessage({ type, flags, seq: 0, pid }, encodeRoute(route));
}

Deno.test("subscribe opens its own socket on the groups and yields decoded events", async () => {
  const opened: { groups?: readonly number[]; receiveBuffer?: number }[] = [];
  let events: FakeKernel | undefined;
  const client = new RtnlClient(new Conn(new FakeKernel(() => {})), {
    openEvents: (options) => {
      opened.push(options);
      return events = new FakeKernel(() => {});
    },
  });
  const sub = client.subscribe([RTNLGRP.IPV4_ROUTE], { receiveBuffer: 1 << 20 });
  deepEqual(opened, [{ groups: [RTNLGRP.IPV4_ROUTE], receiveBuffer: 1 << 20 }]);
  events!.inject(
    FakeKernel.datagram([
      notification(RTM.NEWROUTE, NLM_F.REPLACE, 0),
      notification(RTM.DELROUTE, 0, 31337),
    ], { groups: 1 }),
    FakeKernel.datagram([notification(RTM.DELROUTE, 0, 0)], { pid: 999, groups: 1 }),
  );
  equal(await sub.wait(1000), "readable");
  const batch = sub.drain();
  equal(batch.overrun, false);
  equal(batch.messages, 2);
  deepEqual(
    batch.events.map((e) => e.kind === "route" ? [e.op, e.flags, e.port, e.route.dst] : e.kind),
    [["new", NLM_F.REPLACE, 0, "10.0.0.0"], ["del", 0, 31337, "10.0.0.0"]],
  );
  equal(sub.droppedForeign, 1, "a datagram from another socket is dropped");
  sub.close();
  ok(events!.closed);
});

Deno.test("dropping our own IPv4 changes: a filter on the socket, or none where it is refused", () => {
  const opened: { filter?: Uint8Array }[] = [];
  const open = (refuse: boolean) =>
    new RtnlClient(new Conn(new FakeKernel(() => {})), {
      openEvents: (options) => {
        opened.push(options);
        if (options.filter && refuse) throw new NetlinkError(ATTACH_FILTER_OP, ERRNO.EPERM);
        return new FakeKernel(() => {});
      },
    });
  const client = open(false);
  ok(client.port !== 0);
  const sub = client.subscribe([RTNLGRP.IPV4_ROUTE], { dropOwnIpv4Routes: true });
  equal(sub.ownIpv4RoutesDropped, true);
  deepEqual(opened.pop()?.filter, ownIpv4RouteFilter(client.port));
  equal(client.subscribe([RTNLGRP.IPV4_ROUTE]).ownIpv4RoutesDropped, false);
  equal(opened.pop()?.filter, undefined);
  const refused = open(true).subscribe([RTNLGRP.IPV4_ROUTE], { dropOwnIpv4Routes: true });
  equal(refused.ownIpv4RoutesDropped, false, "the notifications come: the daemon reads them");
  deepEqual(opened.map((o) => o.filter === undefined), [false, true]);
});

Deno.test("an overrun is reported, and the events after it still come", () => {
  const events = new FakeKernel(() => {});
  const client = new RtnlClient(new Conn(new FakeKernel(() => {})), { openEvents: () => events });
  const sub = client.subscribe([RTNLGRP.IPV4_ROUTE]);
  events.inject(
    { errno: ERRNO.ENOBUFS },
    FakeKernel.datagram([notification(RTM.NEWROUTE, 0, 0)], { groups: 1 }),
  );
  const batch = sub.drain();
  equal(batch.overrun, true);
  equal(batch.events.length, 1);
});

Deno.test("malformed messages become malformed events; other types are left out", () => {
  const batch = decodeEvents({
    messages: [
      {
        header: { type: RTM.NEWROUTE, flags: 0, seq: 0, pid: 0 },
        payload: new Uint8Array([2, 24, 0]),
      },
      { header: { type: 0x99, flags: 0, seq: 0, pid: 0 }, payload: new Uint8Array(4) },
    ],
    overrun: false,
  });
  equal(batch.messages, 2);
  equal(batch.events.length, 1);
  equal(batch.events[0].kind, "malformed");
});
