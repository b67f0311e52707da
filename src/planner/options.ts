/**
 * What the planner is told besides the routes: linkmirror's protocol number, the families to
 * mirror, the user's exclusions, the extra local address space and the precedence rule.
 *
 * @module
 */

import { AF } from "../netlink/constants.ts";
import type { Cidr } from "../netlink/ip.ts";
import type { Precedence } from "./precedence.ts";

/** linkmirror's `rtm_protocol`: every copy carries it, and only routes carrying it are touched. */
export const DEFAULT_PROTOCOL = 77;

/** Options of {@linkcode planSync}. */
export interface PlanOptions {
  /** linkmirror's `rtm_protocol` ({@linkcode DEFAULT_PROTOCOL} unless configured). */
  protocol: number;
  /** Families to mirror: `AF_INET` (2) and/or `AF_INET6` (10). */
  families: readonly number[];
  /** `--exclude CIDR`: source routes whose destination overlaps one of these are not mirrored. */
  exclude: readonly Cidr[];
  /** `--exclude-dev NAME`: source routes on these interfaces are not mirrored. */
  excludeDevices: readonly string[];
  /**
   * `--include-gateway-routes`: also mirror non-default routes via a gateway that lies inside an
   * on-link prefix mirrored into the same table on the same interface. Absent means off.
   */
  includeGatewayRoutes?: boolean;
  /**
   * `--allow-prefix CIDR`: ranges mirrored besides the local address space (`LOCAL_SPACE` in
   * local_space.ts), e.g. a university's public /16. Absent means none.
   */
  allowPrefixes?: readonly Cidr[];
  /**
   * `--precedence`: `vpn` (absent means this) makes no copy where the VPN's best match is not a
   * catch-all; `lan` makes copies wherever longest-prefix match lets them win.
   */
  precedence?: Precedence;
  /**
   * `--catch-all CIDR`: the VPN routes that do not count as resources under precedence `vpn`.
   * Absent means `DEFAULT_CATCH_ALL` (precedence.ts); a default route always counts.
   */
  catchAll?: readonly Cidr[];
}

/**
 * Complete plan options from the ones given: protocol 77, both families, no exclusions; every
 * optional field only when given (each field's doc says what its absence means).
 *
 * @example
 * ```ts
 * import { planOptions } from "./options.ts";
 * planOptions({ families: [2] }); // { protocol: 77, families: [2], exclude: [], excludeDevices: [] }
 * ```
 */
export function planOptions(given: Partial<PlanOptions> = {}): PlanOptions {
  const options: PlanOptions = {
    protocol: DEFAULT_PROTOCOL,
    families: [AF.INET, AF.INET6],
    exclude: [],
    excludeDevices: [],
  };
  // Every option given is kept as it is, so that one added to PlanOptions needs no line here.
  for (const [key, value] of Object.entries(given)) {
    if (value !== undefined) Object.assign(options, { [key]: value });
  }
  return options;
}
