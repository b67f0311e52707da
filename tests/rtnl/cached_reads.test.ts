import { deepEqual, equal, notStrictEqual, throws } from "node:assert/strict";
import { AF } from "../../src/netlink/constants.ts";
import type { Route } from "../../src/netlink/route.ts";
import type { Rule } from "../../src/netlink/rule.ts";
import { CachedReads, type ReadSource } from "../../src/rtnl/cached_reads.ts";
import type { RouteFilter } from "../../src/rtnl/client.ts";
import { FIREZONE, link, route } from "../_fixtures/routes.ts";

/** A store that counts its reads; `fail` makes the next routes() throw. */
function countingStore(withNexthops = true) {
  const calls: string[] = [];
  let fail = false;
  const store: ReadSource = {
    routes(filter: RouteFilter): Route[] {
      calls.push(`routes ${JSON.stringify(filter)}`);
      if (fail) {
        fail = false;
        throw new Error("dump failed");
      }
      return [route(filter.table ?? 254, "10.0.0.0/24", { oif: 2 })];
    },
    links: () => (calls.push("links"), [link(2, "eth0", 0)]),
    addresses: () => (calls.push("addresses"), []),
    rules: (family: number): Rule[] => (calls.push(`rules ${family}`), []),
    apply: (changes) => (calls.push("apply"), changes.map((change) => ({ change, error: null }))),
    ...(withNexthops ? { nexthops: () => (calls.push("nexthops"), []) } : {}),
  };
  return { store, calls, failNext: () => (fail = true) };
}

Deno.test("each read goes to the source once, each call gets its own array", () => {
  const { store, calls } = countingStore();
  const cached = new CachedReads(store);
  const a = cached.routes({ table: FIREZONE });
  const b = cached.routes({ table: FIREZONE });
  deepEqual(a, b);
  notStrictEqual(a, b);
  equal(a[0], b[0]); // the routes themselves are shared
  cached.routes({ table: FIREZONE, mustExist: true });
  cached.routes({ table: FIREZONE, family: AF.INET });
  cached.routes({ table: 254 });
  cached.links();
  cached.links();
  cached.rules(AF.INET);
  cached.rules(AF.INET);
  cached.rules(AF.INET6);
  cached.addresses();
  cached.addresses();
  cached.nexthops!();
  cached.nexthops!();
  deepEqual(calls, [
    `routes {"table":${FIREZONE}}`,
    `routes {"table":${FIREZONE},"mustExist":true}`,
    `routes {"table":${FIREZONE},"family":2}`,
    `routes {"table":254}`,
    "links",
    "rules 2",
    "rules 10",
    "addresses",
    "nexthops",
  ]);
});

Deno.test("apply goes through and forgets what was read; failed reads are made again", () => {
  const { store, calls, failNext } = countingStore();
  const cached = new CachedReads(store);
  failNext();
  throws(() => cached.routes({ table: 254 }), /dump failed/);
  cached.routes({ table: 254 });
  cached.links();
  const change = { op: "add" as const, route: route(FIREZONE, "10.0.0.0/24") };
  deepEqual(cached.apply([change]), [{ change, error: null }]);
  cached.routes({ table: 254 });
  cached.links();
  deepEqual(calls, [
    `routes {"table":254}`,
    `routes {"table":254}`,
    "links",
    "apply",
    `routes {"table":254}`,
    "links",
  ]);
});

Deno.test("without the source's nexthops there are none to read", () => {
  equal(new CachedReads(countingStore(false).store).nexthops, undefined);
});
