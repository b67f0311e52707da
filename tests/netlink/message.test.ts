import { deepEqual, equal, throws } from "node:assert/strict";
import { DecodeError } from "../../src/netlink/errors.ts";
import {
  align,
  concatMessages,
  decodeMessages,
  encodeMessage,
  messageAt,
  messageLengthAt,
} from "../../src/netlink/message.ts";

const HEADER = { type: 24, flags: 2, seq: 7, pid: 0 };

function decodeError(offset: number, pattern: RegExp) {
  return (e: unknown) => {
    if (!(e instanceof DecodeError)) throw e;
    equal(e.offset, offset);
    deepEqual(pattern.test(e.message), true, e.message);
    return true;
  };
}

/** The messages of `datagram` walked in place with messageLengthAt and messageAt. */
function walk(datagram: Uint8Array) {
  const view = new DataView(datagram.buffer, datagram.byteOffset, datagram.byteLength);
  const out = [];
  for (let off = 0; off < datagram.length;) {
    const len = messageLengthAt(view, off, datagram.length);
    out.push(messageAt(datagram, view, off, len));
    off += (len + 3) & ~3;
  }
  return out;
}

Deno.test("a datagram splits into its messages, padding skipped, the same walked in place", () => {
  const datagram = concatMessages([
    encodeMessage(HEADER, Uint8Array.of(1, 2, 3)),
    encodeMessage({ ...HEADER, type: 3, seq: 8 }, Uint8Array.of(4)),
  ]);
  const messages = decodeMessages(datagram);
  deepEqual(messages.map((m) => [m.header.type, m.header.seq, [...m.payload]]), [
    [24, 7, [1, 2, 3]],
    [3, 8, [4]],
  ]);
  deepEqual(walk(datagram), messages);
});

Deno.test("bad framing is a DecodeError at the message's offset, in place as in decodeMessages", () => {
  const first = encodeMessage(HEADER, Uint8Array.of(1, 2, 3, 4));
  const cases: [Uint8Array, number, RegExp][] = [
    [first.subarray(0, 10), 0, /truncated netlink header: 10 bytes/],
    [concatMessages([first, first.subarray(0, 15)]), 20, /truncated netlink header: 15 bytes/],
    [Uint8Array.of(8, 0, 0, 0, ...new Uint8Array(12)), 0, /length 8 too short/],
    [concatMessages([first, first.subarray(0, 16)]), 20, /length 20 runs past the 16 bytes/],
  ];
  for (const [datagram, offset, pattern] of cases) {
    throws(() => decodeMessages(datagram), decodeError(offset, pattern));
    throws(() => walk(datagram), decodeError(offset, pattern));
    // The same datagram 12 bytes into a larger buffer, walked with that base.
    const within = new Uint8Array(12 + datagram.length);
    within.set(datagram, 12);
    const view = new DataView(within.buffer);
    throws(() => {
      for (let off = 12; off < within.length;) {
        off += align(messageLengthAt(view, off, within.length, 12));
      }
    }, decodeError(offset, pattern));
  }
});
