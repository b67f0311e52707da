import { deepEqual, equal, ok, throws } from "node:assert/strict";
import { NLM_F, RTM } from "../../src/netlink/constants.ts";
import { decodeMessages } from "../../src/netlink/message.ts";
import { RequestBatch, SEGMENT_BYTES } from "../../src/netlink/request_batch.ts";

/** The bytes of request `i`. */
function bytesOf(batch: RequestBatch, i: number): Uint8Array {
  return batch.segment(i).buffer.slice(batch.startOf(i), batch.endOf(i));
}

Deno.test("requests are laid out as a datagram: header, payload, padding", () => {
  const batch = new RequestBatch(64);
  batch.addPayload(RTM.NEWROUTE, NLM_F.CREATE, Uint8Array.of(1, 2, 3, 4, 5));
  batch.addPayload(RTM.DELROUTE, 0, Uint8Array.of(9));
  equal(batch.length, 2);
  deepEqual([batch.startOf(0), batch.endOf(0), batch.startOf(1), batch.endOf(1)], [0, 24, 24, 44]);
  ok(batch.sameSegment(0, 1));
  const messages = decodeMessages(batch.segment(0).buffer.slice(0, 44));
  deepEqual(messages.map((m) => m.header), [
    { type: RTM.NEWROUTE, flags: NLM_F.REQUEST | NLM_F.CREATE, seq: 0, pid: 0 },
    { type: RTM.DELROUTE, flags: NLM_F.REQUEST, seq: 0, pid: 0 },
  ]);
  deepEqual(messages.map((m) => [...m.payload]), [[1, 2, 3, 4, 5], [9]]);
  const view = batch.segment(0).view;
  deepEqual([view.getUint32(0, true), view.getUint32(24, true)], [21, 17]);
  deepEqual([...bytesOf(batch, 0).subarray(21), ...bytesOf(batch, 1).subarray(17)], [
    0,
    0,
    0,
    0,
    0,
    0,
  ]);
});

Deno.test("full segments follow the first; a request larger than a segment gets a bigger one", () => {
  const batch = new RequestBatch(100);
  const payloads = Array.from({ length: 3000 }, (_, i) => new Uint8Array(i % 50).fill(i));
  for (const p of payloads) batch.addPayload(RTM.NEWROUTE, 0, p);
  const big = new Uint8Array(SEGMENT_BYTES * 3).fill(7);
  batch.addPayload(RTM.NEWROUTE, 0, big);
  batch.addPayload(RTM.NEWROUTE, 0, Uint8Array.of(1));
  const all = [...payloads, big, Uint8Array.of(1)];
  equal(batch.length, all.length);
  let segments = 1;
  for (let i = 0; i < batch.length; i++) {
    const [m] = decodeMessages(bytesOf(batch, i));
    deepEqual(m.payload, all[i], `request ${i}`);
    if (i < payloads.length) ok(batch.segment(i).buffer.length <= SEGMENT_BYTES, `request ${i}`);
    if (i === 0) continue;
    if (batch.sameSegment(i - 1, i)) equal(batch.startOf(i), batch.endOf(i - 1), `request ${i}`);
    else (segments++, equal(batch.startOf(i), 0));
  }
  equal(batch.segment(0).buffer.length, 100);
  ok(segments > 3, `${segments} segments`);
  ok(!batch.sameSegment(payloads.length - 1, payloads.length));
  equal(batch.segment(payloads.length).buffer.length, 4 * SEGMENT_BYTES); // doubled until it fits
});

Deno.test("a writer that claims more than its room is an error, not a corrupt batch", () => {
  const batch = new RequestBatch(64);
  throws(() => batch.add(RTM.NEWROUTE, 0, (_: null, out) => out.length + 1, null), RangeError);
  equal(batch.length, 0);
});
