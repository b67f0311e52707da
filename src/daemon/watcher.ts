/**
 * The `watch` daemon's loop: events in, group commit, plan, apply, log.
 *
 * A {@linkcode Subscription} to the route, link and address groups brings decoded events; the
 * client carries dumps and route changes. The {@linkcode TableView} keeps the source table's
 * mirror candidates, the target tables, links and addresses current from events, so that an event
 * costs a plan over that small view, not a dump. A full dump happens at start (after subscribing,
 * so nothing between dump and subscription is lost), after an overrun (`ENOBUFS`), when the view
 * cannot follow the kernel, on {@linkcode Watcher.resync} (SIGHUP) and every `resyncIntervalS`.
 *
 * Scheduling is group commit ({@linkcode Coalescer}): an event that finds the daemon idle is
 * applied at once, after draining whatever else is queued; what arrives during an apply is
 * applied right after it, in one batch. Timers exist only for a held prefix's back-off, the
 * periodic resync, the watchdog and the retry after a failed apply; when idle the process sleeps
 * in `poll` with no deadline. Somebody undoing copies of one prefix again and again is a fight
 * ({@linkcode FightDetector}): that prefix alone is held back, every other one runs at full speed.
 *
 * @module
 */

import { type Logger, logMs } from "../log.ts";
import type { MirrorConfig } from "../engine/config.ts";
import {
  applyCounts,
  type ApplyRecord,
  flushChanges,
  logConflict,
  logOutsideLocalSpace,
  planChanges,
  planInput,
} from "../engine/reconcile.ts";
import { AF, NLM_F, RTNLGRP } from "../netlink/constants.ts";
import type { Address } from "../netlink/address.ts";
import type { Link } from "../netlink/link.ts";
import type { NexthopObject } from "../netlink/nexthop.ts";
import type { Route } from "../netlink/route.ts";
import { sourceExclusion } from "../planner/eligibility.ts";
import { type Conflict, type Plan, planSync } from "../planner/plan.ts";
import { prefixKey, routeKey } from "../planner/route_identity.ts";
import {
  type ChangeResult,
  describeRoute,
  MissingTableError,
  type RouteChange,
  type RouteStore,
} from "../rtnl/client.ts";
import type { Subscription } from "../rtnl/subscription.ts";
import { Coalescer } from "./coalescer.ts";
import { FightDetector, type FightOptions, type UndoVerdict } from "./fight_detector.ts";
import { type Prefix, PrefixSet } from "./prefix_set.ts";
import { TableView } from "./table_view.ts";

/** The multicast groups whose events can change the wanted copies or the copies themselves. */
export const WATCH_GROUPS: readonly number[] = [
  RTNLGRP.LINK,
  RTNLGRP.IPV4_IFADDR,
  RTNLGRP.IPV6_IFADDR,
  RTNLGRP.IPV4_ROUTE,
  RTNLGRP.IPV6_ROUTE,
  RTNLGRP.NEXTHOP,
];

/** The fight detector's key of a whole table's flushes (copies are keyed by `routeKey`). */
function flushKey(table: number): string {
  return `flush ${table}`;
}

/** What one batch of events did to the copies, as far as fights go. */
interface BatchUndos {
  /** Copies undone by another writer, by key: one undo per copy per batch. */
  copies: Map<string, { copy: Route; how: string }>;
  /** Tables flushed by another writer, with the last deletion's words. */
  flushes: Map<number, string>;
  /** Copies the kernel removed by itself (port 0), by key. */
  kernel: Set<string>;
  /** Our copies deleted by another writer: undos, or part of a flush once the batch is read. */
  deletes: { copy: Route; port: number }[];
  /** Whether a link or address changed (the kernel may have removed copies silently). */
  linksOrAddresses: boolean;
}

/** Timing options of the daemon. */
export interface WatchTiming {
  /** Opt-in quiet time that ends a burst, ms; 0 (the default): group commit alone. */
  coalesceMs: number;
  /** Opt-in bound on a batched change's wait when `coalesceMs` > 0, ms; 0: `coalesceMs`. */
  maxWaitMs: number;
  /** Seconds between full resyncs, 0 = never. */
  resyncIntervalS: number;
}

/** Counters the daemon keeps (for logs and `status`). */
export interface WatchCounters {
  /** Netlink messages received on the event socket. */
  events: number;
  /** Applies made (plans computed after events or resyncs). */
  applies: number;
  /** Applies that changed something in the kernel. */
  changingApplies: number;
  /** Receive-buffer overruns (`ENOBUFS`). */
  overruns: number;
  /** Full dumps made. */
  resyncs: number;
  /** Conflicts reported by the last apply. */
  conflicts: number;
  /** Applies in which at least one change failed. */
  failedApplies: number;
  /** Messages that did not decode. */
  malformed: number;
  /** Datagrams from senders other than the kernel, dropped. */
  droppedForeign: number;
  /** Fights detected: episodes of one prefix's copy undone again and again by someone else. */
  fights: number;
  /** Copies undone by someone else (deleted, or replaced by a foreign route). */
  undone: number;
}

/** The kernel operations the daemon uses: a {@linkcode RouteStore} that also lists addresses. */
export interface DaemonStore extends RouteStore {
  /** Every address of both families. */
  addresses(): Address[];
  /** Every nexthop object (routes with `RTA_NH_ID` are judged by theirs). */
  nexthops?(): NexthopObject[];
  /**
   * The netlink port id of the socket the changes go over: a notification whose sender
   * (`nlmsg_pid`) it is reports one of our own changes (an echo).
   */
  readonly port: number;
}

/** What the daemon needs from outside: sockets, clock, log, and hooks for service managers. */
export interface WatcherDeps {
  /**
   * The event subscription ({@linkcode WATCH_GROUPS}), opened before the first dump. When it
   * drops the notifications of our own IPv4 changes (`ownIpv4RoutesDropped`), the daemon puts
   * its accepted IPv4 changes into its view itself.
   */
  events: Pick<
    Subscription,
    "drain" | "wait" | "wake" | "droppedForeign" | "ownIpv4RoutesDropped"
  >;
  /** The request socket (separate, unsubscribed), for dumps and changes. */
  client: DaemonStore;
  /** Milliseconds, monotonic. Default `performance.now`. */
  now?: () => number;
  /** Where log lines go. */
  log: Logger;
  /** Called once after the first full sync (sd_notify `READY=1`). */
  onReady?: () => void;
  /** Called after every apply, with the counters (state file, watchdog). */
  /**
   * Called after an apply, with the counters (state file, sd_notify `STATUS=`): at once after
   * the first and after a quiet second, else at most once per {@linkcode REPORT_INTERVAL_MS}
   * with the latest apply (a file write per change would cost more than the change).
   */
  onApply?: (counters: Readonly<WatchCounters>, last: ApplyRecord) => void;
  /** Watchdog keep-alive interval in ms and its callback, if a service manager asks for one. */
  watchdog?: { intervalMs: number; ping: () => void };
  /** Called on every turn of the loop (the table locks answer their probes there). */
  onTick?: () => void;
  /** Fight detection thresholds (tests); the defaults suit production. */
  fights?: FightOptions;
}

/** No links: {@linkcode Watcher.#candidate}'s static checks. */
const NO_LINKS: ReadonlyMap<number, Link> = new Map();

/** The first retry after a failed apply comes this much later, ms; it doubles each time. */
export const FIRST_RETRY_MS = 250;
/**
 * Loop turns in a row that may skip the wait: right after an apply its echoes (and whatever
 * else came meanwhile) are already queued, so they are read at once, without a round trip through
 * the poll thread; every this many turns the loop awaits anyway, so that signals get through.
 */
const MAX_SYNC_TURNS = 8;
/** Shortest time between two `onApply` reports, ms (see {@linkcode WatcherDeps.onApply}). */
export const REPORT_INTERVAL_MS = 1000;
/** Retry delay after a failed apply grows from {@linkcode FIRST_RETRY_MS} up to this. */
const MAX_RETRY_MS = 30_000;

/**
 * The daemon. `run()` resolves when {@linkcode Watcher.stop} was called (or a signal arrived
 * through it), after the optional flush.
 */
export class Watcher {
  readonly #config: MirrorConfig;
  readonly #timing: WatchTiming;
  readonly #deps: WatcherDeps;
  readonly #now: () => number;
  readonly #view: TableView;
  readonly #coalescer: Coalescer;
  readonly #counters: WatchCounters = {
    events: 0,
    applies: 0,
    changingApplies: 0,
    overruns: 0,
    resyncs: 0,
    conflicts: 0,
    failedApplies: 0,
    malformed: 0,
    droppedForeign: 0,
    fights: 0,
    undone: 0,
  };
  readonly #fights: FightDetector;
  /** The request socket's port id ({@linkcode DaemonStore.port}): the sender of our echoes. */
  readonly #ownPort: number;
  /** The prefix and table of every copy the fight detector knows, by the copy's key. */
  readonly #fightPrefixes = new Map<string, Prefix & Pick<Route, "table">>();
  /**
   * Writers seen deleting routes that are not ours in a target table (`table port` → when):
   * their deletes of our copies within the fight window are part of a flush of that table.
   */
  readonly #flushers = new Map<string, number>();
  /**
   * Copies the kernel removed by itself while their table was held for flushes: that hold does
   * not keep them out (until a flush deletes them again). Emptied when nothing is held.
   */
  readonly #kernelRemoved = new Set<string>();
  #stopping = false;
  /** Why a full resync was asked for from outside (SIGHUP), until the loop does it. */
  #resyncRequest: string | undefined;
  #nextResync: number | undefined;
  #retryAt: number | undefined;
  #retryDelay: number;
  #nextWatchdog: number | undefined;
  /** When `onApply` was last called, and the apply it has not been told about yet. */
  #lastReport: number | undefined;
  #unreported: ApplyRecord | undefined;
  /** The conflicts of the last plans, by table and prefix, so each is reported once. */
  readonly #conflicts = new Map<string, Conflict>();
  /** The prefixes already reported as outside the local address space. */
  readonly #outsideWarned = new Set<string>();
  /**
   * What changed since the last apply: the destination prefixes touched by route events, or
   * `"all"` when something can affect every copy (links, addresses, foreign routes in a target
   * table, a resync). An apply plans only the touched prefixes when it can.
   */
  #dirty: PrefixSet | "all" = "all";

  /** Creates the daemon; nothing happens until {@linkcode Watcher.run}. */
  constructor(config: MirrorConfig, timing: WatchTiming, deps: WatcherDeps) {
    this.#config = config;
    this.#timing = timing;
    this.#deps = deps;
    this.#now = deps.now ?? (() => performance.now());
    this.#view = new TableView({
      tables: [config.source, ...config.tables],
      protocol: config.protocol,
    });
    this.#coalescer = new Coalescer({ coalesceMs: timing.coalesceMs, maxWaitMs: timing.maxWaitMs });
    this.#fights = new FightDetector(deps.fights);
    this.#ownPort = deps.client.port;
    this.#retryDelay = FIRST_RETRY_MS;
  }

  /** The counters so far. */
  get counters(): Readonly<WatchCounters> {
    return { ...this.#counters, droppedForeign: this.#deps.events.droppedForeign };
  }

  /** Asks the loop to end; safe from a signal handler. */
  stop(): void {
    this.#stopping = true;
    this.#deps.events.wake();
  }

  /**
   * Asks for a full resync (dump everything, plan every copy) as soon as the loop is free; safe
   * from a signal handler (SIGHUP). `reason` goes into the log.
   */
  resync(reason: string): void {
    this.#resyncRequest ??= reason;
    this.#deps.events.wake();
  }

  /** Whether a source-table route can ever be mirrored, whatever the links (static checks). */
  #candidate(route: Route): boolean {
    const reason = sourceExclusion(route, NO_LINKS, this.#config);
    return reason === undefined || reason === "unknown-interface";
  }

  /** Loads links, addresses and every tracked table from full dumps. */
  #resync(): void {
    const { client, log } = this.#deps;
    const started = this.#now();
    this.#view.reset("links", client.links());
    this.#view.reset("addresses", client.addresses());
    this.#view.reset("nexthops", client.nexthops?.() ?? []);
    const routes: Route[] = [];
    const families = this.#config.families;
    const source = client.routes({
      table: this.#config.source,
      family: families.length === 1 ? families[0] : undefined,
      mustExist: true,
    });
    for (const route of source) if (this.#candidate(route)) routes.push(lean(route));
    for (const table of this.#config.tables) {
      for (const route of client.routes({ table })) routes.push(lean(route));
    }
    this.#view.reset("routes", routes);
    this.#dirty = "all";
    this.#counters.resyncs++;
    this.#scheduleResync();
    log.debug("Full dump loaded", {
      routes: routes.length,
      durationMs: logMs(this.#now() - started),
    });
  }

  #scheduleResync(): void {
    this.#nextResync = this.#timing.resyncIntervalS > 0
      ? this.#now() + this.#timing.resyncIntervalS * 1000
      : undefined;
  }

  /** Plans every copy, or with `prefixes` only the copies of those destination prefixes. */
  #plan(prefixes?: readonly Prefix[]): Plan {
    const { source, protocol, tables } = this.#config;
    const links = [...this.#view.links().values()];
    const nexthops = this.#view.nexthops();
    const addresses = this.#view.addresses();
    if (prefixes === undefined) {
      const targets = new Map(tables.map((t) => [t, this.#view.routes(t)]));
      return planSync({
        ...planInput(
          { source: this.#view.routes(source), targets, links, nexthops, addresses },
          this.#config,
        ),
        order: "any",
      });
    }
    // The plan of some prefixes: their source routes and copies, and every foreign route of the
    // target tables (they decide the VPN's devices and the conflicts). Duplicates and conflicts
    // are per prefix, so this is the full plan restricted to those prefixes.
    // Indexed loops and no object per prefix: this runs on cold code for every prefix of a
    // burst (for-of, destructured entries and per-call closures were ~1.1 KB of garbage each).
    const sourceRoutes: Route[] = [];
    const targetRoutes = tables.map((table) => [...this.#view.foreignRoutes(table)]);
    const view = this.#view;
    for (let i = 0; i < prefixes.length; i++) {
      const prefix = prefixes[i];
      view.collectWithPrefix(source, prefix, sourceRoutes);
      for (let t = 0; t < tables.length; t++) {
        view.collectWithPrefix(tables[t], prefix, targetRoutes[t], protocol);
      }
    }
    const targets = new Map(tables.map((table, t) => [table, targetRoutes[t]]));
    // Its changes are applied and counted, never listed: in the order of their candidates.
    return planSync({
      ...planInput({ source: sourceRoutes, targets, links, nexthops, addresses }, this.#config),
      order: "any",
    });
  }

  /** Marks what an event touched (see {@linkcode Watcher.#dirty}). */
  #touch(route?: Prefix): void {
    if (this.#dirty === "all") return;
    if (route === undefined || this.#config.includeGatewayRoutes) {
      this.#dirty = "all";
      return;
    }
    // The route itself stands for its prefix: no object or key per event.
    this.#dirty.add(route);
  }

  /** Plans from the view (after a full dump if needed) and applies; never throws kernel errors. */
  #apply(forceResync: boolean): void {
    const { client, log } = this.#deps;
    const started = this.#now();
    this.#coalescer.onApplyStart(started);
    let summary: ApplyRecord | undefined;
    try {
      const resync = forceResync || this.#view.needsResync !== undefined;
      if (resync) {
        if (this.#view.needsResync) {
          log.debug("Resync: {reason}", { reason: this.#view.needsResync });
        }
        this.#resync();
      }
      const dirty = resync ? "all" : this.#dirty;
      this.#dirty = new PrefixSet();
      const plan = this.#plan(dirty === "all" ? undefined : dirty.members);
      this.#trackConflicts(plan, dirty);
      this.#warnOutsideLocalSpace(plan);
      const changes = this.#withoutHeld(planChanges(plan), started);
      const results = client.apply(changes);
      if (this.#deps.events.ownIpv4RoutesDropped) this.#applyOwn(results);
      summary = this.#summarise(plan, results, started, resync);
      this.#report(results, summary);
    } catch (e) {
      // A source table missing at start is a configuration error; later, a passing state.
      if (e instanceof MissingTableError && this.#counters.applies === 0) throw e;
      this.#counters.failedApplies++;
      this.#dirty = "all";
      this.#view.requestResync("an apply failed");
      this.#scheduleRetry();
      log.warn("Apply failed: {error}; will retry", { error: errorText(e) });
    } finally {
      this.#coalescer.onApplyEnd(this.#now());
    }
    if (summary) this.#publish(summary);
  }

  /**
   * Puts our accepted IPv4 changes into the view in the order they were made, as their
   * notifications would (the event socket's filter drops those): the kernel notifies each
   * accepted IPv4 change once, an add with `NLM_F_CREATE | NLM_F_EXCL`, a replace with
   * `NLM_F_REPLACE` (or, when the slot had emptied, as an add: the view's replace of an empty
   * slot is that add), a delete with the route deleted.
   */
  #applyOwn(results: readonly ChangeResult[]): void {
    for (let i = 0; i < results.length; i++) {
      const { change, error } = results[i];
      const route = change.route;
      if (error || route.family !== AF.INET) continue;
      if (change.op === "delete") this.#view.applyRoute("del", route, 0);
      else {
        const flags = change.op === "replace" ? NLM_F.REPLACE : NLM_F.CREATE | NLM_F.EXCL;
        this.#view.applyRoute("new", lean(route), flags);
      }
    }
  }

  /** Reports `summary` through `onApply` now, or at the end of the current report interval. */
  #publish(summary: ApplyRecord): void {
    if (!this.#deps.onApply) return;
    const now = this.#now();
    if (this.#lastReport !== undefined && now - this.#lastReport < REPORT_INTERVAL_MS) {
      this.#unreported = summary;
      return;
    }
    this.#lastReport = now;
    this.#unreported = undefined;
    this.#deps.onApply?.(this.counters, summary);
  }

  /** `changes` without the adds of copies held back by a fight (deletes always go through). */
  #withoutHeld(changes: RouteChange[], now: number): RouteChange[] {
    if (!this.#fights.holding) return changes;
    return changes.filter((c) =>
      c.op !== "add" ||
      !(this.#fights.held(routeKey(c.route), now) ||
        (this.#fights.held(flushKey(c.route.table), now) &&
          !this.#kernelRemoved.has(routeKey(c.route))))
    );
  }

  /** A fight log line's tally: the undos within the window, and how the last one came. */
  #undoFigures(verdict: UndoVerdict, how: string): { count: number; windowS: number; how: string } {
    return { count: verdict.count, windowS: this.#fights.windowMs / 1000, how };
  }

  /** A fight warning's hold: how long the copies are left alone now, and at the most. */
  #holdFigures(verdict: UndoVerdict): { backoffMs?: number; maxS: number } {
    return { backoffMs: verdict.backoffMs, maxS: this.#fights.maxBackoffMs / 1000 };
  }

  /**
   * Someone else undid our copy `route` (`how`): feeds the fight detector (per copy: its kernel
   * identity, so `fe80::/64` on two devices are two copies), and warns once when that starts a
   * fight.
   */
  #undone(route: Route, how: string, now: number): void {
    this.#counters.undone++;
    const key = routeKey(route);
    const { family, dst, dstLen, table } = route;
    this.#fightPrefixes.set(key, { family, dst, dstLen, table });
    const verdict = this.#fights.undone(key, now, how);
    this.#logUndo(verdict, how, {
      dst: `${route.dst}/${route.dstLen}`,
      table: route.table,
      oif: route.oif,
    }, {
      debug: "Copy of {dst} undone ({count} within {windowS} s), {how}",
      warn: "Fight over {dst} in table {table}: its copy was undone {count} times within " +
        "{windowS} s, last {how}; leaving that prefix alone for {backoffMs} ms, then backing off " +
        "up to {maxS} s while it goes on. Another writer (a second linkmirror, a network manager " +
        "with foreign-route cleanup, a script) is removing linkmirror's copies",
    });
  }

  /**
   * Another writer flushed target table `table`: one undo of the table (one burst: the flush's
   * rounds, its IPv4 and IPv6 halves), however many copies went. Repeated more than the
   * threshold within the window, it is a fight over the whole table: every copy of it is held.
   */
  #flushed(table: number, how: string, now: number): void {
    const verdict = this.#fights.undone(flushKey(table), now, how, "flush");
    this.#logUndo(verdict, how, { table }, {
      debug: "Table {table} flushed ({count} within {windowS} s), {how}",
      warn: "Fight over table {table}: it was flushed {count} times within {windowS} s, last " +
        "{how}; leaving its copies alone for {backoffMs} ms, then backing off up to {maxS} s " +
        "while it goes on. Another writer is flushing that table in a loop",
    });
  }

  /**
   * Logs one undo at DEBUG with its figures; when it starts a fight, counts the fight and WARNs
   * once, with the hold as well. `fields` name what was undone (a copy, or a table).
   */
  #logUndo(
    verdict: UndoVerdict,
    how: string,
    fields: Record<string, unknown>,
    messages: { debug: string; warn: string },
  ): void {
    const figures = { ...fields, ...this.#undoFigures(verdict, how) };
    this.#deps.log.debug(messages.debug, figures);
    if (!verdict.started) return;
    this.#counters.fights++;
    this.#deps.log.warn(messages.warn, { ...figures, ...this.#holdFigures(verdict) });
  }

  /** Whether the view holds our copy `key` (of `copy`'s prefix and table). */
  #hasCopy(key: string, copy: Prefix & Pick<Route, "table">): boolean {
    return this.#view.routesWithPrefix(copy)
      .some((r) => r.protocol === this.#config.protocol && routeKey(r) === key);
  }

  /**
   * Sorts a batch's deletes of our copies into undos and flushes, forgets the copies the kernel
   * removed by itself (with or without a notification), and feeds the fight detector.
   */
  #settleUndos(batch: BatchUndos, present: Set<string>, now: number): void {
    for (const [k, at] of this.#flushers) {
      if (at <= now - this.#fights.windowMs) this.#flushers.delete(k);
    }
    // A writer that deletes several of our copies at once is flushing them too.
    const perWriter = new Map<string, number>();
    for (const { copy, port } of batch.deletes) {
      const writer = `${copy.table} ${port}`;
      perWriter.set(writer, (perWriter.get(writer) ?? 0) + 1);
    }
    for (const [writer, n] of perWriter) if (n > 1) this.#flushers.set(writer, now);
    for (const { copy, port } of batch.deletes) {
      const how = `deleted by netlink port ${port} (usually that writer's pid)`;
      if (this.#flushers.has(`${copy.table} ${port}`)) {
        batch.flushes.set(copy.table, how);
        this.#kernelRemoved.delete(routeKey(copy));
      } else batch.copies.set(routeKey(copy), { copy, how });
    }
    // Copies the kernel removed silently (IPv4 routes of a link gone down, of its last address):
    // the view dropped them on the link or address event.
    if (batch.linksOrAddresses) {
      for (const key of present) {
        const copy = this.#fightPrefixes.get(key);
        if (copy && !batch.copies.has(key) && !this.#hasCopy(key, copy)) batch.kernel.add(key);
      }
    }
    for (const key of batch.kernel) {
      if (batch.copies.has(key)) continue;
      this.#fights.forget(key);
      if (this.#fights.holding) this.#kernelRemoved.add(key);
      this.#fightPrefixes.delete(key);
    }
    for (const [table, how] of batch.flushes) this.#flushed(table, how, now);
    for (const { copy, how } of batch.copies.values()) this.#undone(copy, how, now);
  }

  /** Ends the fight holds due at `now`: their prefixes are planned again. */
  #expireHolds(now: number): boolean {
    const ended = this.#fights.expire(now);
    if (!this.#fights.holding) this.#kernelRemoved.clear();
    for (const key of ended) {
      const prefix = this.#fightPrefixes.get(key);
      if (prefix) this.#touch(prefix);
      else this.#touch();
    }
    for (const key of this.#fightPrefixes.keys()) {
      if (!this.#fights.known(key)) this.#fightPrefixes.delete(key);
    }
    return ended.length > 0;
  }

  /**
   * Updates the known conflicts from a plan of `dirty` (every prefix, or some) and logs each new
   * one once, at WARN.
   */
  #trackConflicts(plan: Plan, dirty: PrefixSet | "all"): void {
    const key = (table: number, route: Route) => `${table} ${prefixKey(route)}`;
    const before = new Set(this.#conflicts.keys());
    if (dirty === "all") this.#conflicts.clear();
    else {
      for (const [k, c] of this.#conflicts) {
        if (dirty.has(c.wanted)) this.#conflicts.delete(k);
      }
    }
    for (const c of plan.conflicts) {
      const k = key(c.table, c.wanted);
      this.#conflicts.set(k, c);
      if (before.has(k)) continue;
      logConflict(this.#deps.log, c);
    }
  }

  /** WARNs once per prefix about source routes refused as outside the local address space. */
  #warnOutsideLocalSpace(plan: Plan): void {
    for (const e of plan.excluded) {
      if (e.reason !== "outside-local-space") continue;
      const dst = `${e.route.dst}/${e.route.dstLen}`;
      if (this.#outsideWarned.has(dst)) continue;
      this.#outsideWarned.add(dst);
      logOutsideLocalSpace(this.#deps.log, e);
    }
  }

  #summarise(
    plan: Plan,
    results: readonly ChangeResult[],
    started: number,
    resync: boolean,
  ): ApplyRecord {
    const { added, replaced, deleted, failed } = applyCounts(plan, results);
    return {
      added,
      replaced,
      deleted,
      failed,
      conflicts: this.#conflicts.size,
      durationMs: logMs(this.#now() - started),
      resync,
      at: Date.now(),
    };
  }

  #report(results: readonly ChangeResult[], s: ApplyRecord): void {
    const { log } = this.#deps;
    this.#counters.applies++;
    this.#counters.conflicts = this.#conflicts.size;
    // A line per change at DEBUG: its fields built only when DEBUG is written (a burst is 10k).
    const debug = log.enabled?.("debug") ?? true;
    // Without DEBUG and failures there is nothing to log: no walk over a burst's 10k results.
    const count = debug || s.failed > 0 ? results.length : 0;
    for (let i = 0; i < count; i++) {
      const r = results[i];
      if (!r.error && !debug) continue;
      const route = r.change.route;
      const fields = {
        op: r.change.op,
        dst: `${route.dst}/${route.dstLen}`,
        oif: route.oif,
        table: route.table,
      };
      if (r.error) {
        log.warn("Could not {op} {dst} in table {table}: {error}", {
          ...fields,
          error: r.error.message,
          code: r.error.code,
        });
      } else log.debug("{op} {dst} in table {table}", fields);
    }
    if (s.failed > 0) {
      this.#counters.failedApplies++;
      // The view may be wrong about what failed (e.g. a link went down in between): re-read.
      this.#dirty = "all";
      this.#view.requestResync("a change failed");
      this.#scheduleRetry();
    } else {
      this.#retryAt = undefined;
      this.#retryDelay = FIRST_RETRY_MS;
    }
    if (s.added + s.replaced + s.deleted + s.failed > 0) {
      this.#counters.changingApplies++;
      log.info(
        "Applied: {added} added, {replaced} replaced, {deleted} deleted, {conflicts} conflicts",
        { ...s },
      );
    } else {
      log.debug("Nothing to change", { ...s });
    }
  }

  #scheduleRetry(): void {
    this.#retryAt = this.#now() + this.#retryDelay;
    this.#retryDelay = Math.min(this.#retryDelay * 2, MAX_RETRY_MS);
  }

  /** Reads every queued event into the view; tells the coalescer about the ones that matter. */
  #drain(): void {
    const { events, log } = this.#deps;
    const batch = events.drain();
    const now = this.#now();
    this.#counters.events += batch.messages;
    if (batch.overrun) {
      this.#touch();
      this.#counters.overruns++;
      this.#view.requestResync("receive buffer overrun (ENOBUFS)");
      log.warn("Events were lost (receive buffer overrun); resyncing", {
        overruns: this.#counters.overruns,
      });
      this.#coalescer.onEvent(now);
    }
    // Undone copies: one undo per copy per batch, however many events say so.
    const undos: BatchUndos = {
      copies: new Map(),
      flushes: new Map(),
      kernel: new Set(),
      deletes: [],
      linksOrAddresses: false,
    };
    // The copies the fight detector knows that are in place before the batch.
    const present = new Set<string>();
    for (const [key, copy] of this.#fightPrefixes) if (this.#hasCopy(key, copy)) present.add(key);
    // Whether an event other than an echo changed the view: one note to the coalescer per batch
    // (the events of a batch share their time; echoes schedule nothing).
    let news = false;
    // Indexed: a for-of on cold code makes an iterator result per event.
    const { events: list } = batch;
    for (let i = 0; i < list.length; i++) {
      const event = list[i];
      let changed = false;
      let echo = false;
      switch (event.kind) {
        case "malformed":
          this.#counters.malformed++;
          log.warn("Ignored a malformed event: {error}", { error: event.error });
          continue;
        case "route": {
          const route = event.route;
          const replaced = this.#replaceCandidates(event.op, route, event.flags);
          changed = this.#applyRoute(event.op, route, event.flags);
          if (!changed) break;
          const ours = route.protocol === this.#config.protocol;
          // Our own change coming back, known by its sender without comparing routes.
          echo = ours && event.port === this.#ownPort && event.port !== 0;
          if (!echo) this.#noteUndo(event.op, route, event.port, replaced, undos, now);
          // Our own change coming back leaves its prefix as planned: nothing to re-plan. A foreign
          // route in a target table can change the VPN's devices: plan everything.
          if (!echo) this.#touch(route.table === this.#config.source || ours ? route : undefined);
          break;
        }
        case "link":
          changed = this.#view.applyLink(event.op, event.link);
          if (changed) this.#touch();
          undos.linksOrAddresses ||= changed;
          break;
        case "address":
          changed = this.#view.applyAddress(event.op, event.address);
          if (changed) this.#touch();
          undos.linksOrAddresses ||= changed;
          break;
        case "nexthop":
          // An object's change can make every route using it (in)eligible.
          changed = this.#view.applyNexthop(event.op, event.nexthop);
          if (changed) this.#touch();
          break;
        case "rule":
          continue;
      }
      news ||= changed && !echo;
    }
    if (news) this.#coalescer.onEvent(now);
    this.#settleUndos(undos, present, now);
  }

  /**
   * Our copies that a foreign `NLM_F_REPLACE` in a target table may replace: those of its prefix
   * and table, before the event reaches the view. Empty for any other event.
   */
  #replaceCandidates(op: "new" | "del", route: Route, flags: number): readonly Route[] {
    if (op !== "new" || (flags & NLM_F.REPLACE) === 0) return NO_ROUTES;
    if (route.protocol === this.#config.protocol || !this.#config.tables.includes(route.table)) {
      return NO_ROUTES;
    }
    return this.#view.routesWithPrefix(route).filter((r) => r.protocol === this.#config.protocol);
  }

  /**
   * Notes what a route event (not our echo) did to our copies in a target table: a delete of a
   * copy by another writer (an undo, or part of a flush: sorted once the batch is read), a
   * delete of a foreign route (its writer may be flushing the table), the kernel's own delete of
   * a copy (port 0: a link went down, an address went away; no undo), or a foreign replace that
   * evicted `replaced` copies (those the view no longer holds: the view knows the kernel's
   * replace rules).
   */
  #noteUndo(
    op: "new" | "del",
    route: Route,
    port: number,
    replaced: readonly Route[],
    undos: BatchUndos,
    now: number,
  ): void {
    if (!this.#config.tables.includes(route.table)) return;
    const ours = route.protocol === this.#config.protocol;
    if (op === "del") {
      if (port === 0) {
        if (ours) undos.kernel.add(routeKey(route));
      } else if (ours) undos.deletes.push({ copy: route, port });
      else this.#flushers.set(`${route.table} ${port}`, now);
      return;
    }
    for (const copy of replaced) {
      const key = routeKey(copy);
      if (this.#hasCopy(key, copy)) continue;
      const how = `replaced by ${describeRoute(route)} proto ${route.protocol}` +
        (port !== 0 ? ` from netlink port ${port}` : "");
      undos.copies.set(key, { copy, how });
    }
  }

  /** Feeds a route event to the view; non-candidates of the source table are not kept. */
  #applyRoute(op: "new" | "del", route: Route, flags: number): boolean {
    if (route.table !== this.#config.source || this.#candidate(route)) {
      return this.#view.applyRoute(op, lean(route), flags);
    }
    // A route that can never be mirrored; a replace of it may still evict a candidate.
    if (op === "new" && (flags & NLM_F.REPLACE) !== 0) {
      const evicted = this.#view.applyRoute("new", route, flags);
      this.#view.applyRoute("del", route, 0);
      return evicted;
    }
    return false;
  }

  /** The next time the loop must wake up without an event, or undefined to sleep until one. */
  #deadline(): number | undefined {
    if (this.#resyncRequest !== undefined) return this.#now();
    // Called on every turn of the loop: no array per turn.
    let next = earliest(this.#coalescer.nextDeadline(), this.#nextResync);
    next = earliest(next, this.#retryAt);
    next = earliest(next, this.#fights.nextExpiry());
    next = earliest(next, this.#nextWatchdog);
    if (this.#unreported && this.#lastReport !== undefined) {
      next = earliest(next, this.#lastReport + REPORT_INTERVAL_MS);
    }
    return next;
  }

  /** Runs until stopped. */
  async run(): Promise<void> {
    const { events, log, watchdog } = this.#deps;
    // The event socket is already subscribed: the dump below cannot miss a change.
    this.#apply(true);
    this.#deps.onReady?.();
    log.info("Watching", {
      tables: this.#config.tables,
      source: this.#config.source,
      protocol: this.#config.protocol,
    });
    if (watchdog) this.#nextWatchdog = this.#now() + watchdog.intervalMs;

    let applied = false;
    let syncTurns = 0;
    while (!this.#stopping) {
      const deadline = this.#deadline();
      const now = this.#now();
      if (applied && syncTurns < MAX_SYNC_TURNS) {
        // Right after an apply: its echoes are queued already; read them without waiting.
        syncTurns++;
        this.#drain();
      } else if (deadline === undefined || deadline > now) {
        syncTurns = 0;
        const result = await events.wait(
          deadline === undefined ? undefined : Math.max(1, Math.ceil(deadline - now)),
        );
        if (this.#stopping) break;
        if (result === "readable") this.#drain();
      } else {
        // Due already: still take in what is queued, so the apply sees it (group commit).
        syncTurns = 0;
        this.#drain();
      }
      applied = false;
      this.#deps.onTick?.();
      const t = this.#now();
      if (watchdog && this.#nextWatchdog !== undefined && t >= this.#nextWatchdog) {
        watchdog.ping();
        this.#nextWatchdog = t + watchdog.intervalMs;
      }
      if (this.#unreported && t - (this.#lastReport ?? -Infinity) >= REPORT_INTERVAL_MS) {
        this.#publish(this.#unreported);
      }
      const requested = this.#resyncRequest;
      if (requested !== undefined) {
        this.#resyncRequest = undefined;
        log.info("{reason}: full resync", { reason: requested });
      }
      if (this.#expireHolds(t)) this.#coalescer.onEvent(t);
      const resyncDue = requested !== undefined ||
        (this.#nextResync !== undefined && t >= this.#nextResync);
      const retryDue = this.#retryAt !== undefined && t >= this.#retryAt;
      if (!(resyncDue || retryDue || this.#coalescer.due(t))) continue;
      if (retryDue) this.#retryAt = undefined;
      this.#apply(resyncDue);
      applied = true;
    }
  }

  /** Deletes every copy linkmirror owns in the target tables (for `--flush-on-exit`). */
  flush(): ChangeResult[] {
    const { client } = this.#deps;
    return client.apply(flushChanges(client, this.#config));
  }
}

/**
 * A route without its unmodelled attributes (cache info, metrics): the view and the planner do not
 * use them, and they are views into the received datagram, which they would keep alive.
 */
function lean(route: Route): Route {
  if (route.other === undefined) return route;
  const { other: _other, ...rest } = route;
  return rest;
}

/** No routes: what most events' {@linkcode Watcher.#replaceCandidates} return, not a new array. */
const NO_ROUTES: readonly Route[] = Object.freeze([]);

/** The earlier of two optional times. */
function earliest(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  return b === undefined || a <= b ? a : b;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
