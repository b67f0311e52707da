/**
 * A mutation fuzzer for the rtnetlink decoders, shared by tests/netlink/fuzz.test.ts (bounded) and
 * scripts/fuzz.ts (long runs). It mutates the captured kernel messages and checks that decoding
 * either succeeds or throws DecodeError, and that whatever decodes re-encodes to bytes that
 * decode to the same value.
 *
 * @module
 */

import { deepStrictEqual } from "node:assert/strict";
import acks from "./acks.json" with { type: "json" };
import { ALL_GOLDEN, fromHex, toHex } from "./golden.ts";
import { decodeAck, decodeDone } from "../../../src/netlink/ack.ts";
import { decodeAddress, encodeAddress } from "../../../src/netlink/address.ts";
import { AF, NLMSG, RTM } from "../../../src/netlink/constants.ts";
import { DecodeError } from "../../../src/netlink/errors.ts";
import { decodeLink, encodeLink } from "../../../src/netlink/link.ts";
import { decodeMessages, type Message } from "../../../src/netlink/message.ts";
import { decodeNexthop, encodeNexthop } from "../../../src/netlink/nexthop.ts";
import { decodeRtnlMessage, type RtnlMessage } from "../../../src/netlink/rtnl_message.ts";
import {
  decodePlainRouteAt,
  decodeRoute,
  decodeRouteAt,
  encodeRoute,
  type Route,
} from "../../../src/netlink/route.ts";
import { decodeRule, encodeRule } from "../../../src/netlink/rule.ts";
import { Random } from "../../_fixtures/random.ts";

/** The seed corpus: every captured message, ACKs included. */
export const CORPUS: readonly Uint8Array[] = [
  ...ALL_GOLDEN.map((g) => fromHex(g.hex)),
  ...acks.acks.map((a) => fromHex(a.reply)),
];

/** One mutant: a corpus entry (or two, concatenated) with 1 to 4 random mutations. */
export function mutate(rand: Random): Uint8Array {
  const random = () => rand.next();
  const pick = (n: number) => rand.int(n);
  let buf = CORPUS[pick(CORPUS.length)].slice();
  if (random() < 0.1) {
    const second = CORPUS[pick(CORPUS.length)];
    const both = new Uint8Array(buf.length + second.length);
    both.set(buf);
    both.set(second, buf.length);
    buf = both;
  }
  const rounds = 1 + pick(4);
  for (let r = 0; r < rounds && buf.length > 0; r++) {
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    const choice = pick(6);
    if (choice === 0) {
      // Flip one bit.
      const i = pick(buf.length);
      buf[i] ^= 1 << pick(8);
    } else if (choice === 1) {
      // Overwrite one byte.
      buf[pick(buf.length)] = pick(256);
    } else if (choice === 2) {
      // Truncate (keeping the outer length, so inner structures overrun).
      buf = buf.slice(0, pick(buf.length + 1));
    } else if (choice === 3 && buf.length >= 4) {
      // Corrupt a 16-bit length at a 4-byte boundary: an attribute's or an rtnexthop's.
      const at = 4 * pick(Math.floor(buf.length / 4));
      const values = [0, 1, 3, 4, 7, 8, 0xffff, pick(0x10000), view.getUint16(at, true) + 4];
      view.setUint16(at, values[pick(values.length)] & 0xffff, true);
    } else if (choice === 4 && buf.length >= 4) {
      // Corrupt nlmsg_len to near the real length.
      const len = Math.max(0, buf.length + pick(9) - 4);
      view.setUint32(0, len, true);
    } else {
      // Shorten a message body by removing a slice, then fix nlmsg_len so framing still holds.
      const from = 16 + pick(Math.max(1, buf.length - 16));
      const to = Math.min(buf.length, from + 1 + pick(8));
      const cut = new Uint8Array(buf.length - (to - from));
      cut.set(buf.subarray(0, from));
      cut.set(buf.subarray(to), from);
      buf = cut;
      if (buf.length >= 4) new DataView(buf.buffer).setUint32(0, buf.length, true);
    }
  }
  return buf;
}

function reencode(event: RtnlMessage): unknown {
  switch (event.kind) {
    case "route":
      return decodeRoute(encodeRoute(event.route));
    case "link":
      return decodeLink(encodeLink(event.link));
    case "address":
      return decodeAddress(encodeAddress(event.address));
    case "rule":
      return decodeRule(encodeRule(event.rule));
    case "nexthop":
      return decodeNexthop(encodeNexthop(event.nexthop));
    default:
      return undefined;
  }
}

function value(event: RtnlMessage): unknown {
  switch (event.kind) {
    case "route":
      return event.route;
    case "link":
      return event.link;
    case "address":
      return event.address;
    case "rule":
      return event.rule;
    case "nexthop":
      return event.nexthop;
    default:
      return undefined;
  }
}

/** An attribute type no decoder models: appended to a route, it ends up in `other`. */
const UNMODELLED = 999;

/**
 * Checks {@linkcode decodePlainRouteAt}'s fast path against the general decoder: when it takes
 * `payload`, its route is the one the general decoder makes (fields, values and their order) of
 * the same message with an unmodelled attribute appended (which the fast path refuses), less
 * that attribute. Returns whether the fast path took it.
 */
export function checkPlainRoute(payload: Uint8Array): boolean {
  const plain = decodePlainRouteAt(
    payload,
    new DataView(payload.buffer, payload.byteOffset, payload.byteLength),
    0,
    payload.length,
  );
  if (plain === undefined) return false;
  const body = payload.subarray(0, payload.length & ~3); // Fewer than 4 bytes left: padding.
  const longer = new Uint8Array(body.length + 8);
  longer.set(body);
  new DataView(longer.buffer).setUint32(body.length, 8 | (UNMODELLED << 16), true);
  const { other, ...general } = decodeRoute(longer);
  deepStrictEqual(other?.map((a) => a.type), [UNMODELLED], "the appended attribute is other");
  deepStrictEqual(plain, general, "the fast path decodes a plain route as the general one");
  deepStrictEqual(Object.keys(plain), Object.keys(general), "with its fields in the same order");
  return true;
}

/**
 * {@linkcode decodeRtnlMessage}, checking that a route decoded in place from the datagram (as
 * dumps decode them) is the same route, or the same DecodeError at the same offset.
 */
function decodeRtnlMessageInPlace(datagram: Uint8Array, message: Message): RtnlMessage {
  const { type } = message.header;
  const { payload } = message;
  const isRoute = (type === RTM.NEWROUTE || type === RTM.DELROUTE) &&
    (payload[0] === AF.INET || payload[0] === AF.INET6);
  if (!isRoute) return decodeRtnlMessage(message);
  checkPlainRoute(payload);
  const view = new DataView(datagram.buffer, datagram.byteOffset, datagram.byteLength);
  const start = payload.byteOffset - datagram.byteOffset;
  let inPlace: Route | DecodeError;
  try {
    inPlace = decodeRouteAt(datagram, view, start, start + payload.length);
  } catch (error) {
    if (!(error instanceof DecodeError)) {
      throw new Error(`decodeRouteAt threw ${error} for a route message`);
    }
    inPlace = error;
  }
  let event: RtnlMessage;
  try {
    event = decodeRtnlMessage(message);
  } catch (error) {
    if (error instanceof DecodeError) {
      deepStrictEqual(
        inPlace instanceof DecodeError ? [inPlace.message, inPlace.offset] : inPlace,
        [error.message, error.offset],
        "a route refused differently in place",
      );
    }
    throw error;
  }
  deepStrictEqual(
    event.kind === "route" ? event.route : event,
    inPlace,
    "a route decoded differently in place",
  );
  return event;
}

/**
 * Decodes every message of a datagram. Returns normally, throws DecodeError, or throws an Error
 * that says which property broke (anything else escaping a decoder, or a lossy round trip).
 */
export function decodeDatagram(datagram: Uint8Array): void {
  for (const message of decodeMessages(datagram)) {
    if (message.header.type === NLMSG.ERROR) {
      decodeAck(message.payload, message.header.flags);
      continue;
    }
    if (message.header.type === NLMSG.DONE) {
      decodeDone(message.payload, message.header.flags);
      continue;
    }
    const event = decodeRtnlMessageInPlace(datagram, message);
    let again: unknown;
    try {
      again = reencode(event);
    } catch (error) {
      throw new Error(`re-encoding a decoded ${event.kind} failed: ${error}`);
    }
    deepStrictEqual(again, value(event), `${event.kind} changed in a decode-encode-decode trip`);
  }
}

/** What a fuzzing run did. */
export interface FuzzReport {
  /** Inputs tried. */
  inputs: number;
  /** Inputs rejected with DecodeError. */
  decodeErrors: number;
  /** Milliseconds taken. */
  ms: number;
}

/** Options of {@linkcode fuzz}. */
export interface FuzzOptions {
  /** How many mutants to try. */
  inputs: number;
  /** PRNG seed; the same seed tries the same inputs. */
  seed: number;
}

/**
 * Tries `inputs` mutants. Throws an Error naming the seed, the input index and its hex when a
 * decoder throws anything but DecodeError or a round trip is lossy.
 */
export function fuzz(options: FuzzOptions): FuzzReport {
  const random = new Random(options.seed);
  const start = performance.now();
  let decodeErrors = 0;
  for (let i = 0; i < options.inputs; i++) {
    const input = mutate(random);
    try {
      decodeDatagram(input);
    } catch (error) {
      if (error instanceof DecodeError) {
        decodeErrors++;
        continue;
      }
      throw new Error(
        `input ${i} of seed ${options.seed} (${toHex(input)}): ${(error as Error).stack}`,
      );
    }
  }
  return { inputs: options.inputs, decodeErrors, ms: performance.now() - start };
}
