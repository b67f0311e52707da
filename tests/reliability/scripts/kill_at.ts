/**
 * Runs a command and kills it with SIGKILL in the middle of its work: after it made the N-th
 * route change of protocol P in table T, as seen on a socket subscribed to the route groups.
 * Kernel requests go out in batches, so the kill lands between two batches of an apply. The
 * command runs at the lowest priority (`nice -n 19`), so that on a busy machine this process,
 * woken by the kernel's notification, runs before the command's next batch (the test pins both
 * to one CPU with `taskset`).
 *
 * With `--arm-on-signal`, changes are counted only after this process got SIGUSR1 (whatever
 * was queued before is discarded first; `armed` is printed on stderr), so that a daemon can be
 * killed in a later apply rather than in its start-up sync.
 *
 * Prints one JSON line on stdout: `{ killed, changesSeen, code, signal, overrun, stderr }`.
 *
 * Usage: `deno run -A kill_at.ts --after N --table T [--protocol P] [--arm-on-signal]
 *   [--timeout-ms MS] -- COMMAND ARGS...`
 *
 * @module
 */

import { Conn } from "../../../src/netlink/conn.ts";
import { RTNLGRP } from "../../../src/netlink/constants.ts";
import { DecodeError } from "../../../src/netlink/errors.ts";
import { decodeRtnlMessage } from "../../../src/netlink/rtnl_message.ts";
import { NetlinkSocket } from "../../../src/netlink/socket.ts";
import { assertInsideTestNetns } from "../../kernel/scripts/guard.ts";

assertInsideTestNetns();

const separator = Deno.args.indexOf("--");
if (separator < 0 || separator === Deno.args.length - 1) {
  console.error("usage: kill_at.ts --after N --table T [--protocol P] [--arm-on-signal] -- CMD...");
  Deno.exit(2);
}
const options = Deno.args.slice(0, separator);
const command = Deno.args.slice(separator + 1);
const option = (name: string, fallback?: number): number => {
  const i = options.indexOf(name);
  const value = i < 0 ? fallback : Number(options[i + 1]);
  if (value === undefined || !Number.isFinite(value)) throw new Error(`${name} needs a number`);
  return value;
};
const after = option("--after");
const table = option("--table");
const protocol = option("--protocol", 77);
const timeoutMs = option("--timeout-ms", 30_000);
let armed = !options.includes("--arm-on-signal");

const socket = NetlinkSocket.open({
  groups: [RTNLGRP.IPV4_ROUTE, RTNLGRP.IPV6_ROUTE],
  receiveBuffer: 64 << 20,
});
const conn = new Conn(socket);
let seen = 0;
let overrun = false;

function count(): void {
  const batch = conn.drainEvents();
  overrun ||= batch.overrun;
  if (!armed) return;
  for (const message of batch.messages) {
    try {
      const event = decodeRtnlMessage(message);
      if (
        event.kind === "route" && event.route.protocol === protocol && event.route.table === table
      ) seen++;
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
    }
  }
}

if (!armed) {
  Deno.addSignalListener("SIGUSR1", () => {
    conn.drainEvents(); // What happened before arming does not count.
    armed = true;
    console.error("armed");
  });
}

const child = new Deno.Command("nice", {
  args: ["-n", "19", ...command],
  stdin: "null",
  stdout: "null",
  stderr: "piped",
}).spawn();
const stderrText = new Response(child.stderr).text();
let status: Deno.CommandStatus | undefined;
child.status.then((s) => {
  status = s;
  socket.wake();
});
console.error("ready");

let killed = false;
const deadline = performance.now() + timeoutMs;
while (status === undefined && !killed) {
  const left = deadline - performance.now();
  if (left <= 0) {
    child.kill("SIGTERM");
    break;
  }
  const result = await conn.wait(Math.min(left, 100));
  if (result === "readable") count();
  if (armed && seen >= after && status === undefined) {
    child.kill("SIGKILL");
    killed = true;
  }
}
const final = await child.status;
socket.close();
const stderr = (await stderrText).split("\n").slice(-5).join("\n");
console.log(JSON.stringify({
  killed: killed && final.signal === "SIGKILL",
  changesSeen: seen,
  code: final.code,
  signal: final.signal,
  overrun,
  stderr,
}));
