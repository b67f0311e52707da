/**
 * Netlink attributes (`struct nlattr` / `struct rtattr`): type-length-value records, 4-byte
 * aligned. {@linkcode decodeAttributes} walks them; {@linkcode AttributeEncoder} writes them.
 *
 * @module
 */

import { DecodeError } from "./errors.ts";
import { align } from "./message.ts";

/** Size of an attribute header (`struct nlattr`). */
export const NLA_HDRLEN = 4;
/** Bit in the attribute type that marks nested attributes. */
export const NLA_F_NESTED = 0x8000;
/** Bit in the attribute type that marks network byte order. */
export const NLA_F_NET_BYTEORDER = 0x4000;
/** Mask of the attribute type without its flag bits. */
export const NLA_TYPE_MASK = ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER) & 0xffff;

/** One raw attribute: its type (flag bits removed) and value bytes. */
export interface Attribute {
  /** Attribute type, without `NLA_F_NESTED`/`NLA_F_NET_BYTEORDER`. */
  type: number;
  /** The value, without header or padding. */
  data: Uint8Array;
  /** The flag bits of the type (`NLA_F_NESTED`, `NLA_F_NET_BYTEORDER`), kept for round trips. */
  flags?: number;
}

/**
 * Decodes the attributes in `buf`. `base` is the offset of `buf` in the enclosing message, used
 * only for error positions. Throws {@linkcode DecodeError} when an attribute is shorter than its
 * header or runs past the end.
 *
 * @example
 * ```ts
 * import { AttributeEncoder, decodeAttributes } from "./attributes.ts";
 * const bytes = new AttributeEncoder().u32(6, 100).finish();
 * decodeAttributes(bytes)[0].type; // 6
 * ```
 */
export function decodeAttributes(buf: Uint8Array, base = 0): Attribute[] {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: Attribute[] = [];
  let off = 0;
  while (off + NLA_HDRLEN <= buf.length) {
    const len = view.getUint16(off, true);
    const rawType = view.getUint16(off + 2, true);
    const type = rawType & NLA_TYPE_MASK;
    if (len < NLA_HDRLEN) {
      throw new DecodeError(`attribute ${type} length ${len} shorter than its header`, base + off);
    }
    if (len > buf.length - off) {
      throw new DecodeError(
        `attribute ${type} length ${len} runs past the ${buf.length - off} bytes left`,
        base + off,
      );
    }
    const attr: Attribute = { type, data: buf.subarray(off + NLA_HDRLEN, off + len) };
    if (rawType !== type) attr.flags = rawType & ~NLA_TYPE_MASK;
    out.push(attr);
    off += align(len);
  }
  // Fewer than 4 bytes left over can only be padding of the last attribute.
  return out;
}

function need(attr: Attribute, size: number, base: number): DataView {
  if (attr.data.length < size) {
    throw new DecodeError(
      `attribute ${attr.type} has ${attr.data.length} bytes, expected ${size}`,
      base,
    );
  }
  return new DataView(attr.data.buffer, attr.data.byteOffset, attr.data.byteLength);
}

/** Reads an attribute as an unsigned 8-bit integer, or throws {@linkcode DecodeError}. */
export function attrU8(attr: Attribute, base = 0): number {
  return need(attr, 1, base).getUint8(0);
}

/** Reads an attribute as a host-order (little-endian) u16, or throws {@linkcode DecodeError}. */
export function attrU16(attr: Attribute, base = 0): number {
  return need(attr, 2, base).getUint16(0, true);
}

/** Reads an attribute as a host-order (little-endian) u32, or throws {@linkcode DecodeError}. */
export function attrU32(attr: Attribute, base = 0): number {
  return need(attr, 4, base).getUint32(0, true);
}

/** Reads an attribute as a NUL-terminated string (the NUL is optional). */
export function attrString(attr: Attribute): string {
  const end = attr.data.indexOf(0);
  return new TextDecoder().decode(end === -1 ? attr.data : attr.data.subarray(0, end));
}

/**
 * Writes attributes into a growing buffer.
 *
 * @example
 * ```ts
 * import { AttributeEncoder } from "./attributes.ts";
 * const bytes = new AttributeEncoder().u32(15, 539098368).string(3, "eth0").finish();
 * bytes.length; // 8 + 12
 * ```
 */
export class AttributeEncoder {
  #buf = new Uint8Array(64);
  #len = 0;

  #reserve(n: number): void {
    if (this.#len + n <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < this.#len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buf.subarray(0, this.#len));
    this.#buf = next;
  }

  /** Appends an attribute with raw bytes as its value. */
  bytes(type: number, data: Uint8Array): this {
    const len = NLA_HDRLEN + data.length;
    const padded = align(len);
    this.#reserve(padded);
    const view = new DataView(this.#buf.buffer);
    view.setUint16(this.#len, len, true);
    view.setUint16(this.#len + 2, type, true);
    this.#buf.set(data, this.#len + NLA_HDRLEN);
    this.#buf.fill(0, this.#len + len, this.#len + padded);
    this.#len += padded;
    return this;
  }

  /** Appends an unsigned 8-bit attribute. */
  u8(type: number, value: number): this {
    return this.bytes(type, Uint8Array.of(value));
  }

  /** Appends a decoded attribute again, flag bits included (for round trips). */
  raw(attr: Attribute): this {
    return this.bytes(attr.type | (attr.flags ?? 0), attr.data);
  }

  /** Appends a host-order u16 attribute. */
  u16(type: number, value: number): this {
    const b = new Uint8Array(2);
    new DataView(b.buffer).setUint16(0, value, true);
    return this.bytes(type, b);
  }

  /** Appends a host-order u32 attribute. */
  u32(type: number, value: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, value >>> 0, true);
    return this.bytes(type, b);
  }

  /** Appends a NUL-terminated string attribute. */
  string(type: number, value: string): this {
    const text = new TextEncoder().encode(value);
    const b = new Uint8Array(text.length + 1);
    b.set(text);
    return this.bytes(type, b);
  }

  /** Appends a nested attribute whose value is what `fill` writes; sets `NLA_F_NESTED`. */
  nested(type: number, fill: (inner: AttributeEncoder) => void): this {
    const inner = new AttributeEncoder();
    fill(inner);
    return this.bytes(type | NLA_F_NESTED, inner.finish());
  }

  /** The encoded attributes. */
  finish(): Uint8Array {
    return this.#buf.slice(0, this.#len);
  }
}
