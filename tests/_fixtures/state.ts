/**
 * What a state file records, for the unit tests that read or render one.
 *
 * @module
 */

import type { DaemonConfigSummary } from "../../src/status/state_file.ts";

/**
 * The configuration a state file records for `watch` without options (every mirroring option at
 * its default), written out by hand: a test compares `persistConfig`'s record with it.
 *
 * @example
 * ```ts
 * import { DEFAULT_CONFIG } from "./state.ts";
 * DEFAULT_CONFIG.source; // 254
 * ```
 */
export const DEFAULT_CONFIG: DaemonConfigSummary = {
  source: 254,
  protocol: 77,
  families: ["inet", "inet6"],
  exclude: [],
  excludeDevices: [],
  includeGatewayRoutes: false,
  allowPrefixes: [],
  precedence: "vpn",
  catchAll: [],
};
