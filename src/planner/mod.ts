/**
 * linkmirror's planner: a pure function from the source table, the target tables and the links
 * to the deletes and adds that make each target table hold exactly the wanted copies.
 *
 * @example
 * ```ts
 * import { isEmptyPlan, planOptions, planSync } from "./mod.ts";
 * const plan = planSync({ source: [], targets: new Map([[51820, []]]), links: [], addresses: [],
 *   options: planOptions() });
 * isEmptyPlan(plan); // true
 * ```
 *
 * @module
 */

export {
  EXCLUSION_REASONS,
  type ExclusionReason,
  sourceExclusion,
  vpnInterfaces,
} from "./eligibility.ts";
export { COPY_METRIC_OFFSET, copyMetric, MAX_METRIC } from "./copy_metric.ts";
export { LOCAL_SPACE, LocalSpace, MIN_GLOBAL_IPV6_PREFIX_LEN } from "./local_space.ts";
export { DEFAULT_PROTOCOL, type PlanOptions, planOptions } from "./options.ts";
export { compareAddresses, compareRoutes } from "./order.ts";
export {
  type Conflict,
  type Excluded,
  isEmptyPlan,
  type Plan,
  type PlanInput,
  planSync,
  type Replacement,
} from "./plan.ts";
export {
  DEFAULT_CATCH_ALL,
  DEFAULT_PRECEDENCE,
  type Precedence,
  PRECEDENCES,
  VpnRoutes,
} from "./precedence.ts";
export { type CopyTarget, isSameCopy, mirrorCopy } from "./route_copy.ts";
export {
  IPV6_DEFAULT_METRIC,
  prefixKey,
  replaceGroupKey,
  routeKey,
  routeMetric,
  tablePrefixKey,
  viewKey,
} from "./route_identity.ts";
