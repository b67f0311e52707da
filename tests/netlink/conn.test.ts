import { deepEqual, equal, ok, throws } from "node:assert/strict";
import { Conn } from "../../src/netlink/conn.ts";
import { RequestBatch } from "../../src/netlink/request_batch.ts";
import { NLM_F, RTM } from "../../src/netlink/constants.ts";
import { DecodeError, ERRNO, NetlinkError } from "../../src/netlink/errors.ts";
import { concatMessages, type Message } from "../../src/netlink/message.ts";
import { FakeKernel } from "./fake_kernel.ts";

const ROUTE_GROUP_MASK = 1 << 6; // RTNLGRP_IPV4_ROUTE (7) as an nl_groups bit

function bytes(...values: number[]): Uint8Array {
  return Uint8Array.from(values);
}

function payloads(messages: Message[]): number[][] {
  return messages.map((m) => [...m.payload]);
}

function isNetlinkError(errno: number, extAck?: string) {
  return (e: unknown) => {
    ok(e instanceof NetlinkError, `expected a NetlinkError, got ${e}`);
    equal(e.errno, errno);
    if (extAck !== undefined) equal(e.extAck, extAck);
    return true;
  };
}

/** A kernel answering every dump with `parts`: one datagram each, a message per payload. */
function dumpKernel(parts: number[][][], flagsOf: (attempt: number) => number = () => 0) {
  let attempt = 0;
  return new FakeKernel((req, k) => {
    const flags = NLM_F.MULTI | flagsOf(attempt++);
    const datagrams = parts.map((datagram) =>
      FakeKernel.datagram(datagram.map((p) => k.reply(req, RTM.NEWLINK, bytes(...p), flags)))
    );
    datagrams.push(FakeKernel.datagram([k.done(req, { flags: flags & NLM_F.DUMP_INTR })]));
    return datagrams;
  });
}

Deno.test("dump reads multipart replies across datagrams until NLMSG_DONE", () => {
  const kernel = dumpKernel([[[1], [2]], [[3], [4]]]);
  const conn = new Conn(kernel, { firstSeq: 7 });
  const messages = conn.dump(RTM.GETLINK, new Uint8Array(16));
  deepEqual(payloads(messages), [[1], [2], [3], [4]]);
  equal(kernel.datagramsSent, 1);
  const [request] = kernel.requests;
  equal(request.header.type, RTM.GETLINK);
  equal(request.header.flags, NLM_F.REQUEST | NLM_F.DUMP);
  equal(request.header.seq, 7);
  equal(kernel.queued, 0);
});

Deno.test("dump returns nothing for an empty dump (DONE only)", () => {
  const conn = new Conn(dumpKernel([]));
  deepEqual(conn.dump(RTM.GETROUTE, new Uint8Array(12)), []);
});

Deno.test("dump repeats a dump marked NLM_F_DUMP_INTR", () => {
  const kernel = dumpKernel([[[5]]], (attempt) => (attempt === 0 ? NLM_F.DUMP_INTR : 0));
  const conn = new Conn(kernel);
  deepEqual(payloads(conn.dump(RTM.GETROUTE, new Uint8Array(12))), [[5]]);
  equal(kernel.requests.length, 2);
  ok(kernel.requests[1].header.seq !== kernel.requests[0].header.seq);
});

Deno.test("dump gives up with EINTR after dumpRetries interrupted attempts", () => {
  const kernel = dumpKernel([[[5]]], () => NLM_F.DUMP_INTR);
  const conn = new Conn(kernel, { dumpRetries: 3 });
  throws(() => conn.dump(RTM.GETROUTE, new Uint8Array(12)), isNetlinkError(ERRNO.EINTR));
  equal(kernel.requests.length, 4);
});

Deno.test("dump turns an NLMSG_ERROR reply into a NetlinkError with the extended ack", () => {
  const kernel = new FakeKernel((req, k) => [
    FakeKernel.datagram([
      k.ack(req, ERRNO.EINVAL, { msg: "Invalid header for route dump request" }),
    ]),
  ]);
  const conn = new Conn(kernel);
  throws(
    () => conn.dump(RTM.GETROUTE, new Uint8Array(12)),
    (e) => {
      isNetlinkError(ERRNO.EINVAL, "Invalid header for route dump request")(e);
      equal((e as NetlinkError).code, "EINVAL");
      equal((e as NetlinkError).op, "dump RTM_GETROUTE");
      return true;
    },
  );
});

Deno.test("dump reports an error carried by NLMSG_DONE", () => {
  const kernel = new FakeKernel((req, k) => [
    FakeKernel.datagram([
      k.reply(req, RTM.NEWROUTE, bytes(1), NLM_F.MULTI),
      k.done(req, { errno: ERRNO.EMSGSIZE, msg: "too big" }),
    ]),
  ]);
  throws(
    () => new Conn(kernel).dump(RTM.GETROUTE, new Uint8Array(12)),
    isNetlinkError(ERRNO.EMSGSIZE, "too big"),
  );
});

Deno.test("dump fails with ETIMEDOUT instead of hanging when the kernel never answers", () => {
  const kernel = new FakeKernel(() => []);
  throws(
    () => new Conn(kernel, { timeoutMs: 50 }).dump(RTM.GETLINK, new Uint8Array(16)),
    isNetlinkError(ERRNO.ETIMEDOUT),
  );
});

Deno.test("dump drops and counts foreign datagrams, even ones that look like replies", () => {
  const kernel = new FakeKernel((req, k) => [
    FakeKernel.datagram([k.done(req)], { pid: 999 }),
    FakeKernel.datagram([k.reply(req, RTM.NEWLINK, bytes(9), NLM_F.MULTI)], { pid: 999 }),
    FakeKernel.datagram([k.reply(req, RTM.NEWLINK, bytes(1), NLM_F.MULTI), k.done(req)]),
  ]);
  const conn = new Conn(kernel);
  deepEqual(payloads(conn.dump(RTM.GETLINK, new Uint8Array(16))), [[1]]);
  equal(conn.droppedForeign, 2);
});

Deno.test("a multicast event during a request is not a reply; drainEvents returns it later", () => {
  const kernel = new FakeKernel((req, k) => [
    // Same seq and pid as the request, but multicast: an event, not a reply.
    FakeKernel.datagram([k.reply(req, RTM.NEWROUTE, bytes(42))], { groups: ROUTE_GROUP_MASK }),
    FakeKernel.datagram([k.reply(req, RTM.NEWROUTE, bytes(1), NLM_F.MULTI), k.done(req)]),
  ]);
  const conn = new Conn(kernel);
  deepEqual(payloads(conn.dump(RTM.GETROUTE, new Uint8Array(12))), [[1]]);
  const events = conn.drainEvents();
  deepEqual(payloads(events.messages), [[42]]);
  equal(events.overrun, false);
});

Deno.test("dump skips unicast messages of another sequence number (a stale reply)", () => {
  const kernel = new FakeKernel((req, k) => {
    const stale = { ...req, header: { ...req.header, seq: req.header.seq - 1 } };
    return [
      FakeKernel.datagram([k.reply(stale, RTM.NEWLINK, bytes(8), NLM_F.MULTI), k.done(stale)]),
      FakeKernel.datagram([k.reply(req, RTM.NEWLINK, bytes(1), NLM_F.MULTI), k.done(req)]),
    ];
  });
  deepEqual(payloads(new Conn(kernel).dump(RTM.GETLINK, new Uint8Array(16))), [[1]]);
});

/** A decoder of dumpDecoded: the first payload byte, or skipped when it is 0. */
function firstByte(data: Uint8Array, _view: DataView, offset: number): number | undefined {
  return data[offset + 16] || undefined;
}

Deno.test("dumpDecoded decodes each reply in place, in order, and leaves out undefined", () => {
  const kernel = dumpKernel([[[1], [0], [2]], [[3]]]);
  const conn = new Conn(kernel);
  const seen: [number, number][] = [];
  const values = conn.dumpDecoded(RTM.GETLINK, new Uint8Array(16), (data, view, offset, length) => {
    seen.push([view.getUint16(offset + 4, true), length]);
    return firstByte(data, view, offset);
  });
  deepEqual(values, [1, 2, 3]);
  deepEqual(seen, [[RTM.NEWLINK, 17], [RTM.NEWLINK, 17], [RTM.NEWLINK, 17], [RTM.NEWLINK, 17]]);
  equal(kernel.queued, 0);
});

Deno.test("dumpDecoded receives into a reused buffer; dump keeps every datagram's bytes", () => {
  const kernel = dumpKernel([[[1]], [[2]], [[3]]]);
  // A decoder that (wrongly) keeps views sees them overwritten by later datagrams...
  const views = new Conn(kernel).dumpDecoded(
    RTM.GETLINK,
    new Uint8Array(16),
    (data, _view, offset, length) => data.subarray(offset + 16, offset + length),
  );
  equal(views.length, 3);
  ok(views.every((v, i) => v[0] !== i + 1), "the views show the last datagram's bytes");
  // ...while the messages of dump() stay whole.
  deepEqual(
    payloads(new Conn(dumpKernel([[[1]], [[2]], [[3]]])).dump(RTM.GETLINK, new Uint8Array(16))),
    [[1], [2], [3]],
  );
});

Deno.test("dumpDecoded repeats an interrupted dump, without the values of the cut one", () => {
  const kernel = dumpKernel([[[5], [6]]], (attempt) => (attempt === 0 ? NLM_F.DUMP_INTR : 0));
  deepEqual(new Conn(kernel).dumpDecoded(RTM.GETROUTE, new Uint8Array(12), firstByte), [5, 6]);
  equal(kernel.requests.length, 2);
});

Deno.test("dumpDecoded throws a decoder's DecodeError once the dump is read to its end", () => {
  const kernel = dumpKernel([[[1], [2]], [[3]]]);
  const conn = new Conn(kernel);
  const calls: number[] = [];
  throws(
    () =>
      conn.dumpDecoded(RTM.GETLINK, new Uint8Array(16), (data, _view, offset) => {
        calls.push(data[offset + 16]);
        throw new DecodeError(`bad ${data[offset + 16]}`, 0);
      }),
    (e) => e instanceof DecodeError && e.message.startsWith("bad 1"),
  );
  deepEqual(calls, [1]); // No decode after the first error...
  equal(kernel.queued, 0); // ...but the dump was read to its DONE.
  // Other errors are not the message's fault: they are thrown at once.
  throws(() =>
    new Conn(dumpKernel([[[1]]])).dumpDecoded(RTM.GETLINK, new Uint8Array(16), () => {
      throw new TypeError("bug");
    }), TypeError);
});

Deno.test("dumpDecoded refuses a datagram with bad framing, also after its DONE", () => {
  const torn = (req: Message, k: FakeKernel, last: Uint8Array) => [{
    data: concatMessages([k.reply(req, RTM.NEWLINK, bytes(1), NLM_F.MULTI), last]),
    pid: 0,
    groups: 0,
  }];
  const cases = [
    new FakeKernel((req, k) => torn(req, k, k.done(req).subarray(0, 12))),
    new FakeKernel((req, k) => torn(req, k, concatMessages([k.done(req), bytes(8, 0, 0, 0)]))),
    new FakeKernel((req, k) => torn(req, k, concatMessages([k.ack(req, 1), bytes(1)]))),
  ];
  for (const kernel of cases) {
    throws(
      () => new Conn(kernel).dumpDecoded(RTM.GETLINK, new Uint8Array(16), () => 1),
      (e) => e instanceof DecodeError,
    );
  }
});

Deno.test("execute turns a NACK with an extended ack into a NetlinkError naming the op", () => {
  const kernel = new FakeKernel((req, k) => [
    FakeKernel.datagram([k.ack(req, ERRNO.EEXIST, { msg: "File exists", offset: 20 })]),
  ]);
  const [error] = new Conn(kernel).execute([
    {
      type: RTM.NEWROUTE,
      flags: NLM_F.CREATE | NLM_F.EXCL,
      payload: new Uint8Array(12),
      op: "add route 10.0.0.0/24",
    },
  ]);
  ok(error instanceof NetlinkError);
  equal(error.errno, ERRNO.EEXIST);
  equal(error.code, "EEXIST");
  equal(error.extAck, "File exists");
  equal(error.extAckOffset, 20);
  equal(error.message, "add route 10.0.0.0/24: EEXIST: File exists (at byte 20 of the request)");
  equal(error.op, "add route 10.0.0.0/24");
  equal(kernel.requests[0].header.flags, NLM_F.REQUEST | NLM_F.ACK | NLM_F.CREATE | NLM_F.EXCL);
});

Deno.test("execute decodes ACKs that echo the whole request (no NETLINK_CAP_ACK)", () => {
  const kernel = new FakeKernel((req, k) => [
    FakeKernel.datagram([
      k.ack(req, req.payload[0] === 1 ? ERRNO.ENODEV : 0, { full: true, msg: "no dev" }),
    ]),
  ]);
  const results = new Conn(kernel).execute([
    { type: RTM.NEWROUTE, payload: bytes(0, 0, 0, 0, 0, 0, 0) },
    { type: RTM.NEWROUTE, payload: bytes(1, 0, 0, 0, 0) },
  ]);
  equal(results[0], null);
  ok(results[1] instanceof NetlinkError);
  equal(results[1].extAck, "no dev");
  equal(results[1].op, "RTM_NEWROUTE");
});

Deno.test("execute batches requests and matches every ACK, with a failure in the middle", () => {
  const kernel = new FakeKernel((req, k) => [
    FakeKernel.datagram([k.ack(req, req.payload[0] === 2 ? ERRNO.EEXIST : 0)]),
  ]);
  const conn = new Conn(kernel, { maxBatchMessages: 2 });
  const requests = [0, 1, 2, 3, 4].map((i) => ({
    type: RTM.NEWROUTE,
    payload: bytes(i),
    op: `add ${i}`,
  }));
  const results = conn.execute(requests);
  deepEqual(results.map((r) => r?.code ?? null), [null, null, "EEXIST", null, null]);
  equal(results[2]?.op, "add 2");
  equal(kernel.datagramsSent, 3);
  equal(kernel.requests.length, 5);
  equal(new Set(kernel.requests.map((r) => r.header.seq)).size, 5);
});

Deno.test("execute: error replies and the final ACK of one datagram settle every request", () => {
  const held: Uint8Array[] = [];
  const flags: number[] = [];
  const kernel = new FakeKernel((req, k) => {
    flags.push(req.header.flags);
    // As the kernel does: a reply for a failure, or when NLM_F_ACK asks for one.
    const errno = req.payload[0] === 0 ? ERRNO.ENETDOWN : 0;
    if (errno !== 0 || (req.header.flags & NLM_F.ACK) !== 0) held.push(k.ack(req, errno));
    return req.payload[0] === 2 ? [FakeKernel.datagram(held)] : [];
  });
  const results = new Conn(kernel).execute(
    [0, 1, 2].map((i) => ({ type: RTM.DELROUTE, payload: bytes(i) })),
  );
  deepEqual(results.map((r) => r?.code ?? null), ["ENETDOWN", null, null]);
  equal(kernel.datagramsSent, 1);
  deepEqual(flags.map((f) => (f & NLM_F.ACK) !== 0), [false, false, true], "one ACK asked");
  equal(held.length, 2, "two replies for three requests");
});

Deno.test("execute splits batches by size", () => {
  const kernel = new FakeKernel((req, k) => [FakeKernel.datagram([k.ack(req)])]);
  const conn = new Conn(kernel, { maxBatchBytes: 100 });
  // Each message: 16 header + 32 payload = 48 bytes; two fit in 100.
  const results = conn.execute(
    Array.from({ length: 5 }, () => ({ type: RTM.NEWROUTE, payload: new Uint8Array(32) })),
  );
  deepEqual(results, [null, null, null, null, null]);
  equal(kernel.datagramsSent, 3);
});

Deno.test("execute checks every ACK: a missing one is a timeout, not a success", () => {
  // The ACK of the datagram's last request never comes: nothing may count as done.
  const kernel = new FakeKernel((
    req,
    k,
  ) => (req.payload[0] === 2 ? [] : [FakeKernel.datagram([k.ack(req)])]));
  throws(
    () =>
      new Conn(kernel, { timeoutMs: 20 }).execute(
        [0, 1, 2].map((i) => ({ type: RTM.NEWROUTE, payload: bytes(i) })),
      ),
    isNetlinkError(ERRNO.ETIMEDOUT),
  );
});

Deno.test("execute ignores an ACK of a seq it did not send and messages of foreign ports", () => {
  const kernel = new FakeKernel((req, k) => {
    const other = { ...req, header: { ...req.header, seq: req.header.seq + 1000 } };
    return [
      FakeKernel.datagram([k.ack(req, ERRNO.EPERM)], { pid: 77 }),
      FakeKernel.datagram([k.ack(other, ERRNO.EPERM)]),
      FakeKernel.datagram([k.ack(req)]),
    ];
  });
  const conn = new Conn(kernel);
  deepEqual(conn.execute([{ type: RTM.NEWROUTE, payload: bytes(0) }]), [null]);
  equal(conn.droppedForeign, 1);
});

Deno.test("execute reports ACKs lost to ENOBUFS as ENOBUFS and shrinks later batches", () => {
  let sent = 0;
  const kernel = new FakeKernel((req, k) => {
    sent++;
    // The first batch overflows after two ACKs: the kernel reports ENOBUFS and drops the rest.
    if (sent <= 2) return [FakeKernel.datagram([k.ack(req)])];
    if (sent === 3) return [{ errno: ERRNO.ENOBUFS }];
    if (sent === 4) return [];
    return [FakeKernel.datagram([k.ack(req)])];
  });
  const conn = new Conn(kernel, { maxBatchMessages: 4 });
  const results = conn.execute(
    [0, 1, 2, 3, 4, 5].map((i) => ({ type: RTM.NEWROUTE, payload: bytes(i) })),
  );
  deepEqual(results.map((r) => r?.code ?? null), [null, null, "ENOBUFS", "ENOBUFS", null, null]);
  equal(conn.maxBatchMessages, 2);
  equal(kernel.datagramsSent, 2);
});

/** An `RTM_NEWROUTE` event from `kernel` whose payload is the byte `b`. */
function routeEvent(kernel: FakeKernel, b: number): Uint8Array {
  return kernel.reply(
    { header: { type: 0, flags: 0, seq: 0, pid: 0 }, payload: bytes() },
    RTM.NEWROUTE,
    bytes(b),
  );
}

Deno.test("drainEvents returns queued events, flags ENOBUFS as overrun and keeps reading", () => {
  const kernel = new FakeKernel(() => []);
  const event = (b: number) => routeEvent(kernel, b);
  kernel.inject(
    FakeKernel.datagram([event(1), event(2)], { groups: ROUTE_GROUP_MASK }),
    { errno: ERRNO.ENOBUFS },
    FakeKernel.datagram([event(66)], { pid: 31337, groups: ROUTE_GROUP_MASK }),
    FakeKernel.datagram([event(3)], { groups: ROUTE_GROUP_MASK }),
  );
  const conn = new Conn(kernel);
  const batch = conn.drainEvents();
  deepEqual(payloads(batch.messages), [[1], [2], [3]]);
  equal(batch.overrun, true);
  equal(conn.droppedForeign, 1);
  deepEqual(conn.drainEvents(), { messages: [], overrun: false });
});

Deno.test("drainEvents reads datagrams that lie in one buffer; bad framing is at its own offset", () => {
  const kernel = new FakeKernel(() => []);
  const event = (b: number) => routeEvent(kernel, b);
  // As a socket's receive arena holds them: one after the other, at offsets other than 0.
  const arena = new Uint8Array(256);
  const put = (data: Uint8Array, at: number) => {
    arena.set(data, at);
    return { data: arena.subarray(at, at + data.length), pid: 0, groups: ROUTE_GROUP_MASK };
  };
  const two = concatMessages([event(1), event(2)]);
  kernel.inject(put(two, 8), put(event(3), 8 + two.length));
  const conn = new Conn(kernel);
  deepEqual(payloads(conn.drainEvents().messages), [[1], [2], [3]]);
  // A datagram whose second message is cut: the offset is that message's, in its datagram.
  kernel.inject(put(concatMessages([event(4), event(5).subarray(0, 10)]), 100));
  throws(
    () => conn.drainEvents(),
    (e) => e instanceof DecodeError && e.offset === event(4).length && /truncated/.test(e.message),
  );
});

Deno.test("drainEvents rethrows socket errors other than ENOBUFS", () => {
  const kernel = new FakeKernel(() => []);
  kernel.inject({ errno: ERRNO.EBADF });
  throws(() => new Conn(kernel).drainEvents(), isNetlinkError(ERRNO.EBADF));
});

Deno.test("wait resolves readable for kept events, woken on wake, timeout otherwise", async () => {
  const kernel = new FakeKernel((req, k) => [
    FakeKernel.datagram([k.reply(req, RTM.NEWLINK, bytes(5))], { groups: 1 }),
    FakeKernel.datagram([k.done(req)]),
  ]);
  const conn = new Conn(kernel);
  equal(await conn.wait(10), "timeout");
  conn.dump(RTM.GETLINK, new Uint8Array(16));
  equal(await conn.wait(10), "readable");
  equal(conn.drainEvents().messages.length, 1);
  const pending = conn.wait();
  kernel.wake();
  equal(await pending, "woken");
});

Deno.test("executeBatch matches replies across the wrap of sequence numbers (0 is skipped)", () => {
  const seqs: number[] = [];
  const kernel = new FakeKernel((req, k) => {
    seqs.push(req.header.seq);
    const errno = req.payload[0] % 2 === 1 ? ERRNO.EEXIST : 0;
    if (errno !== 0 || (req.header.flags & NLM_F.ACK) !== 0) {
      return [FakeKernel.datagram([k.ack(req, errno)])];
    }
    return [];
  });
  const conn = new Conn(kernel, { firstSeq: 0xfffffffe });
  const batch = new RequestBatch();
  for (let i = 0; i < 5; i++) batch.addPayload(RTM.NEWROUTE, NLM_F.CREATE, bytes(i));
  const results = conn.executeBatch(batch, (i) => `add ${i}`);
  deepEqual(seqs, [0xfffffffe, 0xffffffff, 1, 2, 3]);
  deepEqual(results.map((r) => r?.op ?? null), [null, "add 1", null, "add 3", null]);
  equal(kernel.datagramsSent, 1);
  deepEqual(kernel.requests.map((r) => r.header.flags), [
    ...Array(4).fill(NLM_F.REQUEST | NLM_F.CREATE),
    NLM_F.REQUEST | NLM_F.CREATE | NLM_F.ACK,
  ]);
});

Deno.test("executeBatch names a failure by its message type without opOf", () => {
  const kernel = new FakeKernel((req, k) => [FakeKernel.datagram([k.ack(req, ERRNO.ESRCH)])]);
  const batch = new RequestBatch();
  batch.addPayload(RTM.DELROUTE, 0, bytes(1, 2, 3));
  const [error] = new Conn(kernel).executeBatch(batch);
  equal(error?.op, "RTM_DELROUTE");
  deepEqual([...kernel.requests[0].payload], [1, 2, 3]);
});

Deno.test("executeBatch never sends a datagram across two segments of the batch", () => {
  const kernel = new FakeKernel((req, k) =>
    (req.header.flags & NLM_F.ACK) !== 0 ? [FakeKernel.datagram([k.ack(req)])] : []
  );
  const batch = new RequestBatch(64); // Room for two requests of 32 bytes, then a new segment.
  for (let i = 0; i < 5; i++) batch.addPayload(RTM.NEWROUTE, 0, new Uint8Array(16).fill(i));
  const results = new Conn(kernel).executeBatch(batch);
  deepEqual(results, [null, null, null, null, null]);
  equal(kernel.datagramsSent, 2);
  deepEqual(kernel.requests.map((r) => r.payload[0]), [0, 1, 2, 3, 4]);
});
