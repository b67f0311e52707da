import { deepEqual, equal, throws } from "node:assert/strict";
import { NLM_F, RTM } from "../../src/netlink/constants.ts";
import { decodeMessages } from "../../src/netlink/message.ts";
import { RequestBatch } from "../../src/netlink/request_batch.ts";

Deno.test("requests are laid out as a datagram: header, payload, padding", () => {
  const batch = new RequestBatch(64);
  batch.addPayload(RTM.NEWROUTE, NLM_F.CREATE, Uint8Array.of(1, 2, 3, 4, 5));
  batch.addPayload(RTM.DELROUTE, 0, Uint8Array.of(9));
  equal(batch.length, 2);
  deepEqual([batch.offsetOf(0), batch.offsetOf(1), batch.offsetOf(2)], [0, 24, 44]);
  const messages = decodeMessages(batch.buffer.slice(0, batch.offsetOf(2)));
  deepEqual(messages.map((m) => m.header), [
    { type: RTM.NEWROUTE, flags: NLM_F.REQUEST | NLM_F.CREATE, seq: 0, pid: 0 },
    { type: RTM.DELROUTE, flags: NLM_F.REQUEST, seq: 0, pid: 0 },
  ]);
  deepEqual(messages.map((m) => [...m.payload]), [[1, 2, 3, 4, 5], [9]]);
  deepEqual([batch.view.getUint32(0, true), batch.view.getUint32(24, true)], [21, 17]);
  deepEqual([...batch.buffer.subarray(21, 24), ...batch.buffer.subarray(41, 44)], [
    0,
    0,
    0,
    0,
    0,
    0,
  ]);
});

Deno.test("the buffer grows until a writer has room, keeping what was added", () => {
  const batch = new RequestBatch(64);
  const payloads = Array.from({ length: 50 }, (_, i) => new Uint8Array(i).fill(i));
  for (const p of payloads) batch.addPayload(RTM.NEWROUTE, 0, p);
  const messages = decodeMessages(batch.buffer.slice(0, batch.offsetOf(batch.length)));
  deepEqual(messages.map((m) => [...m.payload]), payloads.map((p) => [...p]));
  const calls: number[] = [];
  batch.add(RTM.NEWROUTE, 0, (size: number, out, off) => {
    calls.push(out.length);
    if (out.length - off < size) return -1;
    return size;
  }, 5000);
  equal(calls.length > 1, true);
  equal(batch.offsetOf(batch.length) - batch.offsetOf(batch.length - 1), 5016);
});

Deno.test("a writer that claims more than its room is an error, not a corrupt batch", () => {
  const batch = new RequestBatch(64);
  throws(() => batch.add(RTM.NEWROUTE, 0, (_: null, out) => out.length + 1, null), RangeError);
  equal(batch.length, 0);
});
