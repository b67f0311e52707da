import { deepEqual, equal, ok } from "node:assert/strict";
import { log as logger, type Logger } from "../../src/log.ts";
import type { DaemonStore, EventSource } from "../../src/daemon/watcher.ts";
import { Watcher } from "../../src/daemon/watcher.ts";
import type { Address } from "../../src/netlink/address.ts";
import type { EventBatch } from "../../src/netlink/conn.ts";
import { RTM } from "../../src/netlink/constants.ts";
import { NetlinkError } from "../../src/netlink/errors.ts";
import type { Link } from "../../src/netlink/link.ts";
import type { Message } from "../../src/netlink/message.ts";
import { encodeRoute, type Route } from "../../src/netlink/route.ts";
import type { WaitResult } from "../../src/netlink/transport.ts";
import type { ChangeResult, RouteChange, RouteFilter } from "../../src/rtnl/client.ts";
import { routeKey } from "../../src/planner/route_identity.ts";

const VPN = 539098368;
const LINKS: Link[] = [
  { index: 1, name: "lo", flags: 0x9, type: 772 },
  { index: 2, name: "lan0", flags: 0x11043, type: 1 },
  { index: 3, name: "tun0", flags: 0x11091, type: 65534 },
];

function route(over: Partial<Route>): Route {
  return {
    family: 2,
    table: 254,
    dst: "192.168.188.0",
    dstLen: 24,
    srcLen: 0,
    tos: 0,
    protocol: 2,
    scope: 253,
    type: 1,
    flags: 0,
    oif: 2,
    ...over,
  };
}

const lan = route({ prefsrc: "192.168.188.112" });
const vpnDefault = route({ table: VPN, dst: "0.0.0.0", dstLen: 0, oif: 3, protocol: 3 });

/** A kernel in memory: tables of routes, with every change echoed as an event. */
class FakeKernel implements DaemonStore {
  routesByTable = new Map<number, Route[]>();
  dumps = 0;
  applies: RouteChange[][] = [];
  failNext: NetlinkError | undefined;
  echo: Message[] = [];

  constructor(routes: Route[]) {
    for (const r of routes) this.add(r);
  }
  add(r: Route): void {
    this.routesByTable.set(r.table, [...(this.routesByTable.get(r.table) ?? []), r]);
  }
  remove(r: Route): void {
    const list = this.routesByTable.get(r.table) ?? [];
    this.routesByTable.set(r.table, list.filter((x) => routeKey(x) !== routeKey(r)));
  }
  routes(filter: RouteFilter): Route[] {
    this.dumps++;
    return [...this.routesByTable.values()].flat().filter((r) =>
      (filter.table === undefined || r.table === filter.table) &&
      (filter.family === undefined || r.family === filter.family) &&
      (filter.protocol === undefined || r.protocol === filter.protocol)
    );
  }
  links(): Link[] {
    return LINKS;
  }
  addresses(): Address[] {
    return [];
  }
  apply(changes: readonly RouteChange[]): ChangeResult[] {
    this.applies.push([...changes]);
    return changes.map((change) => {
      if (this.failNext) {
        const error = this.failNext;
        this.failNext = undefined;
        return { change, error };
      }
      if (change.op === "add") this.add(change.route);
      else this.remove(change.route);
      this.echo.push(event(change.op === "add" ? "new" : "del", change.route));
      return { change, error: null };
    });
  }
  table(t: number): string[] {
    return (this.routesByTable.get(t) ?? []).map((r) => `${r.dst}/${r.dstLen} ${r.protocol}`)
      .sort();
  }
}

function event(op: "new" | "del", r: Route, flags = 0): Message {
  return {
    header: { type: op === "new" ? RTM.NEWROUTE : RTM.DELROUTE, flags, seq: 0, pid: 0 },
    payload: encodeRoute(r),
  };
}

/**
 * A scripted event socket with a fake clock. Each step happens at a wait: it advances the clock
 * and either delivers messages or lets the wait time out. When the script is done, the watcher
 * is stopped.
 */
interface Step {
  after?: number;
  messages?: () => Message[];
  overrun?: boolean;
  /** Check run before the step is delivered. */
  check?: () => void;
}

function harness(
  kernel: FakeKernel,
  steps: Step[],
  timing = { coalesceMs: 50, maxWaitMs: 500, resyncIntervalS: 0 },
  log: Logger = logger("test"),
) {
  let clock = 1000;
  let pending: EventBatch = { messages: [], overrun: false };
  const waits: (number | undefined)[] = [];
  const self: { watcher?: Watcher } = {};
  const events: EventSource = {
    droppedForeign: 0,
    drainEvents() {
      const batch = { messages: [...kernel.echo, ...pending.messages], overrun: pending.overrun };
      kernel.echo = [];
      pending = { messages: [], overrun: false };
      return batch;
    },
    wait(timeoutMs?: number): Promise<WaitResult> {
      waits.push(timeoutMs);
      if (kernel.echo.length) return Promise.resolve("readable");
      const step = steps.shift();
      if (!step) {
        self.watcher?.stop();
        return Promise.resolve("woken");
      }
      step.check?.();
      if (step.messages || step.overrun) {
        clock += step.after ?? 0;
        pending = { messages: step.messages?.() ?? [], overrun: step.overrun ?? false };
        return Promise.resolve("readable");
      }
      clock += timeoutMs ?? 0;
      return Promise.resolve("timeout");
    },
    wake() {},
  };
  let ready = 0;
  const watcher = new Watcher(
    {
      tables: [VPN],
      source: 254,
      protocol: 77,
      families: [2, 10],
      exclude: [],
      excludeDevices: [],
    },
    timing,
    { events, client: kernel, now: () => clock, log, onReady: () => ready++ },
  );
  self.watcher = watcher;
  return { watcher, waits, ready: () => ready, now: () => clock };
}

Deno.test("the first full sync happens at start, before any event, then READY", async () => {
  const kernel = new FakeKernel([lan, vpnDefault]);
  const h = harness(kernel, []);
  await h.watcher.run();
  deepEqual(kernel.table(VPN), ["0.0.0.0/0 3", "192.168.188.0/24 77"]);
  equal(h.ready(), 1);
  equal(h.waits[0], undefined, "idle: the loop waits with no deadline at all");
});

Deno.test("one event is applied at once; our own echoes cause no second apply", async () => {
  const kernel = new FakeKernel([lan, vpnDefault]);
  const extra = route({ dst: "10.9.0.0" });
  const h = harness(kernel, [
    { after: 5000, messages: () => (kernel.add(extra), [event("new", extra)]) },
  ]);
  await h.watcher.run();
  deepEqual(kernel.table(VPN), ["0.0.0.0/0 3", "10.9.0.0/24 77", "192.168.188.0/24 77"]);
  equal(kernel.applies.length, 2, "start + the event; the echoes schedule nothing");
  equal(h.watcher.counters.applies, 2);
  ok(h.waits.every((w) => w === undefined), `never a timer: ${h.waits}`);
});

Deno.test("a burst is batched: first event at once, the rest in one apply after the quiet gap", async () => {
  const kernel = new FakeKernel([lan, vpnDefault]);
  const burst = Array.from({ length: 20 }, (_, i) => route({ dst: `10.${i}.0.0`, dstLen: 16 }));
  const h = harness(kernel, [
    { after: 5000, messages: () => (kernel.add(burst[0]), [event("new", burst[0])]) },
    ...burst.slice(1).map((r) => ({
      after: 5,
      messages: () => (kernel.add(r), [event("new", r)]),
    })),
    {}, // quiet: the pending batch's deadline passes
  ]);
  await h.watcher.run();
  equal(kernel.table(VPN).length, 22);
  // start, first event, then the rest after the quiet gap (one timer wait that expired).
  equal(kernel.applies.filter((a) => a.length > 0).length, 3);
});

Deno.test("an overrun forces a full dump of the tables", async () => {
  const kernel = new FakeKernel([lan, vpnDefault]);
  const lost = route({ dst: "10.77.0.0", dstLen: 16 });
  const h = harness(kernel, [
    { after: 100, overrun: true, check: () => kernel.add(lost) /* its event was lost */ },
  ]);
  await h.watcher.run();
  equal(h.watcher.counters.overruns, 1);
  equal(h.watcher.counters.resyncs, 2);
  ok(kernel.table(VPN).includes("10.77.0.0/16 77"), "the route whose event was lost is mirrored");
});

Deno.test("a copy deleted by someone else is put back", async () => {
  const kernel = new FakeKernel([lan, vpnDefault]);
  const h = harness(kernel, [
    {
      after: 1000,
      messages: () => {
        const copy = kernel.routesByTable.get(VPN)!.find((r) => r.protocol === 77)!;
        kernel.remove(copy);
        return [event("del", copy)];
      },
    },
  ]);
  await h.watcher.run();
  deepEqual(kernel.table(VPN), ["0.0.0.0/0 3", "192.168.188.0/24 77"]);
});

Deno.test("a failed apply is retried after max-wait, with a fresh dump", async () => {
  const kernel = new FakeKernel([lan, vpnDefault]);
  kernel.failNext = new NetlinkError("add route", 100);
  const h = harness(kernel, [{}, {}]);
  await h.watcher.run();
  equal(h.watcher.counters.failedApplies, 1);
  deepEqual(kernel.table(VPN), ["0.0.0.0/0 3", "192.168.188.0/24 77"]);
  equal(h.waits[0], 500, "the retry is scheduled max-wait later");
  equal(h.watcher.counters.resyncs, 2);
});

Deno.test("unrelated gateway routes in main schedule nothing", async () => {
  const kernel = new FakeKernel([lan, vpnDefault]);
  const gw = route({ dst: "172.16.0.0", dstLen: 12, gateway: "192.168.188.1", scope: 0 });
  const h = harness(kernel, [
    { after: 1000, messages: () => (kernel.add(gw), [event("new", gw)]) },
  ]);
  await h.watcher.run();
  equal(kernel.applies.length, 1, "only the start");
  equal(h.watcher.counters.events, 1 + 1 /* the start's echo */);
});

Deno.test("a writer that undoes every copy at once is not fought in a tight loop", async () => {
  const kernel = new FakeKernel([lan, vpnDefault]);
  const undo = (): Message[] => {
    const copy = kernel.routesByTable.get(VPN)?.find((r) => r.protocol === 77);
    if (!copy) return [];
    kernel.remove(copy);
    return [event("del", copy)];
  };
  // Every 10 ms for 2 s of fake time, the copy is deleted again.
  const steps: Step[] = Array.from({ length: 200 }, () => ({ after: 10, messages: undo }));
  const h = harness(kernel, steps, { coalesceMs: 0, maxWaitMs: 100, resyncIntervalS: 0 });
  await h.watcher.run();
  const applies = kernel.applies.filter((a) => a.length > 0).length;
  ok(applies <= 1 + 2 * 20 + 1, `${applies} applies in 2 s`);
  ok(applies >= 20, `it still repairs, at the bounded rate: ${applies}`);
  ok(h.watcher.counters.throttled >= 1);
});

Deno.test("a conflict is reported once, and events on other prefixes do not repeat it", async () => {
  const held = route({ table: VPN, dst: "10.20.0.0", oif: 3, protocol: 4 });
  const kernel = new FakeKernel([lan, vpnDefault, route({ dst: "10.20.0.0" }), held]);
  const warnings: string[] = [];
  const quiet = () => {};
  // The watcher logs with debug, info and warn only.
  const log = {
    debug: quiet,
    info: quiet,
    warn: (message: string) => warnings.push(message),
  } as unknown as Logger;
  const other = route({ dst: "10.30.0.0" });
  const h = harness(
    kernel,
    [
      { after: 1000, messages: () => (kernel.add(other), [event("new", other)]) },
      { after: 1000, messages: () => (kernel.remove(other), [event("del", other)]) },
    ],
    undefined,
    log,
  );
  await h.watcher.run();
  deepEqual(warnings.filter((w) => w.startsWith("Conflict")).length, 1);
  equal(h.watcher.counters.conflicts, 1, "still one conflict after the partial plans");
  deepEqual(kernel.table(VPN), ["0.0.0.0/0 3", "10.20.0.0/24 4", "192.168.188.0/24 77"]);
});
