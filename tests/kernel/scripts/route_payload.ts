/**
 * Hand-encoded route requests for kernel-test scripts: a minimal `rtmsg` + `RTA_DST` + `RTA_OIF`
 * + `RTA_TABLE`, independent of the codec under test.
 *
 * @module
 */

import { AttributeEncoder } from "../../../src/netlink/attributes.ts";
import { AF, RT_SCOPE, RT_TABLE, RTA, RTN } from "../../../src/netlink/constants.ts";

/** `rtm_protocol` of the routes the scripts add (linkmirror's own). */
export const TEST_PROTOCOL = 77;

/** The `i`-th test prefix: `10.<i / 256>.<i % 256>.0/24` (i below 65536). */
export function testPrefix(i: number): string {
  return `10.${(i >> 8) & 255}.${i & 255}.0/24`;
}

/** Encodes an on-link IPv4 route `dst/dstLen dev oif table table proto 77 scope link`. */
export function routePayload(
  route: { dst: string; dstLen: number; oif: number; table: number },
): Uint8Array {
  const header = new Uint8Array(12);
  header[0] = AF.INET;
  header[1] = route.dstLen;
  header[4] = route.table < 256 ? route.table : RT_TABLE.COMPAT;
  header[5] = TEST_PROTOCOL;
  header[6] = RT_SCOPE.LINK;
  header[7] = RTN.UNICAST;
  const attrs = new AttributeEncoder()
    .bytes(RTA.DST, Uint8Array.from(route.dst.split(".").map(Number)))
    .u32(RTA.OIF, route.oif)
    .u32(RTA.TABLE, route.table)
    .finish();
  const out = new Uint8Array(header.length + attrs.length);
  out.set(header);
  out.set(attrs, header.length);
  return out;
}

/** The `i`-th test route (see {@linkcode testPrefix}) as a payload. */
export function testRoutePayload(i: number, oif: number, table: number): Uint8Array {
  const [dst, len] = testPrefix(i).split("/");
  return routePayload({ dst, dstLen: Number(len), oif, table });
}

/** A dump request payload for the IPv4 routes of one table (filtered with strict checking). */
export function routeDumpPayload(table: number): Uint8Array {
  const header = new Uint8Array(12);
  header[0] = AF.INET;
  header[4] = table < 256 ? table : RT_TABLE.COMPAT;
  const attrs = new AttributeEncoder().u32(RTA.TABLE, table).finish();
  const out = new Uint8Array(header.length + attrs.length);
  out.set(header);
  out.set(attrs, header.length);
  return out;
}

/** The interface index of `name`, read from sysfs (inside the namespace). */
export function ifindex(name: string): number {
  return Number(Deno.readTextFileSync(`/sys/class/net/${name}/ifindex`).trim());
}
