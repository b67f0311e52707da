import assert from "node:assert/strict";
import acks from "./testdata/acks.json" with { type: "json" };
import { fromHex } from "./testdata/golden.ts";
import { decodeAck, decodeDone } from "../../src/netlink/ack.ts";
import { AttributeEncoder } from "../../src/netlink/attributes.ts";
import { ERRNO } from "../../src/netlink/errors.ts";
import { NLM_F, NLMSG, NLMSGERR_ATTR, RTA, RTM } from "../../src/netlink/constants.ts";
import { decodeMessages } from "../../src/netlink/message.ts";

function captured(name: string) {
  const entry = acks.acks.find((a) => a.name === name);
  assert.ok(entry, name);
  const [reply] = decodeMessages(fromHex(entry.reply));
  const [request] = decodeMessages(fromHex(entry.request));
  assert.equal(reply.header.type, NLMSG.ERROR);
  return { entry, reply, request, ack: decodeAck(reply.payload, reply.header.flags) };
}

Deno.test("every captured reply decodes to the recorded errno and echoed header", () => {
  assert.equal(acks.acks.length, 6);
  for (const { name } of acks.acks) {
    const { entry, request, ack } = captured(name);
    assert.equal(ack.errno, entry.errno, name);
    assert.deepEqual(ack.request, request.header, name);
    assert.equal(ack.request.type, RTM.NEWROUTE);
  }
});

Deno.test("a success ACK is capped and has no extended ack", () => {
  const { reply, ack } = captured("success ack, not capped");
  assert.equal(reply.header.flags & NLM_F.CAPPED, NLM_F.CAPPED);
  assert.deepEqual(ack.extAck, undefined);
  assert.equal(ack.errno, 0);
});

Deno.test("EEXIST, with the whole request echoed and capped", () => {
  const whole = captured("EEXIST, whole request echoed");
  const capped = captured("EEXIST, capped");
  assert.equal(whole.reply.header.flags & NLM_F.CAPPED, 0);
  assert.equal(capped.reply.header.flags & NLM_F.CAPPED, NLM_F.CAPPED);
  for (const { ack } of [whole, capped]) {
    assert.equal(ack.errno, ERRNO.EEXIST);
    assert.equal(ack.extAck, undefined);
  }
});

Deno.test("a policy violation names the offending attribute by offset", () => {
  for (
    const name of [
      "policy violation with offset, whole request echoed",
      "policy violation with offset, capped",
    ]
  ) {
    const { reply, request, ack } = captured(name);
    assert.equal(reply.header.flags & NLM_F.ACK_TLVS, NLM_F.ACK_TLVS, name);
    assert.equal(ack.errno, ERRNO.ERANGE, name);
    assert.equal(ack.extAck?.msg, "Attribute failed policy validation", name);
    // The offset counts from the request's nlmsghdr and lands on the short RTA_OIF.
    const at = ack.extAck!.offset! - 16;
    const bytes = request.payload;
    assert.equal(bytes[at] | (bytes[at + 1] << 8), 6, name); // nla_len
    assert.equal(bytes[at + 2] | (bytes[at + 3] << 8), RTA.OIF, name);
  }
});

Deno.test("an extended ack with a message only", () => {
  const { ack } = captured("invalid prefsrc, message only, whole request echoed");
  assert.equal(ack.errno, ERRNO.EINVAL);
  assert.deepEqual(ack.extAck, { msg: "Invalid prefsrc address" });
});

function errorPayload(
  errno: number,
  request: Uint8Array,
  tlvs: Uint8Array = new Uint8Array(0),
): Uint8Array {
  const out = new Uint8Array(4 + request.length + tlvs.length);
  new DataView(out.buffer).setInt32(0, -errno, true);
  out.set(request, 4);
  out.set(tlvs, 4 + request.length);
  return out;
}

function requestBytes(len: number, bodyLen = len - 16): Uint8Array {
  const out = new Uint8Array(16 + bodyLen);
  const view = new DataView(out.buffer);
  view.setUint32(0, len, true);
  view.setUint16(4, RTM.NEWROUTE, true);
  view.setUint32(8, 42, true);
  return out;
}

Deno.test("an echoed request with an unaligned length is skipped to the TLVs", () => {
  const tlvs = new AttributeEncoder().string(NLMSGERR_ATTR.MSG, "Nope").u32(NLMSGERR_ATTR.OFFS, 20)
    .finish();
  const request = requestBytes(22, 8); // nlmsg_len 22, padded to 24
  const ack = decodeAck(errorPayload(ERRNO.EINVAL, request, tlvs), NLM_F.ACK_TLVS);
  assert.deepEqual(ack, {
    errno: ERRNO.EINVAL,
    request: { type: RTM.NEWROUTE, flags: 0, seq: 42, pid: 0 },
    extAck: { msg: "Nope", offset: 20 },
  });
  // Without NLM_F_ACK_TLVS, trailing bytes are not read as TLVs.
  assert.equal(decodeAck(errorPayload(1, request, tlvs), 0).extAck, undefined);
});

Deno.test("a bare success ACK of kernels before 4.12 (no NLM_F_CAPPED) is accepted", () => {
  const ack = decodeAck(errorPayload(0, requestBytes(60, 0)), 0);
  assert.equal(ack.errno, 0);
  assert.equal(ack.request.seq, 42);
});

Deno.test("malformed error messages are a DecodeError", () => {
  const cases: [Uint8Array, number, RegExp][] = [
    [new Uint8Array(19), NLM_F.CAPPED, /struct nlmsgerr needs 20/],
    [errorPayload(-5, requestBytes(16)), NLM_F.CAPPED, /error code 5 is positive/],
    [errorPayload(ERRNO.EEXIST, requestBytes(60, 0)), 0, /length 60 runs past the 16 bytes/],
    [errorPayload(ERRNO.EEXIST, requestBytes(8, 0)), 0, /length 8 is shorter than its header/],
    [
      errorPayload(ERRNO.EINVAL, requestBytes(16), Uint8Array.of(8, 0, 1, 0, 65)),
      NLM_F.CAPPED | NLM_F.ACK_TLVS,
      /runs past/,
    ],
    [
      errorPayload(ERRNO.EINVAL, requestBytes(16), Uint8Array.of(6, 0, 2, 0, 1, 0, 0, 0)),
      NLM_F.CAPPED | NLM_F.ACK_TLVS,
      /attribute 2 has 2 bytes, expected 4/,
    ],
  ];
  for (const [payload, flags, pattern] of cases) {
    assert.throws(() => decodeAck(payload, flags), (error: unknown) => {
      assert.ok(error instanceof Error && error.name === "DecodeError", `${error}`);
      assert.match(error.message, pattern);
      return true;
    });
  }
});

Deno.test("decodeDone reads the dump's result and its extended ack", () => {
  assert.deepEqual(decodeDone(new Uint8Array(4), NLM_F.MULTI), { errno: 0 });
  assert.deepEqual(decodeDone(new Uint8Array(0), NLM_F.MULTI), { errno: 0 });
  const payload = new Uint8Array(4 + 16);
  new DataView(payload.buffer).setInt32(0, -ERRNO.EINVAL, true);
  payload.set(new AttributeEncoder().string(NLMSGERR_ATTR.MSG, "Bad dump").finish(), 4);
  assert.deepEqual(decodeDone(payload, NLM_F.MULTI | NLM_F.ACK_TLVS), {
    errno: ERRNO.EINVAL,
    extAck: { msg: "Bad dump" },
  });
  assert.throws(() => decodeDone(new Uint8Array(2), 0), /expected at least 4/);
  assert.throws(() => decodeDone(Uint8Array.of(1, 0, 0, 0), 0), /is positive/);
});
