/**
 * The probe: an independent netlink listener (and route injector) that runs as its own process
 * inside a scenario's namespace, started by {@linkcode ./probe_client.ts}. It timestamps route
 * events of `main` and of the target table as it reads them, on one clock, so that latencies and
 * convergence times do not depend on how a contender reports itself.
 *
 * It reads one JSON command per line on stdin and answers one JSON line on stdout:
 * - `converge`: injects route changes into `main` (batched over netlink), then follows the target
 *   table until its tracked routes equal `expect` and stayed so for `quietMs`.
 * - `latency`: adds and deletes one route at a time with `gapMs` between them, and measures, for
 *   each, the time from the event in `main` to the event of its copy in the target table.
 *
 * Usage (inside a namespace): `deno run -A bench/probe.ts --table 539098368`
 *
 * @module
 */

import { parseArgs } from "node:util";
import { decodeAck } from "../src/netlink/ack.ts";
import { Conn, type NetlinkRequest } from "../src/netlink/conn.ts";
import { NLM_F, NLMSG, RTM } from "../src/netlink/constants.ts";
import { NetlinkError } from "../src/netlink/errors.ts";
import { decodeMessages, encodeMessage } from "../src/netlink/message.ts";
import { decodeLink, IFINFOMSG_LEN } from "../src/netlink/link.ts";
import { encodeRoute, type Route } from "../src/netlink/route.ts";
import { NetlinkSocket } from "../src/netlink/socket.ts";
import { ListenSocket, tableFilter } from "./listen_socket.ts";
import { isTracked, type RouteSpec, sampleRoute } from "./routes.ts";

/** A route change the probe makes in `main`. */
export interface RouteOp extends RouteSpec {
  /** Add or delete. */
  op: "add" | "del";
}

/** The `converge` command. */
export interface ConvergeCommand {
  /** Command name. */
  cmd: "converge";
  /** Changes to make in `main`, in order, as fast as netlink takes them. */
  ops: RouteOp[];
  /** Keys (`dst/len@dev`) of the tracked routes the target table must hold in the end. */
  expect: string[];
  /** Give up after this long. */
  timeoutMs: number;
  /** The table must stay equal to `expect` with no event for this long. */
  quietMs: number;
}

/** The answer to `converge`. */
export interface ConvergeReply {
  /** Whether the target table became equal to `expect` (and stayed so for `quietMs`). */
  converged: boolean;
  /** Milliseconds the injection took (until the last ACK). */
  injectMs: number;
  /** Milliseconds from the start of the injection to the last event that made the table exact. */
  convergedMs: number | null;
  /**
   * Milliseconds from the end of the injection to the last event that made the table exact: 0
   * when it was exact as the burst ended (a contender that coalesced the burst away).
   */
  afterBurstMs: number | null;
  /** Copy events (adds and deletes in the target table) seen. */
  copyEvents: number;
  /** Receive-buffer overruns of the probe itself (its view is then re-read by a dump). */
  overruns: number;
  /** Injected changes the kernel refused. */
  failedOps: number;
  /** Wanted routes missing at the end. */
  missing: number;
  /** Tracked routes present that are not wanted, at the end. */
  extra: number;
}

/** The `latency` command. */
export interface LatencyCommand {
  /** Command name. */
  cmd: "latency";
  /** Route adds (each followed by its delete) to measure. */
  samples: number;
  /** Pause before each change, in ms, so that each one comes after a quiet period. */
  gapMs: number;
  /**
   * Churn: when given, each pause is drawn uniformly from [`gapMs`, `maxGapMs`] (seeded by
   * `seed`), counted from the previous change's copy.
   */
  maxGapMs?: number;
  /** Seed of the pauses' random draws. Default 1. */
  seed?: number;
  /** Device of the sample routes. */
  dev: string;
  /** A copy not seen within this long counts as missed. */
  timeoutMs: number;
  /** Index of the first sample route. */
  first?: number;
}

/** The answer to `latency`: milliseconds from the event in `main` to the copy's event. */
export interface LatencyReply {
  /** Latencies of appearing copies. */
  add: number[];
  /** Latencies of disappearing copies. */
  del: number[];
  /** Changes whose copy event did not come within `timeoutMs`. */
  missed: number;
}

const RT_TABLE_MAIN = 254;
const RT_TABLE_COMPAT = 252;
const RTA_DST = 1;
const RTA_OIF = 4;
const RTA_TABLE = 15;
const RTPROT_BOOT = 3;

/** A decoded route event (only what the probe needs). */
interface RouteEvent {
  add: boolean;
  table: number;
  key: string;
  dst: string;
}

class Probe {
  readonly #table: number;
  readonly #events: ListenSocket;
  readonly #conn: Conn;
  /** A socket for single requests, so that the time right after the kernel took one is known. */
  readonly #single: NetlinkSocket;
  #seq = 1;
  readonly #names = new Map<number, string>();
  readonly #indexes = new Map<string, number>();
  /** Tracked routes in the target table. */
  readonly #copies = new Set<string>();
  #overruns = 0;

  constructor(table: number) {
    this.#table = table;
    this.#events = ListenSocket.open({ receiveBuffer: 64 << 20 });
    this.#conn = new Conn(NetlinkSocket.open({ receiveBuffer: 32 << 20, sendBuffer: 4 << 20 }));
    this.#single = NetlinkSocket.open();
    this.#filter(false);
    for (const m of this.#conn.dump(RTM.GETLINK, new Uint8Array(IFINFOMSG_LEN))) {
      if (m.header.type !== RTM.NEWLINK) continue;
      const link = decodeLink(m.payload);
      this.#names.set(link.index, link.name);
      this.#indexes.set(link.name, link.index);
    }
    this.#reload();
  }

  #filter(withMain: boolean): void {
    const compat = this.#table > 255 ? RT_TABLE_COMPAT : this.#table;
    this.#events.setFilter(tableFilter(withMain ? [compat, RT_TABLE_MAIN] : [compat]));
  }

  /** Re-reads the target table's tracked routes (at start and after an overrun). */
  #reload(): void {
    const payload = new Uint8Array(12 + 8);
    payload[0] = 2; // AF_INET
    const view = new DataView(payload.buffer);
    view.setUint16(12, 8, true);
    view.setUint16(14, RTA_TABLE, true);
    view.setUint32(16, this.#table, true);
    this.#copies.clear();
    let messages;
    try {
      messages = this.#conn.dump(RTM.GETROUTE, payload);
    } catch {
      return; // The table does not exist (yet).
    }
    for (const m of messages) {
      const header = new Uint8Array(16 + m.payload.length);
      header.set(m.payload, 16);
      new DataView(header.buffer).setUint16(4, m.header.type, true);
      for (const e of this.#parse(header)) {
        if (e.table === this.#table && isTracked(e.dst)) this.#copies.add(e.key);
      }
    }
  }

  /** Decodes the route messages of one datagram. */
  #parse(data: Uint8Array): RouteEvent[] {
    const out: RouteEvent[] = [];
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    let off = 0;
    while (off + 16 <= data.length) {
      const len = view.getUint32(off, true);
      if (len < 16 || off + len > data.length) break;
      const type = view.getUint16(off + 4, true);
      if ((type === RTM.NEWROUTE || type === RTM.DELROUTE) && len >= 28) {
        const p = off + 16;
        const dstLen = data[p + 1];
        let table = data[p + 4];
        let dst = "0.0.0.0";
        let oif = 0;
        let a = p + 12;
        while (a + 4 <= off + len) {
          const alen = view.getUint16(a, true);
          const atype = view.getUint16(a + 2, true) & 0x3fff;
          if (alen < 4) break;
          if (atype === RTA_DST && alen >= 8) {
            dst = `${data[a + 4]}.${data[a + 5]}.${data[a + 6]}.${data[a + 7]}`;
          } else if (atype === RTA_OIF) oif = view.getUint32(a + 4, true);
          else if (atype === RTA_TABLE) table = view.getUint32(a + 4, true);
          a += (alen + 3) & ~3;
        }
        const dev = this.#names.get(oif) ?? `if${oif}`;
        out.push({ add: type === RTM.NEWROUTE, table, dst, key: `${dst}/${dstLen}@${dev}` });
      }
      off += (len + 3) & ~3;
    }
    return out;
  }

  /**
   * Reads every queued datagram; calls `onEvent` with each route event and the time it was read.
   * Returns whether anything was read.
   */
  #drain(onEvent: (e: RouteEvent, at: number) => void): boolean {
    let any = false;
    for (;;) {
      const data = this.#events.receive();
      if (data === null) return any;
      any = true;
      if (data === "overrun") {
        this.#overruns++;
        this.#reload();
        continue;
      }
      const at = performance.now();
      for (const e of this.#parse(data)) {
        if (e.table === this.#table && isTracked(e.dst)) {
          if (e.add) this.#copies.add(e.key);
          else this.#copies.delete(e.key);
        }
        onEvent(e, at);
      }
    }
  }

  /** Waits up to `ms` while keeping the view current. */
  #idle(ms: number, onEvent: (e: RouteEvent, at: number) => void = () => {}): void {
    const until = performance.now() + ms;
    for (;;) {
      this.#drain(onEvent);
      const left = until - performance.now();
      if (left <= 0) return;
      this.#events.wait(left);
    }
  }

  #request(op: RouteOp): NetlinkRequest {
    const oif = this.#indexes.get(op.dev);
    if (oif === undefined) throw new Error(`Unknown device ${op.dev}`);
    const route: Route = {
      family: 2,
      table: RT_TABLE_MAIN,
      dst: op.dst,
      dstLen: op.len,
      srcLen: 0,
      tos: 0,
      protocol: op.op === "add" ? RTPROT_BOOT : 0,
      scope: op.op === "add" ? 253 : 255,
      type: op.op === "add" ? 1 : 0,
      flags: 0,
      oif,
    };
    return op.op === "add"
      ? { type: RTM.NEWROUTE, flags: NLM_F.CREATE | NLM_F.EXCL, payload: encodeRoute(route) }
      : { type: RTM.DELROUTE, payload: encodeRoute(route) };
  }

  /**
   * Sends one request and returns the time right before `sendto`: the kernel makes the change
   * and sends its notifications inside that call, so the event happened after this time (and a
   * contender woken by it may run before this process is scheduled again; a time taken after the
   * call would then be late). Then reads the ACK and throws if the kernel refused.
   */
  #sendOne(request: NetlinkRequest): number {
    const seq = this.#seq++;
    const flags = (request.flags ?? 0) | NLM_F.REQUEST | NLM_F.ACK;
    const message = encodeMessage(
      { type: request.type, flags, seq, pid: this.#single.pid },
      request.payload,
    );
    const sent = performance.now();
    this.#single.send(message);
    for (;;) {
      const datagram = this.#single.tryReceive();
      if (datagram === null) {
        if (!this.#single.waitSync(5000)) throw new Error("No ACK within 5 s");
        continue;
      }
      for (const m of decodeMessages(datagram.data)) {
        if (m.header.type !== NLMSG.ERROR || m.header.seq !== seq) continue;
        const ack = decodeAck(m.payload, m.header.flags);
        if (ack.errno !== 0) throw new NetlinkError("probe request", ack.errno, ack.extAck?.msg);
        return sent;
      }
    }
  }

  converge(cmd: ConvergeCommand): ConvergeReply {
    this.#filter(false);
    this.#drain(() => {});
    const overrunsBefore = this.#overruns;
    const expect = new Set(cmd.expect);
    const requests = cmd.ops.map((op) => this.#request(op));
    let copyEvents = 0;
    const count = (e: RouteEvent) => {
      if (e.table === this.#table && isTracked(e.dst)) copyEvents++;
    };
    const exact = () => {
      if (this.#copies.size !== expect.size) return false;
      for (const k of expect) if (!this.#copies.has(k)) return false;
      return true;
    };
    const t0 = performance.now();
    const errors = requests.length ? this.#conn.execute(requests) : [];
    const injected = performance.now();
    let equalSince: number | undefined;
    let lastEvent = injected;
    const deadline = t0 + cmd.timeoutMs;
    // The table may be exact already (e.g. nothing to do): that counts from the injection's end.
    if (exact()) equalSince = injected;
    for (;;) {
      // Count exactness only after each whole drain: a burst read at once is one step.
      let latest = -Infinity;
      this.#drain((e, at) => {
        count(e);
        latest = Math.max(latest, at);
      });
      if (latest > -Infinity) {
        lastEvent = latest;
        equalSince = exact() ? (equalSince ?? latest) : undefined;
      }
      const now = performance.now();
      if (equalSince !== undefined && now - lastEvent >= cmd.quietMs) break;
      if (now >= deadline) break;
      const wait = equalSince !== undefined ? cmd.quietMs - (now - lastEvent) : deadline - now;
      this.#events.wait(Math.max(1, Math.min(wait, deadline - now)));
    }
    let missing = 0;
    for (const k of expect) if (!this.#copies.has(k)) missing++;
    let extra = 0;
    for (const k of this.#copies) if (!expect.has(k)) extra++;
    const converged = equalSince !== undefined;
    return {
      converged,
      injectMs: injected - t0,
      convergedMs: converged ? Math.max(equalSince!, injected) - t0 : null,
      afterBurstMs: converged ? Math.max(equalSince!, injected) - injected : null,
      copyEvents,
      overruns: this.#overruns - overrunsBefore,
      failedOps: errors.filter((e) => e !== null).length,
      missing,
      extra,
    };
  }

  latency(cmd: LatencyCommand): LatencyReply {
    this.#filter(true);
    const reply: LatencyReply = { add: [], del: [], missed: 0 };
    const first = cmd.first ?? 0;
    // mulberry32: a small seeded generator, so that two contenders get the same pauses.
    let state = (cmd.seed ?? 1) >>> 0;
    const random = () => {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const gap = () =>
      cmd.maxGapMs === undefined ? cmd.gapMs : cmd.gapMs + random() * (cmd.maxGapMs - cmd.gapMs);
    for (let i = first; i < first + cmd.samples; i++) {
      const route = sampleRoute(i, cmd.dev);
      for (const op of ["add", "del"] as const) {
        this.#idle(gap());
        const key = `${route.dst}/${route.len}@${route.dev}`;
        let seen = false;
        let copy: number | undefined;
        const watch = (e: RouteEvent, at: number) => {
          if (e.key !== key || e.add !== (op === "add")) return;
          if (e.table === RT_TABLE_MAIN) seen = true;
          else if (e.table === this.#table && seen) copy ??= at;
        };
        const source = this.#sendOne(this.#request({ ...route, op }));
        const deadline = performance.now() + cmd.timeoutMs;
        while (copy === undefined) {
          this.#drain(watch);
          if (copy !== undefined) break;
          const left = deadline - performance.now();
          if (left <= 0) break;
          this.#events.wait(left);
        }
        if (!seen || copy === undefined) reply.missed++;
        else reply[op].push(copy - source);
      }
    }
    this.#filter(false);
    return reply;
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ args: Deno.args, options: { table: { type: "string" } } });
  const table = Number(values.table ?? "539098368");
  const probe = new Probe(table);
  const out = (value: unknown) => console.log(JSON.stringify(value));
  out({ ready: true });
  let rest = "";
  for await (const chunk of Deno.stdin.readable.pipeThrough(new TextDecoderStream())) {
    const lines = (rest + chunk).split("\n");
    rest = lines.pop() ?? "";
    for (const line of lines) {
      if (!line.trim()) continue;
      const cmd = JSON.parse(line) as ConvergeCommand | LatencyCommand | { cmd: "quit" };
      try {
        if (cmd.cmd === "quit") return;
        out(cmd.cmd === "converge" ? probe.converge(cmd) : probe.latency(cmd));
      } catch (e) {
        out({ error: e instanceof Error ? e.message : String(e) });
      }
    }
  }
}

if (import.meta.main) await main();
