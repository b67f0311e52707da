/**
 * The routes the benchmark works with, generated from indexes so that the driver, the probe and
 * the oracle agree on them without shipping lists around: on-link routes of `main` (host routes
 * as container hosts have them, and LAN-style /24s), the one-off routes of latency samples, the
 * readiness canary and unrelated gateway routes. Every mirrored test route lies in `10.0.0.0/8`,
 * which is what the probe tracks; nothing else in a scenario's namespace does.
 *
 * @example
 * ```ts
 * import { onLinkRoutes, routeKey } from "./routes.ts";
 * const [first] = onLinkRoutes({ count: 2, devs: ["lk0"] });
 * routeKey(first); // "10.0.0.1/32@lk0"
 * ```
 *
 * @module
 */

/** One IPv4 route: destination, prefix length and output device. */
export interface RouteSpec {
  /** Destination address. */
  dst: string;
  /** Prefix length. */
  len: number;
  /** Output device name. */
  dev: string;
}

/** The key a route is compared by: `dst/len@dev`. */
export function routeKey(route: RouteSpec): string {
  return `${route.dst}/${route.len}@${route.dev}`;
}

/** Whether `dst` is in the tracked space `10.0.0.0/8`. */
export function isTracked(dst: string): boolean {
  return dst.startsWith("10.");
}

/** Options of {@linkcode onLinkRoutes}. */
export interface OnLinkRouteOptions {
  /** How many routes. */
  count: number;
  /** Devices to spread them over, round robin. */
  devs: readonly string[];
  /** Index of the first route, so that several sets do not overlap. Default 0. */
  offset?: number;
}

/**
 * `count` on-link routes: even indexes are /32 host routes in `10.0.0.0/12` (one per container
 * veth, as Calico/Docker hosts have), odd ones /24 LAN-style prefixes in `10.128.0.0/9`.
 */
export function onLinkRoutes(options: OnLinkRouteOptions): RouteSpec[] {
  const offset = options.offset ?? 0;
  const out: RouteSpec[] = [];
  for (let i = offset; i < offset + options.count; i++) {
    const dev = options.devs[i % options.devs.length];
    const n = (i >> 1) + 1;
    if (i % 2 === 0) {
      if (n >= 1 << 20) throw new RangeError(`Route index ${i} is out of range`);
      out.push({ dst: `10.${n >> 16}.${(n >> 8) & 255}.${n & 255}`, len: 32, dev });
    } else {
      if (n >= 1 << 15) throw new RangeError(`Route index ${i} is out of range`);
      out.push({ dst: `10.${128 + (n >> 8)}.${n & 255}.0`, len: 24, dev });
    }
  }
  return out;
}

/**
 * `count` on-link /32 host routes in `10.0.0.0/12` (up to a million, for the 100k scenarios),
 * spread over `devs` round robin. They overlap {@linkcode onLinkRoutes}' host routes: use one or
 * the other in a namespace.
 */
export function hostRoutes(options: OnLinkRouteOptions): RouteSpec[] {
  const offset = options.offset ?? 0;
  const out: RouteSpec[] = [];
  for (let i = offset; i < offset + options.count; i++) {
    const n = i + 1;
    if (n >= 1 << 20) throw new RangeError(`Route index ${i} is out of range`);
    const dev = options.devs[i % options.devs.length];
    out.push({ dst: `10.${n >> 16}.${(n >> 8) & 255}.${n & 255}`, len: 32, dev });
  }
  return out;
}

/** The route of latency sample `i` (a /32 in `10.127.0.0/16`). */
export function sampleRoute(i: number, dev: string): RouteSpec {
  const n = i % 65536;
  return { dst: `10.127.${n >> 8}.${n & 255}`, len: 32, dev };
}

/** The readiness canary: added and removed to see that a contender mirrors. */
export function canaryRoute(dev: string): RouteSpec {
  return { dst: "10.126.0.1", len: 32, dev };
}

/** The route that flaps in the storm scenario. */
export function flapRoute(dev: string): RouteSpec {
  return { dst: "10.125.0.1", len: 32, dev };
}

/**
 * `count` host routes via `gateway` in `198.18.0.0/15`: unrelated routes that no contender may
 * copy (scale-independence scenario). At most 131072.
 */
export function gatewayRouteLines(count: number, gateway: string): string[] {
  if (count > 1 << 17) throw new RangeError(`At most ${1 << 17} gateway routes, not ${count}`);
  const out: string[] = [];
  for (let n = 0; n < count; n++) {
    out.push(`route add 198.${18 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}/32 via ${gateway}`);
  }
  return out;
}

/** Options of {@linkcode routeLines}. */
export interface RouteLineOptions {
  /** `add` or `del`. */
  op: "add" | "del";
  /** Target table; default main. */
  table?: string;
  /** `proto` of the routes; default none (`boot`). */
  protocol?: number;
}

/** `ip -batch` lines that add or delete `routes` (scope link). */
export function routeLines(routes: readonly RouteSpec[], options: RouteLineOptions): string[] {
  const suffix = (options.table ? ` table ${options.table}` : "") +
    (options.protocol !== undefined ? ` proto ${options.protocol}` : "");
  return routes.map((r) =>
    `route ${options.op} ${r.dst}/${r.len} dev ${r.dev} scope link${suffix}`
  );
}
