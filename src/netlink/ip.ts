/**
 * IP addresses and prefixes as text and as bytes: {@linkcode parseIp}, {@linkcode formatIp}
 * (canonical like glibc's `inet_ntop` and `ip`), {@linkcode parseCidr}, {@linkcode formatCidr} and
 * {@linkcode cidrOverlaps}.
 *
 * @module
 */

import { AF } from "./constants.ts";

/** Text that is not an IP address or prefix, or bytes that are not an address. */
export class InvalidAddressError extends Error {
  /** The rejected input, as text. */
  readonly input: string;
  /** Creates an error saying why `input` was rejected. */
  constructor(input: string, reason: string) {
    super(`Invalid address ${JSON.stringify(input)}: ${reason}`);
    this.name = "InvalidAddressError";
    this.input = input;
  }
}

/** An address in network byte order, with its family. */
export interface IpBytes {
  /** `AF_INET` (2) or `AF_INET6` (10). */
  family: number;
  /** 4 or 16 bytes, network byte order. */
  bytes: Uint8Array;
}

/**
 * An IP prefix. `address` is canonical text ({@linkcode formatIp}) with all host bits zero.
 */
export interface Cidr {
  /** `AF_INET` (2) or `AF_INET6` (10). */
  family: number;
  /** The network address, canonical, host bits zero: `10.0.0.0`, `2001:db8::`. */
  address: string;
  /** Prefix length: 0–32 for IPv4, 0–128 for IPv6. */
  prefixLen: number;
}

/** `RTNL_FAMILY_IPMR`: IPv4 multicast routing, seen in rule dumps. */
const RTNL_FAMILY_IPMR = 128;
/** `RTNL_FAMILY_IP6MR`: IPv6 multicast routing, seen in rule dumps. */
const RTNL_FAMILY_IP6MR = 129;

/**
 * The size of an address of `family`: 4 for `AF_INET` (and `RTNL_FAMILY_IPMR`), 16 for `AF_INET6`
 * (and `RTNL_FAMILY_IP6MR`), `undefined` for any other family.
 *
 * @example
 * ```ts
 * import { addressLength } from "./ip.ts";
 * addressLength(10); // 16
 * ```
 */
export function addressLength(family: number): number | undefined {
  if (family === AF.INET || family === RTNL_FAMILY_IPMR) return 4;
  if (family === AF.INET6 || family === RTNL_FAMILY_IP6MR) return 16;
  return undefined;
}

/**
 * The largest prefix length of `family`: 32 for IPv4, 128 for IPv6.
 * Throws {@linkcode InvalidAddressError} for other families.
 */
export function maxPrefixLen(family: number): number {
  const len = addressLength(family);
  if (len === undefined) {
    throw new InvalidAddressError(String(family), "family is neither IPv4 nor IPv6");
  }
  return len * 8;
}

const HEX_WORD = /^[0-9a-fA-F]{1,4}$/;

/**
 * The value of a dotted quad as {@linkcode parseIp} accepts it (four decimal octets, no leading
 * zeros) as an unsigned 32-bit number, or -1 for any other text. A scan without allocations, for
 * the hot paths: encoding routes, sorting them.
 *
 * @example
 * ```ts
 * import { ipv4Number } from "./ip.ts";
 * ipv4Number("10.0.0.1"); // 167772161
 * ipv4Number("10.0.0.01"); // -1
 * ```
 */
export function ipv4Number(text: string): number {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let parts = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 46 /* . */) {
      if (digits === 0 || parts === 3) return -1;
      value = value * 256 + octet;
      parts++;
      octet = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits === 3 || (digits === 1 && octet === 0)) return -1;
      octet = octet * 10 + (c - 48);
      if (octet > 255) return -1;
      digits++;
    } else {
      return -1;
    }
  }
  if (digits === 0 || parts !== 3) return -1;
  return value * 256 + octet;
}

/**
 * Parses a dotted quad without leading zeros, or returns undefined when `text` does not have four
 * dot-separated parts. A hand-written scan: it runs for every address of every route encoded.
 */
function parseIpv4(text: string, original: string): Uint8Array | undefined {
  const value = ipv4Number(text);
  if (value >= 0) {
    return Uint8Array.of(value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255);
  }
  // Not a valid dotted quad: the scan below says why.
  const out = new Uint8Array(4);
  let part = 0;
  let start = 0;
  for (let i = 0; i <= text.length; i++) {
    if (i < text.length && text.charCodeAt(i) !== 46 /* . */) continue;
    if (part === 4) return undefined;
    const octet = text.slice(start, i);
    if (!isDecimalOctet(octet)) {
      if (text.split(".").length !== 4) return undefined;
      throw new InvalidAddressError(original, `"${octet}" is not a decimal octet`);
    }
    const value = Number(octet);
    if (value > 255) throw new InvalidAddressError(original, `octet ${value} is above 255`);
    out[part++] = value;
    start = i + 1;
  }
  return part === 4 ? out : undefined;
}

/** Whether `text` is 1 to 3 decimal digits without a leading zero (or a lone `0`). */
function isDecimalOctet(text: string): boolean {
  if (text.length === 0 || text.length > 3) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return text.length === 1 || text.charCodeAt(0) !== 48;
}

function parseWords(groups: string[], original: string): number[] {
  return groups.map((group) => {
    if (!HEX_WORD.test(group)) {
      throw new InvalidAddressError(original, `"${group}" is not a group of 1 to 4 hex digits`);
    }
    return parseInt(group, 16);
  });
}

function parseIpv6(text: string): Uint8Array {
  if (text.includes("%")) throw new InvalidAddressError(text, "zone ids are not supported");
  const halves = text.split("::");
  if (halves.length > 2) throw new InvalidAddressError(text, `"::" may appear only once`);
  const split = (half: string): string[] => (half === "" ? [] : half.split(":"));
  const head = split(halves[0]);
  const tail = halves.length === 2 ? split(halves[1]) : [];
  // An embedded IPv4 address may end the address (::ffff:192.0.2.1).
  const last = halves.length === 2 ? tail : head;
  const v4: number[] = [];
  if (last.length > 0 && last[last.length - 1].includes(".")) {
    const quad = parseIpv4(last.pop()!, text);
    if (quad === undefined) throw new InvalidAddressError(text, "malformed embedded IPv4 address");
    v4.push((quad[0] << 8) | quad[1], (quad[2] << 8) | quad[3]);
  }
  const headWords = parseWords(head, text);
  const tailWords = parseWords(tail, text);
  (halves.length === 2 ? tailWords : headWords).push(...v4);
  const given = headWords.length + tailWords.length;
  if (halves.length === 1 && given !== 8) {
    throw new InvalidAddressError(text, `has ${given} groups, expected 8`);
  }
  if (halves.length === 2 && given > 7) {
    throw new InvalidAddressError(text, `has ${given} groups besides "::", at most 7 fit`);
  }
  const words = halves.length === 2
    ? [...headWords, ...new Array<number>(8 - given).fill(0), ...tailWords]
    : headWords;
  const out = new Uint8Array(16);
  words.forEach((word, i) => {
    out[2 * i] = word >> 8;
    out[2 * i + 1] = word & 0xff;
  });
  return out;
}

/**
 * Parses an IPv4 (dotted quad, no leading zeros) or IPv6 address (RFC 4291 text, `::` and an
 * embedded IPv4 tail allowed, no zone id). Throws {@linkcode InvalidAddressError}.
 *
 * @example
 * ```ts
 * import { parseIp } from "./ip.ts";
 * parseIp("192.0.2.1"); // { family: 2, bytes: Uint8Array [192, 0, 2, 1] }
 * parseIp("fe80::1").bytes.length; // 16
 * ```
 */
export function parseIp(text: string): IpBytes {
  if (text.includes(":")) return { family: AF.INET6, bytes: parseIpv6(text) };
  const bytes = parseIpv4(text, text);
  if (bytes === undefined) {
    throw new InvalidAddressError(text, "expected four dotted decimal octets or an IPv6 address");
  }
  return { family: AF.INET, bytes };
}

/**
 * Formats 4 or 16 bytes the way glibc's `inet_ntop` (and so `ip`) does: IPv6 with lowercase hex,
 * the first longest run of two or more zero groups as `::` (RFC 5952), and `::a.b.c.d` /
 * `::ffff:a.b.c.d` for IPv4-compatible and IPv4-mapped addresses. Throws
 * {@linkcode InvalidAddressError} for any other length.
 *
 * @example
 * ```ts
 * import { formatIp } from "./ip.ts";
 * formatIp(Uint8Array.of(10, 0, 0, 1)); // "10.0.0.1"
 * formatIp(Uint8Array.of(0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1)); // "2001:db8::1:0:0:1"
 * ```
 */
export function formatIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return bytes.join(".");
  if (bytes.length !== 16) {
    throw new InvalidAddressError(`${bytes.length} bytes`, "an address has 4 or 16 bytes");
  }
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push((bytes[i] << 8) | bytes[i + 1]);
  // The first longest run of zero words, if it is at least two long.
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) [bestStart, bestLen] = [i, j - i];
    i = j;
  }
  if (bestLen < 2) bestStart = -1;
  let out = "";
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      out += i === 0 ? "::" : ":";
      i += bestLen - 1;
      continue;
    }
    // IPv4-compatible (::a.b.c.d) and IPv4-mapped (::ffff:a.b.c.d), as glibc prints them.
    if (i === 6 && bestStart === 0 && (bestLen === 6 || (bestLen === 5 && words[5] === 0xffff))) {
      return out + bytes.subarray(12).join(".");
    }
    out += words[i].toString(16) + (i < 7 ? ":" : "");
  }
  return out;
}

/** The number of leading one bits a prefix of `prefixLen` sets in byte `i`. */
function maskByte(prefixLen: number, i: number): number {
  const bits = Math.max(0, Math.min(8, prefixLen - 8 * i));
  return (0xff00 >> bits) & 0xff;
}

function checkPrefixLen(input: string, family: number, prefixLen: number): void {
  const max = maxPrefixLen(family);
  if (!Number.isInteger(prefixLen) || prefixLen < 0 || prefixLen > max) {
    const name = family === AF.INET ? "IPv4" : "IPv6";
    throw new InvalidAddressError(
      input,
      `prefix length ${prefixLen} is outside 0-${max} of ${name}`,
    );
  }
}

/**
 * Parses `address/prefixLen`, or a bare address as a host prefix (/32, /128). Host bits must be
 * zero: `10.0.0.1/8` throws {@linkcode InvalidAddressError} rather than being masked, the way the
 * kernel refuses such a route, so that a typo is not silently widened.
 *
 * @example
 * ```ts
 * import { parseCidr } from "./ip.ts";
 * parseCidr("2001:DB8::/32"); // { family: 10, address: "2001:db8::", prefixLen: 32 }
 * parseCidr("192.0.2.7"); // { family: 2, address: "192.0.2.7", prefixLen: 32 }
 * ```
 */
export function parseCidr(text: string): Cidr {
  const slash = text.indexOf("/");
  const addressText = slash === -1 ? text : text.slice(0, slash);
  const { family, bytes } = parseIp(addressText);
  let prefixLen = bytes.length * 8;
  if (slash !== -1) {
    const lenText = text.slice(slash + 1);
    if (!/^(0|[1-9][0-9]{0,2})$/.test(lenText)) {
      throw new InvalidAddressError(text, `prefix length "${lenText}" is not a decimal number`);
    }
    prefixLen = Number(lenText);
    checkPrefixLen(text, family, prefixLen);
  }
  for (let i = 0; i < bytes.length; i++) {
    if ((bytes[i] & ~maskByte(prefixLen, i) & 0xff) !== 0) {
      const network = formatIp(bytes.map((b, k) => b & maskByte(prefixLen, k)));
      throw new InvalidAddressError(
        text,
        `host bits are set; the network is ${network}/${prefixLen}`,
      );
    }
  }
  return { family, address: formatIp(bytes), prefixLen };
}

/**
 * Formats a prefix as `address/prefixLen`, always with the length.
 *
 * @example
 * ```ts
 * import { formatCidr } from "./ip.ts";
 * formatCidr({ family: 2, address: "10.0.0.0", prefixLen: 8 }); // "10.0.0.0/8"
 * ```
 */
export function formatCidr(cidr: Cidr): string {
  return `${cidr.address}/${cidr.prefixLen}`;
}

/**
 * Whether two prefixes share an address: same family and one contains the other.
 *
 * @example
 * ```ts
 * import { cidrOverlaps, parseCidr } from "./ip.ts";
 * cidrOverlaps(parseCidr("10.0.0.0/8"), parseCidr("10.1.0.0/16")); // true
 * cidrOverlaps(parseCidr("10.0.0.0/16"), parseCidr("10.1.0.0/16")); // false
 * ```
 */
export function cidrOverlaps(a: Cidr, b: Cidr): boolean {
  if (a.family !== b.family) return false;
  const x = parseIp(a.address).bytes;
  const y = parseIp(b.address).bytes;
  checkPrefixLen(formatCidr(a), a.family, a.prefixLen);
  checkPrefixLen(formatCidr(b), b.family, b.prefixLen);
  const common = Math.min(a.prefixLen, b.prefixLen);
  for (let i = 0; i < x.length; i++) {
    const mask = maskByte(common, i);
    if ((x[i] & mask) !== (y[i] & mask)) return false;
  }
  return true;
}
