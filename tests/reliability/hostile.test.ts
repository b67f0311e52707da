/**
 * Hostile input. An unprivileged local process (uid 65534, no capabilities) cannot even deliver
 * a datagram to the daemon's netlink socket: the kernel refuses unicast to a netlink port without
 * `CAP_NET_ADMIN` for rtnetlink (`netlink_sendmsg`: `EPERM`). A local process that has the
 * capability but is not the kernel (a misbehaving neighbour; here uid 65534 with only
 * `CAP_NET_ADMIN`) can: its crafted messages — a fake deletion of a copy, a fake new LAN, a fake
 * link down, garbage, a flood — must be ignored (the daemon acts only on sender port 0) and
 * counted (`droppedForeign` in the `Stopped` line), and the copies must stay as the oracle wants.
 */

import { deepEqual, equal, match, ok } from "node:assert/strict";
import { firezone, FIREZONE_TABLE, LAN } from "../kernel/firezone.ts";
import { logLines, spawnLinkmirror } from "../kernel/linkmirror.ts";
import { kernelTest, type Netns } from "../kernel/netns.ts";
import { actualCopies, readHostState, waitExact } from "./oracle.ts";

/** The checkout's root: the sender and the modules it imports are copied from `src/` and `tests/`. */
const ROOT = new URL("../../", import.meta.url).pathname;
/** The sender, relative to {@linkcode ROOT}. */
const SENDER = "tests/reliability/scripts/hostile_sender.ts";
const NOBODY = 65534;
const FLOOD = 10_000;

/** One line of `/proc/PID/net/netlink`. */
interface NetlinkSocketInfo {
  protocol: number;
  portId: number;
  groups: number;
  inode: number;
}

/** The netlink sockets a process holds: its fds' inodes matched in its namespace's table. */
async function netlinkSockets(pid: number): Promise<NetlinkSocketInfo[]> {
  const inodes = new Set<number>();
  for await (const entry of Deno.readDir(`/proc/${pid}/fd`)) {
    try {
      const target = await Deno.readLink(`/proc/${pid}/fd/${entry.name}`);
      const m = /^socket:\[(\d+)\]$/.exec(target);
      if (m) inodes.add(Number(m[1]));
    } catch {
      // The fd closed in between.
    }
  }
  // /proc/PID/net is the network namespace of PID: the test namespace, read from outside.
  const table = await Deno.readTextFile(`/proc/${pid}/net/netlink`);
  return table.trim().split("\n").slice(1).map((line) => line.trim().split(/\s+/))
    .map((f) => ({
      protocol: Number(f[1]),
      portId: Number(f[2]),
      groups: parseInt(f[3], 16),
      inode: Number(f[9]),
    }))
    .filter((s) => inodes.has(s.inode));
}

async function linkIndex(ns: Netns, name: string): Promise<number> {
  const [link] = await ns.ipJson<{ ifindex: number }[]>("link", "show", name);
  return link.ifindex;
}

/** What the sender printed. */
interface SenderReport {
  uid: number;
  capEff: string;
  attempted: number;
  sent: number;
  failed: string[];
  multicast: string;
}

/** Runs the sender as uid 65534 with the given capabilities (`-all` or `-all,+net_admin`). */
async function sendAsNobody(
  ns: Netns,
  caps: string,
  args: string[],
): Promise<SenderReport> {
  // Deno needs a cache directory its uid can write, and the sender a copy of the code it can
  // read: the checkout may lie below a directory only root can enter (`mktemp -d` makes 0700).
  const denoDir = await Deno.makeTempDir({ prefix: "lmt-nobody-" });
  const code = await Deno.makeTempDir({ prefix: "lmt-sender-" });
  try {
    await Deno.chown(denoDir, NOBODY, NOBODY);
    await hostCommand(["cp", "-r", `${ROOT}src`, `${ROOT}tests`, code]);
    await hostCommand(["chmod", "-R", "a+rX", code]);
    const run = await ns.exec([
      "setpriv",
      `--reuid=${NOBODY}`,
      `--regid=${NOBODY}`,
      "--clear-groups",
      `--inh-caps=${caps}`,
      `--ambient-caps=${caps}`,
      `--bounding-set=${caps}`,
      Deno.execPath(),
      "run",
      "-A",
      `${code}/${SENDER}`,
      ...args,
    ], { env: { DENO_DIR: denoDir, HOME: denoDir, NO_COLOR: "1" }, timeoutMs: 60_000 });
    equal(run.code, 0, run.stderr);
    const report = JSON.parse(run.stdout.trim()) as SenderReport;
    equal(report.uid, NOBODY);
    return report;
  } finally {
    await Deno.remove(denoDir, { recursive: true });
    await Deno.remove(code, { recursive: true });
  }
}

/** Runs `command` on the host (no namespace: it only copies files), failing on a non-zero exit. */
async function hostCommand(command: string[]): Promise<void> {
  const out = await new Deno.Command(command[0], { args: command.slice(1) }).output();
  equal(out.code, 0, new TextDecoder().decode(out.stderr));
}

kernelTest(
  "hostile input: crafted netlink messages from other local processes are ignored and counted",
  async (ns) => {
    await firezone(ns);
    const daemon = spawnLinkmirror(ns, ["watch", "--log-level", "debug"]);
    await daemon.waitForLine(/"message":"Watching"/, { timeoutMs: 20_000 });
    const before = await waitExact(ns, [FIREZONE_TABLE], { message: "copies after start" });

    const sockets = (await netlinkSockets(daemon.pid)).filter((s) => s.protocol === 0);
    const events = sockets.find((s) => s.groups !== 0);
    const requests = sockets.find((s) => s.groups === 0);
    ok(events && requests, `the daemon's two rtnetlink sockets: ${JSON.stringify(sockets)}`);
    const args = [
      "--port",
      String(events.portId),
      "--extra-port",
      String(requests.portId),
      "--table",
      FIREZONE_TABLE,
      "--oif",
      String(await linkIndex(ns, LAN.dev)),
      "--lan",
      LAN.prefix,
      "--address",
      LAN.address,
      "--flood",
      String(FLOOD),
    ];

    // Unprivileged: the kernel refuses every datagram.
    const unprivileged = await sendAsNobody(ns, "-all", args);
    equal(BigInt(`0x${unprivileged.capEff}`), 0n, "the sender has no capabilities");
    equal(unprivileged.sent, 0);
    ok(unprivileged.failed.length > 0);
    for (const f of unprivileged.failed) match(f, /errno 1$/, "EPERM");
    match(unprivileged.multicast, /^refused/, "unprivileged multicast to the route groups");

    // With CAP_NET_ADMIN but not the kernel: delivered, and must be ignored and counted.
    const neighbour = await sendAsNobody(ns, "-all,+net_admin", args);
    equal(BigInt(`0x${neighbour.capEff}`), 1n << 12n, "the sender has only CAP_NET_ADMIN");
    deepEqual(neighbour.failed, []);
    ok(neighbour.sent > FLOOD, `${neighbour.sent} datagrams delivered`);

    // A real change after the forged ones: once it is mirrored, the daemon has read past them.
    await ns.ip("route", "add", "10.77.0.0/24", "dev", LAN.dev);
    const after = await waitExact(ns, [FIREZONE_TABLE], { message: "the real change mirrored" });
    const copies = actualCopies(after.state, FIREZONE_TABLE);
    ok(copies.some((c) => c.startsWith("10.77.0.0/24 ")), copies.join("\n"));
    ok(!copies.some((c) => c.startsWith("10.66.0.0/24 ")), "the forged LAN was not mirrored");
    deepEqual(
      copies.filter((c) => !c.startsWith("10.77.0.0/24 ")),
      before.copies.get(FIREZONE_TABLE),
      "the copies the forged messages named are untouched",
    );
    // Nothing was deleted and re-added in between: the daemon made no change but the real one.
    const changes = logLines(daemon.stderrLines).filter((l) =>
      /^(add|delete) /.test(String(l.message))
    );
    deepEqual(changes.slice(before.copies.get(FIREZONE_TABLE)!.length).map((l) => l.dst), [
      "10.77.0.0/24",
    ]);

    equal((await daemon.stop()).code, 0);
    const stopped = logLines(daemon.stderrLines).find((l) => l.message === "Stopped");
    ok(stopped, daemon.output());
    // With CAP_NET_ADMIN the forged multicast to the route group reached the daemon too.
    equal(neighbour.multicast, "delivered");
    equal(stopped.droppedForeign, neighbour.sent + 1, JSON.stringify(stopped));
    equal(stopped.malformed, 0, "foreign datagrams are dropped before decoding");
    deepEqual(actualCopies(await readHostState(ns, [FIREZONE_TABLE]), FIREZONE_TABLE), copies);
    console.log(
      `hostile: uid ${NOBODY} without capabilities: 0 of ${unprivileged.attempted} datagrams ` +
        `delivered (the kernel says EPERM), multicast ${unprivileged.multicast}; with CAP_NET_ADMIN: ` +
        `${neighbour.sent} forged datagrams and 1 forged multicast ignored and counted (droppedForeign ` +
        `${stopped.droppedForeign}); copies unchanged`,
    );
  },
  { timeoutMs: 90_000 },
);
