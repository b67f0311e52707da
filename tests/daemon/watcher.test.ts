import { deepEqual, equal, ok } from "node:assert/strict";
import { log as logger, type Logger } from "../../src/log.ts";
import type { DaemonStore, WatcherDeps } from "../../src/daemon/watcher.ts";
import { FIRST_RETRY_MS, Watcher } from "../../src/daemon/watcher.ts";
import type { MirrorConfig } from "../../src/engine/config.ts";
import type { Address } from "../../src/netlink/address.ts";
import { NLM_F, RTM } from "../../src/netlink/constants.ts";
import { NetlinkError } from "../../src/netlink/errors.ts";
import { encodeLink, type Link } from "../../src/netlink/link.ts";
import type { Message } from "../../src/netlink/message.ts";
import { encodeNexthop, type NexthopObject } from "../../src/netlink/nexthop.ts";
import { encodeRoute, type Route } from "../../src/netlink/route.ts";
import type { WaitResult } from "../../src/netlink/transport.ts";
import type { ChangeResult, RouteChange, RouteFilter } from "../../src/rtnl/client.ts";
import { decodeEvents } from "../../src/rtnl/subscription.ts";
import { routeKey } from "../../src/planner/route_identity.ts";
import { route as lanRoute } from "../_fixtures/routes.ts";

const VPN = 539098368;
const LINKS: Link[] = [
  { index: 1, name: "lo", flags: 0x9, type: 772 },
  { index: 2, name: "lan0", flags: 0x11043, type: 1 },
  { index: 3, name: "tun0", flags: 0x11091, type: 65534 },
];

/** A route of the LAN (192.168.188.0/24 via lan0, `proto kernel`), overridden by `over`. */
const route = (over: Partial<Route>): Route =>
  lanRoute(254, "192.168.188.0/24", { protocol: 2, scope: 253, oif: 2, ...over });

const lan = route({ prefsrc: "192.168.188.112" });
const vpnDefault = route({ table: VPN, dst: "0.0.0.0", dstLen: 0, oif: 3, protocol: 3 });

/** A kernel in memory: tables of routes, with every change echoed as an event. */
class FakeKernel implements DaemonStore {
  routesByTable = new Map<number, Route[]>();
  dumps = 0;
  applies: RouteChange[][] = [];
  failNext: NetlinkError | undefined;
  echo: Message[] = [];
  /** The port id our changes' notifications carry. */
  readonly port = 4242;
  /** Called after each apply: another writer acting while the daemon was busy. */
  afterApply: (() => void) | undefined;
  /** The event socket's filter drops our IPv4 echoes (`ownIpv4RoutesDropped`). */
  dropOwnIpv4 = false;

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
  nexthopObjects: NexthopObject[] = [];
  nexthops(): NexthopObject[] {
    return this.nexthopObjects;
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
      if (change.op !== "add") this.remove(change.route);
      if (change.op !== "delete") this.add(change.route);
      const flags = change.op === "replace" ? NLM_F.REPLACE : 0;
      if (!(this.dropOwnIpv4 && change.route.family === 2)) {
        this.echo.push(
          event(change.op === "delete" ? "del" : "new", change.route, flags, this.port),
        );
      }
      return { change, error: null };
    }).concat((this.afterApply?.(), []));
  }
  table(t: number): string[] {
    return (this.routesByTable.get(t) ?? []).map((r) => `${r.dst}/${r.dstLen} ${r.protocol}`)
      .sort();
  }
}

function event(op: "new" | "del", r: Route, flags = 0, pid = 0): Message {
  return {
    header: { type: op === "new" ? RTM.NEWROUTE : RTM.DELROUTE, flags, seq: 0, pid },
    payload: encodeRoute(r),
  };
}

function linkEvent(link: Link): Message {
  return { header: { type: RTM.NEWLINK, flags: 0, seq: 0, pid: 0 }, payload: encodeLink(link) };
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
  timing = { coalesceMs: 0, maxWaitMs: 0, resyncIntervalS: 0 },
  log: Logger = logger("test"),
  extra: Partial<WatcherDeps> = {},
  config: Partial<MirrorConfig> = {},
) {
  let clock = 1000;
  let pending: { messages: Message[]; overrun: boolean } = { messages: [], overrun: false };
  const waits: (number | undefined)[] = [];
  const self: { watcher?: Watcher } = {};
  const events: WatcherDeps["events"] = {
    droppedForeign: 0,
    drain() {
      const batch = { messages: [...kernel.echo, ...pending.messages], overrun: pending.overrun };
      kernel.echo = [];
      pending = { messages: [], overrun: false };
      return decodeEvents(batch);
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
    get ownIpv4RoutesDropped() {
      return kernel.dropOwnIpv4;
    },
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
      ...config,
    },
    timing,
    { events, client: kernel, now: () => clock, log, onReady: () => ready++, ...extra },
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

Deno.test("a route of our protocol from another sender is news, not an echo", async () => {
  const kernel = new FakeKernel([lan, vpnDefault]);
  // A second writer (port 31337) adds a route linkmirror owns by its protocol but never wanted.
  const stray = route({ table: VPN, dst: "10.77.0.0", protocol: 77 });
  const h = harness(kernel, [
    { after: 5000, messages: () => (kernel.add(stray), [event("new", stray, 0, 31337)]) },
  ]);
  await h.watcher.run();
  deepEqual(kernel.table(VPN), ["0.0.0.0/0 3", "192.168.188.0/24 77"], "planned and removed");
  equal(kernel.applies.length, 2);
});

Deno.test("with --coalesce, a burst is batched: first event at once, the rest after the gap", async () => {
  const kernel = new FakeKernel([lan, vpnDefault]);
  const burst = Array.from({ length: 20 }, (_, i) => route({ dst: `10.${i}.0.0`, dstLen: 16 }));
  const h = harness(kernel, [
    { after: 5000, messages: () => (kernel.add(burst[0]), [event("new", burst[0])]) },
    ...burst.slice(1).map((r) => ({
      after: 5,
      messages: () => (kernel.add(r), [event("new", r)]),
    })),
    {}, // quiet: the pending batch's deadline passes
  ], { coalesceMs: 50, maxWaitMs: 500, resyncIntervalS: 0 });
  await h.watcher.run();
  equal(kernel.table(VPN).length, 22);
  // start, first event, then the rest after the quiet gap (one timer wait that expired).
  equal(kernel.applies.filter((a) => a.length > 0).length, 3);
});

Deno.test("group commit: churn with gaps is applied event by event, never on a timer", async () => {
  const kernel = new FakeKernel([lan, vpnDefault]);
  const churn = Array.from({ length: 50 }, (_, i) => route({ dst: `10.${i}.0.0`, dstLen: 16 }));
  const h = harness(
    kernel,
    churn.map((r, i) => ({
      after: 5 + (i * 7) % 55,
      check: () =>
        equal(kernel.table(VPN).length, 2 + i, `copy ${i - 1} in place before event ${i}`),
      messages: () => (kernel.add(r), [event("new", r)]),
    })),
  );
  await h.watcher.run();
  equal(kernel.table(VPN).length, 52);
  equal(kernel.applies.filter((a) => a.length > 0).length, 51, "start + one per change");
  ok(h.waits.every((w) => w === undefined), `no timer: ${h.waits}`);
});

Deno.test("group commit: what arrives during an apply is applied right after it, in one batch", async () => {
  const kernel = new FakeKernel([lan, vpnDefault]);
  const first = route({ dst: "10.100.0.0", dstLen: 16 });
  const during = Array.from({ length: 10 }, (_, i) => route({ dst: `10.${i}.0.0`, dstLen: 16 }));
  const h = harness(kernel, [
    {
      after: 1000,
      messages: () => {
        kernel.afterApply = () => {
          kernel.afterApply = undefined;
          for (const r of during) {
            kernel.add(r);
            kernel.echo.push(event("new", r));
          }
        };
        kernel.add(first);
        return [event("new", first)];
      },
    },
  ]);
  await h.watcher.run();
  const applies = kernel.applies.filter((a) => a.length > 0);
  equal(applies.length, 3, "start, the event, then everything that came during it");
  equal(applies[2].length, 10);
  equal(kernel.table(VPN).length, 13);
  ok(h.waits.every((w) => w === undefined), `no timer: ${h.waits}`);
});

Deno.test("flaps of one route queued together end exact, in one write", async () => {
  const kernel = new FakeKernel([lan, vpnDefault]);
  const flap = route({ dst: "10.50.0.0", dstLen: 16 });
  const h = harness(kernel, [
    {
      after: 1000,
      messages: () => {
        const out: Message[] = [];
        for (let i = 0; i < 10; i++) out.push(event("new", flap), event("del", flap));
        out.push(event("new", flap));
        kernel.add(flap);
        return out;
      },
    },
  ]);
  await h.watcher.run();
  deepEqual(kernel.table(VPN), ["0.0.0.0/0 3", "10.50.0.0/16 77", "192.168.188.0/24 77"]);
  deepEqual(kernel.applies.filter((a) => a.length > 0).map((a) => a.length), [1, 1]);
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

Deno.test("an mtu change in main is one replace of the copy", async () => {
  const kernel = new FakeKernel([lan, vpnDefault]);
  const changed = { ...lan, metrics: { mtu: 1400 } };
  const h = harness(kernel, [
    {
      after: 1000,
      messages:
        () => (kernel.remove(lan), kernel.add(changed), [event("new", changed, NLM_F.REPLACE)]),
    },
  ]);
  await h.watcher.run();
  deepEqual(kernel.applies.at(-1)?.map((c) => [c.op, c.route.metrics]), [["replace", {
    mtu: 1400,
  }]]);
  equal(kernel.applies.length, 2, "the replace's echo schedules nothing");
});

Deno.test("a nexthop object event re-plans the routes using it", async () => {
  const kernel = new FakeKernel([lan, vpnDefault]);
  const viaObject = route({ dst: "10.61.0.0", nhId: 10, scope: 0 });
  kernel.add(viaObject);
  // At start the object is a blackhole: not mirrored.
  const blackhole = { family: 2, scope: 0, protocol: 0, flags: 0, id: 10, blackhole: true };
  const onLan = { family: 2, scope: 254, protocol: 0, flags: 0, id: 10, oif: 2 };
  kernel.nexthopObjects = [blackhole];
  const h = harness(kernel, [
    {
      after: 1000,
      messages: () => {
        kernel.nexthopObjects = [onLan];
        const header = { type: RTM.NEWNEXTHOP, flags: NLM_F.REPLACE, seq: 0, pid: 0 };
        return [{ header, payload: encodeNexthop(onLan) }];
      },
    },
  ]);
  await h.watcher.run();
  deepEqual(kernel.table(VPN), ["0.0.0.0/0 3", "10.61.0.0/24 77", "192.168.188.0/24 77"]);
  equal(kernel.routesByTable.get(VPN)!.find((r) => r.dst === "10.61.0.0")?.nhId, 10);
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

Deno.test("own IPv4 echoes dropped: the daemon's view takes its changes, nothing is redone", async () => {
  const kernel = new FakeKernel([lan, vpnDefault]);
  kernel.dropOwnIpv4 = true;
  const extra = route({ dst: "10.9.0.0" });
  const gone = route({ dst: "10.8.0.0" });
  kernel.add(gone);
  const h = harness(kernel, [
    { after: 1000, messages: () => (kernel.add(extra), [event("new", extra)]) },
    { after: 1000, messages: () => (kernel.remove(gone), [event("del", gone)]) },
    // A link event: every copy is planned again; the view knows them all.
    { after: 1000, messages: () => [linkEvent({ ...LINKS[1], mtu: 1400 })] },
    {
      after: 1000,
      messages: () => {
        const copy = kernel.routesByTable.get(VPN)!.find((r) => r.dst === extra.dst)!;
        kernel.remove(copy);
        return [event("del", copy, 0, 31337)];
      },
    },
  ]);
  await h.watcher.run();
  deepEqual(kernel.table(VPN), ["0.0.0.0/0 3", "10.9.0.0/24 77", "192.168.188.0/24 77"]);
  // What each apply wrote (the daemon's plans leave its changes in any order).
  deepEqual(
    kernel.applies.map((a) => a.map((c) => `${c.op} ${c.route.dst}`).sort()),
    [
      ["add 10.8.0.0", "add 192.168.188.0"],
      ["add 10.9.0.0"],
      ["delete 10.8.0.0"],
      [],
      ["add 10.9.0.0"],
    ],
  );
  equal(h.watcher.counters.undone, 1, "the other writer's delete of a copy is an undo");
});

Deno.test("a failed apply is retried after a short delay, with a fresh dump", async () => {
  const kernel = new FakeKernel([lan, vpnDefault]);
  kernel.failNext = new NetlinkError("add route", 100);
  const h = harness(kernel, [{}, {}]);
  await h.watcher.run();
  equal(h.watcher.counters.failedApplies, 1);
  deepEqual(kernel.table(VPN), ["0.0.0.0/0 3", "192.168.188.0/24 77"]);
  equal(h.waits[0], FIRST_RETRY_MS, "the retry is scheduled");
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

/** A logger that keeps the WARN lines' messages. */
function warnLog(): { log: Logger; warnings: string[]; props: Record<string, unknown>[] } {
  const warnings: string[] = [];
  const props: Record<string, unknown>[] = [];
  const quiet = () => {};
  // The watcher logs with debug, info and warn only.
  const log = {
    debug: quiet,
    info: quiet,
    warn: (message: string, p: Record<string, unknown>) => (warnings.push(message), props.push(p)),
  } as unknown as Logger;
  return { log, warnings, props };
}

/**
 * Runs `steps`, then three calm ones (a hold ends), and checks that they made exactly one Fight
 * WARN: returns it with its properties, and the harness.
 */
async function oneFight(kernel: FakeKernel, steps: Step[], logged: ReturnType<typeof warnLog>) {
  steps.push({}, {}, {});
  const h = harness(kernel, steps, undefined, logged.log);
  await h.watcher.run();
  const fights = logged.warnings.filter((w) => w.startsWith("Fight"));
  equal(fights.length, 1, `one WARN per episode: ${logged.warnings}`);
  return { h, fight: fights[0], props: logged.props[logged.warnings.indexOf(fights[0])] };
}

Deno.test("a writer deleting one copy in a loop: one WARN, bounded repairs, others at full speed", async () => {
  const kernel = new FakeKernel([lan, vpnDefault]);
  const logged = warnLog();
  const repairsOf = (dst: string) =>
    kernel.applies.flat().filter((c) => c.op === "add" && c.route.dst === dst).length;
  const undo = (): Message[] => {
    const copy = kernel.routesByTable.get(VPN)?.find((r) => r.dst === lan.dst && r.protocol === 77);
    if (!copy) return [];
    kernel.remove(copy);
    return [event("del", copy, 0, 31337)];
  };
  const mid = route({ dst: "10.60.0.0", dstLen: 16 });
  // Every 10 ms for 20 s of fake time, the copy is deleted again; at 10 s a new LAN appears.
  const steps: Step[] = Array.from({ length: 2000 }, (_, i) => ({
    after: 10,
    messages: i === 1000
      ? () => {
        kernel.add(mid);
        return [...undo(), event("new", mid)];
      }
      : undo,
    check: i === 1001
      ? () => ok(kernel.table(VPN).includes("10.60.0.0/16 77"), "the new LAN is copied at once")
      : undefined,
  }));
  // Then calm: the copy comes back when the hold ends.
  const { h, props } = await oneFight(kernel, steps, logged);
  equal(props.dst, "192.168.188.0/24");
  ok(String(props.how).includes("31337"), "names the writer's port");
  const repairs = repairsOf(lan.dst);
  ok(repairs <= 20, `${repairs} repairs in 20 s`);
  equal(h.watcher.counters.fights, 1);
  ok(kernel.table(VPN).includes("192.168.188.0/24 77"), "the copy is back after the fight");
});

Deno.test("SIGHUP: a full resync brings back a copy deleted without an event", async () => {
  const kernel = new FakeKernel([lan, vpnDefault]);
  const self: { h?: ReturnType<typeof harness> } = {};
  const h = self.h = harness(kernel, [
    {
      check: () => {
        const copy = kernel.routesByTable.get(VPN)!.find((r) => r.protocol === 77)!;
        kernel.remove(copy); // No event: it was lost.
        self.h!.watcher.resync("SIGHUP");
      },
    },
    {},
  ]);
  await h.watcher.run();
  equal(h.watcher.counters.resyncs, 2);
  deepEqual(kernel.table(VPN), ["0.0.0.0/0 3", "192.168.188.0/24 77"]);
});

Deno.test("a conflict is reported once, and events on other prefixes do not repeat it", async () => {
  const held = route({ table: VPN, dst: "10.20.0.0", oif: 3, protocol: 4 });
  const kernel = new FakeKernel([lan, vpnDefault, route({ dst: "10.20.0.0" }), held]);
  const { log, warnings } = warnLog();
  const other = route({ dst: "10.30.0.0" });
  const h = harness(
    kernel,
    [
      { after: 1000, messages: () => (kernel.add(other), [event("new", other)]) },
      { after: 1000, messages: () => (kernel.remove(other), [event("del", other)]) },
    ],
    undefined,
    log,
    {},
    { precedence: "lan" }, // The VPN's own route would win under the default precedence.
  );
  await h.watcher.run();
  deepEqual(warnings.filter((w) => w.startsWith("Conflict")).length, 1);
  equal(h.watcher.counters.conflicts, 1, "still one conflict after the partial plans");
  deepEqual(kernel.table(VPN), ["0.0.0.0/0 3", "10.20.0.0/24 4", "192.168.188.0/24 77"]);
});

Deno.test("onApply reports at once when quiet, then at most once a second, the last one too", async () => {
  const kernel = new FakeKernel([lan, vpnDefault]);
  const reports: { at: number; applies: number }[] = [];
  const self: { now?: () => number } = {};
  const churn = Array.from(
    { length: 300 },
    (_, i) => route({ dst: `10.${i >> 8}.${i & 255}.0`, dstLen: 24 }),
  );
  const h = harness(
    kernel,
    [
      ...churn.map((r) => ({ after: 10, messages: () => (kernel.add(r), [event("new", r)]) })),
      {}, // quiet: the report still owed comes due
    ],
    undefined,
    undefined,
    { onApply: (counters) => reports.push({ at: self.now!(), applies: counters.applies }) },
  );
  self.now = h.now;
  await h.watcher.run();
  equal(h.watcher.counters.applies, 301);
  ok(reports.length >= 3 && reports.length <= 6, `${reports.length} reports over 3 s`);
  for (let i = 1; i < reports.length; i++) ok(reports[i].at - reports[i - 1].at >= 1000);
  equal(reports.at(-1)!.applies, 301, "the last apply is reported");
});

/** The copy of `dst` in the VPN's table now, if any. */
function copyOf(kernel: FakeKernel, dst: string): Route | undefined {
  return kernel.routesByTable.get(VPN)?.find((r) => r.dst === dst && r.protocol === 77);
}

/** Deletes the copy of `dst` (if there) as `pid` would: its event, or none. */
function deleteCopy(kernel: FakeKernel, dst: string, pid: number): Message[] {
  const copy = copyOf(kernel, dst);
  if (!copy) return [];
  kernel.remove(copy);
  return [event("del", copy, 0, pid)];
}

Deno.test("not a fight: the kernel deleting a copy by itself (port 0), however often", async () => {
  const kernel = new FakeKernel([lan, vpnDefault]);
  const { log, warnings } = warnLog();
  // Every 10 ms for 2 s the kernel takes the copy away (its link flapping), as port 0.
  const steps: Step[] = Array.from({ length: 200 }, () => ({
    after: 10,
    messages: () => deleteCopy(kernel, lan.dst, 0),
  }));
  const h = harness(kernel, steps, undefined, log);
  await h.watcher.run();
  deepEqual(warnings, []);
  equal(h.watcher.counters.undone, 0);
  equal(h.watcher.counters.fights, 0);
  ok(copyOf(kernel, lan.dst), "repaired at once each time");
});

Deno.test("not a fight: the VPN flushing and refilling its table, in rounds, now and then", async () => {
  const lan2 = route({ dst: "10.20.0.0", dstLen: 24, oif: 2 });
  const kernel = new FakeKernel([lan, lan2, vpnDefault]);
  const { log, warnings } = warnLog();
  const adds = () => kernel.applies.flat().filter((c) => c.op === "add").length;
  // `ip route flush table VPN` (one pid per flush): round 1 deletes everything, the VPN's route
  // too; the copies are back at once, so round 2 (same pid) deletes them again; then the VPN
  // puts its route back. Ten flushes within 5 s: twenty deletes of every copy.
  const steps: Step[] = [];
  for (let i = 0; i < 10; i++) {
    const pid = 5000 + i;
    steps.push({
      after: 450,
      messages: () => {
        kernel.remove(vpnDefault);
        return [
          event("del", vpnDefault, 0, pid),
          ...deleteCopy(kernel, lan.dst, pid),
          ...deleteCopy(kernel, lan2.dst, pid),
        ];
      },
    }, {
      after: 1,
      messages: () => [...deleteCopy(kernel, lan.dst, pid), ...deleteCopy(kernel, lan2.dst, pid)],
    }, {
      after: 1,
      messages: () => (kernel.add(vpnDefault), [event("new", vpnDefault, 0, pid + 100)]),
    });
  }
  const h = harness(kernel, steps, undefined, log);
  const before = adds();
  await h.watcher.run();
  deepEqual(warnings, []);
  equal(h.watcher.counters.fights, 0);
  equal(h.watcher.counters.undone, 0, "a flush undoes the table, not each copy");
  ok(adds() - before >= 40, `every round repaired at once: ${adds() - before} adds`);
  deepEqual(kernel.table(VPN), ["0.0.0.0/0 3", "10.20.0.0/24 77", "192.168.188.0/24 77"]);
});

Deno.test("a flush repeated in a loop is a fight over the table: one WARN, then held", async () => {
  const lan2 = route({ dst: "10.20.0.0", dstLen: 24, oif: 2 });
  const kernel = new FakeKernel([lan, lan2, vpnDefault]);
  const logged = warnLog();
  // A flusher every 10 ms for 10 s (one pid each): the VPN's route and the copy of the LAN (not
  // the one of 10.20.0.0/24). At 4 s, during a hold, the kernel removes that other copy instead.
  const kernelAt = 400;
  const steps: Step[] = Array.from({ length: 1000 }, (_, i) => ({
    after: 10,
    messages: () => {
      if (i === kernelAt) return deleteCopy(kernel, lan2.dst, 0);
      kernel.remove(vpnDefault);
      kernel.add(vpnDefault);
      return [
        event("del", vpnDefault, 0, 7000 + i),
        ...deleteCopy(kernel, lan.dst, 7000 + i),
        event("new", vpnDefault, 0, 7000 + i),
      ];
    },
    check: i === kernelAt + 1
      ? () => {
        ok(copyOf(kernel, lan2.dst), "no hold keeps out a copy the kernel removed");
        ok(!copyOf(kernel, lan.dst), "the flushed copy is held");
      }
      : undefined,
  }));
  const { fight, props } = await oneFight(kernel, steps, logged);
  ok(fight.startsWith("Fight over table"), fight);
  equal(props.table, VPN);
  const repairs = kernel.applies.flat().filter((c) => c.op === "add" && c.route.dst === lan.dst);
  ok(repairs.length <= 230, `${repairs.length} repairs in 10 s`);
  ok(copyOf(kernel, lan.dst) && copyOf(kernel, lan2.dst), "the copies are back after it");
});

Deno.test("not a fight: a foreign replace that leaves our copy in place", async () => {
  const kernel = new FakeKernel([lan, vpnDefault]);
  const { log, warnings } = warnLog();
  // The VPN replaces its own route of the LAN's prefix at another metric, again and again: the
  // kernel's replace picks that route (same tos and metric), never our copy.
  const theirs = route({ table: VPN, oif: 3, protocol: 4, priority: 5 });
  const steps: Step[] = Array.from({ length: 50 }, () => ({
    after: 10,
    messages: () => {
      kernel.remove(theirs);
      kernel.add(theirs);
      return [event("new", theirs, NLM_F.REPLACE, 9999)];
    },
  }));
  const h = harness(kernel, steps, undefined, log, {}, { precedence: "lan" });
  await h.watcher.run();
  equal(warnings.filter((w) => w.startsWith("Fight")).length, 0, `${warnings}`);
  equal(h.watcher.counters.undone, 0);
});

Deno.test("the kernel removing a fought copy forgets the fight: counting starts over", async () => {
  const kernel = new FakeKernel([lan, vpnDefault]);
  const { log, warnings } = warnLog();
  // Ten deletes by a writer within 100 ms (one short of a fight), then the kernel removes the
  // copy (port 0), then five more deletes: never more than 10 undos since the kernel's own.
  const steps: Step[] = [
    ...Array.from({ length: 10 }, () => ({
      after: 10,
      messages: () => deleteCopy(kernel, lan.dst, 31337),
    })),
    { after: 10, messages: () => deleteCopy(kernel, lan.dst, 0) },
    ...Array.from({ length: 5 }, () => ({
      after: 10,
      messages: () => deleteCopy(kernel, lan.dst, 31337),
    })),
  ];
  const h = harness(kernel, steps, undefined, log);
  await h.watcher.run();
  deepEqual(warnings, []);
  equal(h.watcher.counters.undone, 15);
  ok(copyOf(kernel, lan.dst), "never held");
});
