/**
 * Fuzzing the daemon's event path, beyond the decoders (tests/netlink/fuzz.test.ts fuzzes those
 * alone; `deno task fuzz` is the long form): mutated real kernel messages — byte-level mutants of
 * the captured corpus, and well-formed but strange events made by perturbing decoded captured
 * routes, links and addresses (odd flags, tables, interfaces, multipath hops, replace/append
 * header flags) — go through the real {@linkcode Watcher}: decoding, the in-memory view, the
 * planner, the apply. The run must end (no hang: each batch is timed), throw nothing, count the
 * malformed messages, and — whatever the view came to believe — never ask the kernel to delete
 * or add a route that is not linkmirror's own in a target table.
 */

import { deepEqual, ok } from "node:assert/strict";
import { log as logger } from "../../src/log.ts";
import { type DaemonStore, Watcher, type WatcherDeps } from "../../src/daemon/watcher.ts";
import { type Address, decodeAddress, encodeAddress } from "../../src/netlink/address.ts";
import { NLM_F, RTM } from "../../src/netlink/constants.ts";
import { DecodeError } from "../../src/netlink/errors.ts";
import { decodeLink, encodeLink, type Link } from "../../src/netlink/link.ts";
import {
  align,
  decodeMessages,
  encodeMessage,
  type Message,
  messageLengthAt,
} from "../../src/netlink/message.ts";
import { decodeRoute, encodeRoute, type Route } from "../../src/netlink/route.ts";
import type { WaitResult } from "../../src/netlink/transport.ts";
import type { ChangeResult, RouteChange, RouteFilter } from "../../src/rtnl/client.ts";
import { decodeEvents, eventAt, type RtnlEvent } from "../../src/rtnl/subscription.ts";
import { GOLDEN } from "../netlink/testdata/golden.ts";
import { mutate } from "../netlink/testdata/fuzzer.ts";
import { Random } from "../_fixtures/random.ts";

const VPN = 539098368;
const OURS = 77;
const ROUTES: Route[] = GOLDEN.routes.map((g) => decodeRoute(g.message.payload));
const LINKS: Link[] = GOLDEN.links.map((g) => decodeLink(g.message.payload));
const ADDRESSES: Address[] = GOLDEN.addresses.map((g) => decodeAddress(g.message.payload));

/** A kernel that accepts every change and checks that each one is linkmirror's to make. */
class CheckingStore implements DaemonStore {
  /** Never the sender of an event here: no event is taken for an echo. */
  readonly port = 4242;
  changes = 0;
  readonly violations: string[] = [];
  routes(filter: RouteFilter): Route[] {
    return ROUTES.filter((r) =>
      (filter.table === undefined || r.table === filter.table) &&
      (filter.family === undefined || r.family === filter.family)
    );
  }
  links(): Link[] {
    return LINKS;
  }
  addresses(): Address[] {
    return ADDRESSES;
  }
  apply(changes: readonly RouteChange[]): ChangeResult[] {
    for (const change of changes) {
      this.changes++;
      const { route } = change;
      if (route.protocol !== OURS || route.table !== VPN) {
        this.violations.push(`${change.op} ${JSON.stringify(route)}`);
      }
    }
    return changes.map((change) => ({ change, error: null }));
  }
}

const HEADER_FLAGS = [
  0,
  NLM_F.REPLACE,
  NLM_F.CREATE,
  NLM_F.CREATE | NLM_F.EXCL,
  NLM_F.CREATE | NLM_F.APPEND,
  NLM_F.REPLACE | NLM_F.CREATE,
];

/** A well-formed but strange event: a captured object with perturbed fields. */
function strangeEvent(r: Random): Message {
  const flags = r.pick(HEADER_FLAGS);
  const op = r.chance(0.5) ? "new" : "del";
  const kind = r.weighted({ route: 6, link: 2, address: 2 });
  const oif = () => r.pick([...LINKS.map((l) => l.index), 0, 99, 0x7fffffff]);
  if (kind === "route") {
    const route: Route = { ...r.pick(ROUTES) };
    if (r.chance(0.5)) route.table = r.pick([254, VPN, 255, 0, 100]);
    if (r.chance(0.3)) route.protocol = r.pick([OURS, 2, 3, 4, 0]);
    if (r.chance(0.3)) route.oif = oif();
    if (r.chance(0.2)) route.flags = r.int(0x10000);
    if (r.chance(0.2)) route.priority = r.pick([0, 1, 256, 1024, 0xffffffff]);
    if (r.chance(0.2)) route.scope = r.pick([0, 200, 253, 254, 255]);
    if (r.chance(0.2)) route.type = r.pick([1, 2, 3, 6, 7]);
    if (r.chance(0.1)) route.dstLen = r.int(route.family === 10 ? 129 : 33);
    if (r.chance(0.1)) {
      route.multipath = Array.from({ length: r.int(4) }, () => ({
        oif: oif(),
        flags: r.int(256),
        hops: r.int(4),
      }));
    }
    if (r.chance(0.1)) delete route.oif;
    const type = op === "new" ? RTM.NEWROUTE : RTM.DELROUTE;
    return { header: { type, flags, seq: 0, pid: 0 }, payload: encodeRoute(route) };
  }
  if (kind === "link") {
    const link: Link = { ...r.pick(LINKS) };
    if (r.chance(0.5)) link.flags = r.int(0x100000);
    if (r.chance(0.3)) link.index = oif();
    if (r.chance(0.2)) link.name = r.pick(["lo", "", "eth0", "tun0", "x".repeat(15)]);
    const type = op === "new" ? RTM.NEWLINK : RTM.DELLINK;
    return { header: { type, flags, seq: 0, pid: 0 }, payload: encodeLink(link) };
  }
  const address: Address = { ...r.pick(ADDRESSES) };
  if (r.chance(0.3)) address.index = oif();
  if (r.chance(0.3)) address.prefixLen = r.int(address.family === 10 ? 129 : 33);
  if (r.chance(0.2)) address.flags = r.int(0x1000);
  const type = op === "new" ? RTM.NEWADDR : RTM.DELADDR;
  return { header: { type, flags, seq: 0, pid: 0 }, payload: encodeAddress(address) };
}

/** Messages of a byte-level mutant; a mutant that does not even frame becomes one raw message. */
function mutantMessages(random: Random): Message[] {
  const bytes = mutate(random);
  try {
    return decodeMessages(bytes).filter((m) => m.header.type >= 0x10);
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e;
    // Framing failed: hand the bytes over as one route event anyway.
    return [{ header: { type: RTM.NEWROUTE, flags: 0, seq: 0, pid: 0 }, payload: bytes.slice(16) }];
  }
}

/** The events of `messages` sent as one datagram, decoded in place ({@linkcode eventAt}). */
function eventsInPlace(messages: readonly Message[]): RtnlEvent[] {
  const parts = messages.map((m) => encodeMessage(m.header, m.payload));
  const data = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    data.set(part, at);
    at += part.length;
  }
  const view = new DataView(data.buffer);
  const events: RtnlEvent[] = [];
  for (let off = 0; off < data.length;) {
    const len = messageLengthAt(view, off, data.length);
    const event = eventAt(data, view, off, len);
    if (event !== undefined) events.push(event);
    off += align(len);
  }
  return events;
}

const BATCHES = 2000;
const PER_BATCH = 25;

Deno.test(
  "mutated and strange kernel events through the daemon: no crash, no hang, only our routes",
  async () => {
    const bytesRandom = new Random(20251126);
    const random = new Random(20251126);
    const store = new CheckingStore();
    let batches = 0;
    let clock = 0;
    let slowestMs = 0;
    let lastWait = performance.now();
    let inputs = 0;
    const self: { watcher?: Watcher } = {};
    const events: WatcherDeps["events"] = {
      droppedForeign: 0,
      drain() {
        const messages: Message[] = [];
        for (let i = 0; i < PER_BATCH; i++) {
          inputs++;
          if (random.chance(0.5)) messages.push(strangeEvent(random));
          else messages.push(...mutantMessages(bytesRandom));
        }
        const batch = decodeEvents({ messages, overrun: random.chance(0.01) });
        // The daemon decodes real datagrams in place: the same events, message for message.
        deepEqual(eventsInPlace(messages), batch.events);
        return batch;
      },
      wait(timeoutMs?: number): Promise<WaitResult> {
        const now = performance.now();
        slowestMs = Math.max(slowestMs, now - lastWait);
        lastWait = now;
        clock += Math.min(timeoutMs ?? 60_000, 100);
        if (batches++ >= BATCHES) {
          self.watcher?.stop();
          return Promise.resolve("woken");
        }
        return Promise.resolve(random.chance(0.8) ? "readable" : "timeout");
      },
      wake() {},
    };
    const watcher = new Watcher(
      {
        tables: [VPN],
        source: 254,
        protocol: OURS,
        families: [2, 10],
        exclude: [],
        excludeDevices: [],
      },
      { coalesceMs: 10, maxWaitMs: 50, resyncIntervalS: 1 },
      { events, client: store, now: () => clock, log: logger("fuzz") },
    );
    self.watcher = watcher;
    // No hang: the run must end. A generous bound turns a hang into a failure; how fast a batch
    // goes is the benchmark's business (bench/), not a test's.
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      watcher.run(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error("the daemon hung: no end after 300 s")), 300_000);
      }),
    ]).finally(() => clearTimeout(timer));

    const counters = watcher.counters;
    deepEqual(store.violations.slice(0, 5), [], "only linkmirror's routes, only in the target");
    ok(counters.malformed > 0, `malformed events were counted: ${JSON.stringify(counters)}`);
    // An exception while planning would be swallowed as a failed apply: there must be none.
    ok(counters.failedApplies === 0, `applies failed: ${JSON.stringify(counters)}`);
    ok(inputs >= 30_000, `${inputs} inputs`);
    ok(counters.applies > 50, `the daemon kept applying: ${JSON.stringify(counters)}`);
    console.log(
      `event fuzz: ${inputs} inputs (${counters.events} messages, ${counters.malformed} malformed), ` +
        `${counters.applies} applies, ${store.changes} changes, slowest batch ${
          slowestMs.toFixed(1)
        } ms`,
    );
  },
);
