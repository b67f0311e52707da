import { deepEqual, equal } from "node:assert/strict";
import type { MirrorConfig } from "../../src/engine/config.ts";
import { applyCounts, flushChanges, planChanges, reconcile } from "../../src/engine/reconcile.ts";
import { NetlinkError } from "../../src/netlink/errors.ts";
import type { Link } from "../../src/netlink/link.ts";
import type { Route } from "../../src/netlink/route.ts";
import type { Address } from "../../src/netlink/address.ts";
import type { ChangeResult, RouteChange, RouteFilter, RouteStore } from "../../src/rtnl/client.ts";
import { route as lanRoute } from "../_fixtures/routes.ts";

/** A route of the LAN (192.168.1.0/24 via link 2, `proto kernel`), overridden by `over`. */
const route = (over: Partial<Route>): Route =>
  lanRoute(254, "192.168.1.0/24", { protocol: 2, scope: 253, oif: 2, ...over });

/**
 * A kernel's routes. Like a kernel without strict dump checking, it filters a dump by table and
 * family but NOT by protocol: foreign routes come back too, so the product's own protocol filter
 * is what is tested.
 */
class FakeStore implements RouteStore {
  queries: RouteFilter[] = [];
  applied: RouteChange[] = [];
  constructor(readonly all: Route[], readonly fail = new Set<string>()) {}
  routes(filter: RouteFilter): Route[] {
    this.queries.push(filter);
    return this.all.filter((r) =>
      (filter.table === undefined || r.table === filter.table) &&
      (filter.family === undefined || r.family === filter.family)
    );
  }
  links(): Link[] {
    return [{ index: 2, name: "eth0", flags: 0x11043, type: 1 }, {
      index: 9,
      name: "tun0",
      flags: 0x11091,
      type: 65534,
    }];
  }
  addresses(): Address[] {
    return [];
  }
  apply(changes: readonly RouteChange[]): ChangeResult[] {
    this.applied.push(...changes);
    return changes.map((change) => ({
      change,
      error: this.fail.has(change.route.dst) ? new NetlinkError("add route", 100) : null,
    }));
  }
}

const config: MirrorConfig = {
  tables: [100],
  source: 254,
  protocol: 77,
  families: [2],
  exclude: [],
  excludeDevices: [],
};

Deno.test("reconcile reads source and targets, adds, then deletes stale copies (make before break)", () => {
  const stale = route({ table: 100, dst: "10.9.0.0", protocol: 77 });
  const store = new FakeStore([
    route({}),
    route({ table: 100, dst: "0.0.0.0", dstLen: 0, oif: 9, protocol: 3 }),
    stale,
  ]);
  const { plan, results } = reconcile(store, config);
  deepEqual(store.applied.map((c) => `${c.op} ${c.route.dst}`), [
    "add 192.168.1.0",
    "delete 10.9.0.0",
  ]);
  deepEqual(planChanges(plan), store.applied);
  deepEqual(applyCounts(plan, results), {
    added: 1,
    replaced: 0,
    deleted: 1,
    failed: 0,
    conflicts: 0,
    unchanged: 0,
  });
  deepEqual(store.queries, [{ table: 254, family: 2, mustExist: true }, { table: 100 }]);
});

Deno.test("reconcile times the read, the plan and the apply each on their own", () => {
  // A clock that only the store moves: each dump costs 5, the links and addresses 1 each, the
  // apply 30; planning takes no time on it.
  let clock = 1000;
  class TimedStore extends FakeStore {
    override routes(filter: RouteFilter): Route[] {
      clock += 5;
      return super.routes(filter);
    }
    override links(): Link[] {
      clock += 1;
      return super.links();
    }
    override addresses(): Address[] {
      clock += 1;
      return super.addresses();
    }
    override apply(changes: readonly RouteChange[]): ChangeResult[] {
      clock += 30;
      return super.apply(changes);
    }
  }
  const target = route({ table: 100, dst: "0.0.0.0", dstLen: 0, oif: 9, protocol: 3 });
  const now = () => clock;
  const run = reconcile(new TimedStore([route({}), target]), config, { now });
  deepEqual(run.timings, { readMs: 12, planMs: 0, applyMs: 30 });
  const dry = reconcile(new TimedStore([route({}), target]), config, { now, dryRun: true });
  deepEqual(dry.timings, { readMs: 12, planMs: 0, applyMs: 0 });
});

Deno.test("planChanges: replaces, a delete that frees an add's slot, adds, then other deletes", () => {
  const lan = route({});
  const copy = (extra: Partial<Route>): Route => ({
    ...lan,
    table: 100,
    protocol: 77,
    priority: 2 ** 31,
    ...extra,
  });
  // Old version: a copy at the source metric (other key). Same key: another preferred source.
  const oldMetric = copy({ dst: "10.1.0.0", priority: undefined });
  const newMetric = copy({ dst: "10.1.0.0" });
  const oldSource = copy({ dst: "10.2.0.0", prefsrc: "10.2.0.9" });
  const newSource = copy({ dst: "10.2.0.0", prefsrc: "10.2.0.1" });
  const gone = copy({ dst: "10.3.0.0" });
  const inPlace = copy({ dst: "10.4.0.0", prefsrc: "10.4.0.1" });
  const plan = {
    adds: [newMetric, newSource],
    replaces: [{ from: copy({ dst: "10.4.0.0" }), to: inPlace }],
    deletes: [oldMetric, oldSource, gone],
    conflicts: [],
    excluded: [],
    unchanged: [],
  };
  deepEqual(planChanges(plan), [
    { op: "replace", route: inPlace },
    { op: "delete", route: oldSource },
    { op: "add", route: newMetric },
    { op: "add", route: newSource },
    { op: "delete", route: oldMetric },
    { op: "delete", route: gone },
  ]);
});

Deno.test("a dry run applies nothing; refused changes are counted as failed", () => {
  const store = new FakeStore([route({})], new Set(["192.168.1.0"]));
  equal(reconcile(store, config, { dryRun: true }).results.length, 0);
  equal(store.applied.length, 0);
  const { plan, results } = reconcile(store, config);
  equal(applyCounts(plan, results).failed, 1);
});

Deno.test("flushChanges deletes only routes carrying linkmirror's protocol", () => {
  const ours = route({ table: 100, protocol: 77 });
  const foreign = route({ table: 100, dst: "10.0.0.0", protocol: 4 });
  const store = new FakeStore([ours, foreign, route({ table: 200, protocol: 77 })]);
  // The store hands back the foreign route as well (it does not filter by protocol).
  deepEqual(store.routes({ table: 100, protocol: 77 }), [ours, foreign]);
  deepEqual(flushChanges(store, config), [{ op: "delete", route: ours }]);
});
