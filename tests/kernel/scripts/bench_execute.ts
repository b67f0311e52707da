/**
 * Times adding N on-link routes (default 10,000) inside the test namespace: `Conn.execute` with
 * several socket/batch settings, and `ip -batch` with the same `route add` lines, side by side.
 * Each run uses a table of its own. Prints one JSON object on stdout:
 * `{ n, rounds, runs: [{ name, ms, datagrams?, maxBatchMessages?, errors, routes }] }`, `ms` being
 * the best of the rounds.
 *
 * Usage (inside a namespace with an up link `v0`): `deno run -A bench_execute.ts [N] [ROUNDS]`
 *
 * @module
 */

import { Conn, type ConnOptions } from "../../../src/netlink/conn.ts";
import { NLM_F, RTM } from "../../../src/netlink/constants.ts";
import { NetlinkSocket, type NetlinkSocketOptions } from "../../../src/netlink/socket.ts";
import type { Transport } from "../../../src/netlink/transport.ts";
import { assertInsideTestNetns } from "./guard.ts";
import { ifindex, routeDumpPayload, testPrefix, testRoutePayload } from "./route_payload.ts";

assertInsideTestNetns();
const n = Number(Deno.args[0] ?? 10_000);
const oif = ifindex("v0");

interface Run {
  name: string;
  ms: number;
  errors: number;
  routes: number;
  datagrams?: number;
  maxBatchMessages?: number;
}

function countRoutes(table: number): number {
  const sock = NetlinkSocket.open();
  try {
    return new Conn(sock).dump(RTM.GETROUTE, routeDumpPayload(table)).length;
  } finally {
    sock.close();
  }
}

function viaExecute(
  table: number,
  socketOptions: NetlinkSocketOptions,
  connOptions: ConnOptions,
): Run {
  const requests = Array.from({ length: n }, (_, i) => ({
    type: RTM.NEWROUTE,
    flags: NLM_F.CREATE | NLM_F.EXCL,
    payload: testRoutePayload(i, oif, table),
  }));
  const sock = NetlinkSocket.open(socketOptions);
  let datagrams = 0;
  const counting: Transport = {
    pid: sock.pid,
    receiveBufferBytes: sock.receiveBufferBytes,
    maxSendBytes: sock.maxSendBytes,
    send: (data) => {
      datagrams++;
      sock.send(data);
    },
    tryReceive: () => sock.tryReceive(),
    waitSync: (ms) => sock.waitSync(ms),
    wait: (ms) => sock.wait(ms),
    wake: () => sock.wake(),
    close: () => sock.close(),
  };
  const conn = new Conn(counting, connOptions);
  const maxBatchMessages = conn.maxBatchMessages;
  const started = performance.now();
  const results = conn.execute(requests);
  const ms = performance.now() - started;
  sock.close();
  return {
    name: "",
    ms,
    datagrams,
    maxBatchMessages,
    errors: results.filter((r) => r !== null).length,
    routes: countRoutes(table),
  };
}

async function viaIpBatch(table: number): Promise<Run> {
  const lines = Array.from(
    { length: n },
    (_, i) => `route add ${testPrefix(i)} dev v0 table ${table} proto 77 scope link`,
  );
  const file = await Deno.makeTempFile({ suffix: ".ipbatch" });
  await Deno.writeTextFile(file, lines.join("\n") + "\n");
  const started = performance.now();
  const out = await new Deno.Command("ip", { args: ["-batch", file], stderr: "piped" }).output();
  const ms = performance.now() - started;
  await Deno.remove(file);
  const errors = out.success ? 0 : new TextDecoder().decode(out.stderr).split("\n").length;
  return { name: "", ms, errors, routes: countRoutes(table) };
}

async function flush(table: number): Promise<void> {
  const out = await new Deno.Command("ip", { args: ["route", "flush", "table", String(table)] })
    .output();
  if (!out.success) throw new Error(`ip route flush table ${table} failed`);
}

const configs: [string, (table: number) => Run | Promise<Run>][] = [
  ["ip -batch", (table) => viaIpBatch(table)],
  ["execute, one request per datagram", (t) => viaExecute(t, {}, { maxBatchMessages: 1 })],
  ["execute, default socket (rcvbuf 208 KiB)", (t) => viaExecute(t, {}, {})],
  ["execute, rcvbuf 4 MiB", (t) => viaExecute(t, { receiveBuffer: 4 << 20 }, {})],
  [
    "execute, rcvbuf 16 MiB, sndbuf 4 MiB, 1 MiB datagrams",
    (t) =>
      viaExecute(t, { receiveBuffer: 16 << 20, sendBuffer: 4 << 20 }, { maxBatchBytes: 1 << 20 }),
  ],
];

// Rounds alternate the configurations so that warm-up and cache effects are shared; each
// configuration keeps its own table, flushed after every round but the last.
const rounds = Number(Deno.args[1] ?? 3);
const runs: Run[] = [];
for (let round = 0; round < rounds; round++) {
  for (const [index, [name, run]] of configs.entries()) {
    const table = 1000 + index;
    const result = await run(table);
    if (round < rounds - 1) await flush(table);
    const previous = runs.find((r) => r.name === name);
    if (!previous) runs.push({ ...result, name, ms: result.ms });
    else Object.assign(previous, { ...result, name, ms: Math.min(previous.ms, result.ms) });
  }
}
console.log(JSON.stringify({ n, rounds, runs }));
