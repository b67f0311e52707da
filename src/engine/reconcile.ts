/**
 * One reconciliation: read the source and target tables, plan, apply. The one-shot commands and
 * the daemon's full resyncs share it; it talks to the kernel only through a
 * {@linkcode RouteStore}, so tests can give it a fake one.
 *
 * @module
 */

import type { Address } from "../netlink/address.ts";
import type { Link } from "../netlink/link.ts";
import type { NexthopObject } from "../netlink/nexthop.ts";
import type { Route } from "../netlink/route.ts";
import type { Logger } from "../log.ts";
import {
  type Conflict,
  type Excluded,
  type Plan,
  type PlanInput,
  planSync,
} from "../planner/plan.ts";
import { routeKey } from "../planner/route_identity.ts";
import type { ChangeResult, RouteChange, RouteStore } from "../rtnl/client.ts";
import type { MirrorConfig } from "./config.ts";

/** The kernel state a plan is made from. */
export interface TableState {
  /** Routes of the source table, configured families only (the table must exist). */
  source: Route[];
  /** Every route of each target table, both families. */
  targets: Map<number, Route[]>;
  /** Every link. */
  links: Link[];
  /** The nexthop objects (read only when a source route uses one), by id or as a list. */
  nexthops?: ReadonlyMap<number, NexthopObject> | readonly NexthopObject[];
  /** Every address of both families (the local address space depends on them). */
  addresses: Address[];
}

/**
 * Reads the source table, every target table, the links and the addresses; and the nexthop
 * objects when a source route refers to one.
 */
export function readTables(store: RouteStore, config: MirrorConfig): TableState {
  const source = store.routes({
    table: config.source,
    family: config.families.length === 1 ? config.families[0] : undefined,
    mustExist: true,
  });
  const targets = new Map<number, Route[]>();
  for (const table of config.tables) targets.set(table, store.routes({ table }));
  const state: TableState = {
    source,
    targets,
    links: store.links(),
    addresses: store.addresses(),
  };
  if (store.nexthops !== undefined && usesNexthopObjects(source)) state.nexthops = store.nexthops();
  return state;
}

/** Whether a route of `routes` refers to a nexthop object (a plain loop: it runs cold, once). */
function usesNexthopObjects(routes: readonly Route[]): boolean {
  for (let i = 0; i < routes.length; i++) if (routes[i].nhId !== undefined) return true;
  return false;
}

/** The planner's input for `state` under `config`. */
export function planInput(state: TableState, config: MirrorConfig): PlanInput {
  return {
    source: state.source,
    targets: state.targets,
    links: state.links,
    ...(state.nexthops !== undefined ? { nexthops: state.nexthops } : {}),
    addresses: state.addresses,
    // The configuration is the planner's options (MirrorConfig extends PlanOptions): passed as it
    // is, so that an option added to both reaches the planner without a copy here.
    options: config,
  };
}

/**
 * The changes of a plan in the order they must be applied: every replace (atomic, in place), the
 * deletes that free the slot ({@linkcode routeKey}) of an add (the kernel refuses a second route
 * in one slot), then every add, then the other deletes. Make before break: a copy that moves to
 * another slot (another metric, as when copies of an earlier version at the source's metric are
 * migrated) is added before the old one goes, so its LAN is never without a route in the table.
 *
 * @example
 * ```ts ignore
 * planChanges(plan).map((c) => c.op); // ["replace", "delete" (same slot), "add", "delete"]
 * ```
 */
export function planChanges(plan: Plan): RouteChange[] {
  const { replaces, adds, deletes } = plan;
  // No deletes (a burst of adds): no slot to free, and no key to build per add.
  const addKeys = new Set(deletes.length === 0 ? [] : adds.map(routeKey));
  const makesRoom = deletes.map((route) => addKeys.has(routeKey(route)));
  // Indexed loops into one array: this runs once per sync, on cold code, for 10k adds.
  const changes: RouteChange[] = new Array(replaces.length + adds.length + deletes.length);
  let n = 0;
  for (let i = 0; i < replaces.length; i++) changes[n++] = { op: "replace", route: replaces[i].to };
  for (let i = 0; i < deletes.length; i++) {
    if (makesRoom[i]) changes[n++] = { op: "delete", route: deletes[i] };
  }
  for (let i = 0; i < adds.length; i++) changes[n++] = { op: "add", route: adds[i] };
  for (let i = 0; i < deletes.length; i++) {
    if (!makesRoom[i]) changes[n++] = { op: "delete", route: deletes[i] };
  }
  return changes;
}

/**
 * How long each step of a {@linkcode reconcile} took, in milliseconds: reading the tables
 * (dumps received and decoded), planning (the planner and the order of the changes), applying
 * (encoding, the kernel's work, the ACKs; 0 for a dry run).
 */
export interface ReconcileTimings {
  /** Reading the source and target tables, the links and the addresses. */
  readMs: number;
  /** Planning, and putting the changes in the order they are applied. */
  planMs: number;
  /** Applying the changes (0 for a dry run). */
  applyMs: number;
}

/** What {@linkcode reconcile} did. */
export interface ReconcileResult {
  /** The plan it made. */
  plan: Plan;
  /** One result per applied change (empty for a dry run). */
  results: ChangeResult[];
  /** The links the plan was made from (for device names: no second dump). */
  links: Link[];
  /** How long each step took. */
  timings: ReconcileTimings;
}

/**
 * Reads the tables, plans and (unless `dryRun`) applies the plan, and times each step with
 * `now` (milliseconds; `performance.now` unless given).
 *
 * @example
 * ```ts ignore
 * import { reconcile } from "./reconcile.ts";
 * import { RtnlClient } from "../rtnl/client.ts";
 * const { plan, results, timings } = reconcile(RtnlClient.open(), config);
 * timings.applyMs; // e.g. 41.2: encoding, the kernel's inserts and their ACKs
 * ```
 */
export function reconcile(
  store: RouteStore,
  config: MirrorConfig,
  options: { dryRun?: boolean; now?: () => number } = {},
): ReconcileResult {
  const now = options.now ?? (() => performance.now());
  const started = now();
  const state = readTables(store, config);
  const read = now();
  const plan = planSync(planInput(state, config));
  const changes = options.dryRun ? [] : planChanges(plan);
  const planned = now();
  const results = options.dryRun ? [] : store.apply(changes);
  const applied = options.dryRun ? planned : now();
  return {
    plan,
    results,
    links: state.links,
    timings: { readMs: read - started, planMs: planned - read, applyMs: applied - planned },
  };
}

/** Every route linkmirror owns in the target tables, as delete changes. */
export function flushChanges(store: RouteStore, config: MirrorConfig): RouteChange[] {
  return config.tables.flatMap((table) =>
    store.routes({ table, protocol: config.protocol })
      .filter((route) => route.protocol === config.protocol)
      .map((route): RouteChange => ({ op: "delete", route }))
  );
}

/** Counts of what an apply did, for the summary line, the log and the daemon's state. */
export interface ApplyCounts {
  /** Copies added. */
  added: number;
  /** Copies replaced in place (`NLM_F_REPLACE`). */
  replaced: number;
  /** Copies deleted. */
  deleted: number;
  /** Changes the kernel refused. */
  failed: number;
  /** Wanted copies held back by foreign routes. */
  conflicts: number;
  /** Copies that were already right. */
  unchanged: number;
}

/**
 * Counts the results of applying `plan`.
 *
 * @example
 * ```ts ignore
 * const { added, failed } = applyCounts(plan, store.apply(planChanges(plan)));
 * ```
 */
export function applyCounts(plan: Plan, results: readonly ChangeResult[]): ApplyCounts {
  let added = 0, replaced = 0, deleted = 0, failed = 0;
  // Indexed: a for-of on cold code makes an iterator result per change (10k in a big sync).
  for (let i = 0; i < results.length; i++) {
    const r = results[i];
    if (r.error) failed++;
    else if (r.change.op === "add") added++;
    else if (r.change.op === "replace") replaced++;
    else deleted++;
  }
  return {
    added,
    replaced,
    deleted,
    failed,
    conflicts: plan.conflicts.length,
    unchanged: plan.unchanged.length,
  };
}

/**
 * What one apply of the daemon did, as it logs it, reports it to the service manager and records
 * it in its state file: the counts of {@linkcode applyCounts} (conflicts: those standing after the
 * apply), how long it took, whether it started from a full dump, and when.
 */
export interface ApplyRecord extends Omit<ApplyCounts, "unchanged"> {
  /** Milliseconds from the start of planning to the last ACK. */
  durationMs: number;
  /** Whether it started from a full dump. */
  resync: boolean;
  /** Wall-clock time of the apply (ms since the epoch). */
  at: number;
}

/**
 * Logs a wanted copy that a foreign route holds back (WARN): the one line `sync` and `watch`
 * write for a conflict, with the devices and protocols of the routes in the way.
 *
 * @example
 * ```ts ignore
 * for (const c of plan.conflicts) logConflict(log(), c);
 * ```
 */
export function logConflict(log: Logger, conflict: Conflict): void {
  log.warn("Conflict: {dst} in table {table} is held by a route linkmirror did not make", {
    dst: `${conflict.wanted.dst}/${conflict.wanted.dstLen}`,
    table: conflict.table,
    existing: conflict.existing.map((r) => ({ oif: r.oif, protocol: r.protocol })),
  });
}

/**
 * Logs a source route the planner refused as outside the local address space (WARN): the one
 * line `sync` and `watch` write for it, pointing at `--allow-prefix`.
 *
 * @example
 * ```ts ignore
 * for (const e of plan.excluded) if (e.reason === "outside-local-space") logOutsideLocalSpace(log(), e);
 * ```
 */
export function logOutsideLocalSpace(log: Logger, excluded: Excluded): void {
  const route = excluded.route;
  log.warn("On-link route outside local address space; not mirrored; see --allow-prefix: {dst}", {
    dst: `${route.dst}/${route.dstLen}`,
    oif: route.oif,
    protocol: route.protocol,
  });
}
