/**
 * Conflicts and foreign writers: another process puts a route on a prefix linkmirror mirrors, or
 * fights linkmirror's copies in a loop. linkmirror reports the conflict, never deletes or
 * replaces the foreign route, and does not fight in a tight loop: the fought prefix alone backs
 * off (one WARN "Fight over <prefix>" per episode), every other prefix is mirrored at once.
 */

import { deepEqual, equal, ok } from "node:assert/strict";
import { firezone, FIREZONE_TABLE, LAN, vpnTableRoute } from "../kernel/firezone.ts";
import { logLines, spawnLinkmirror } from "../kernel/linkmirror.ts";
import { kernelTest, type Netns, type NetnsProcess, waitFor } from "../kernel/netns.ts";
import { foreignSnapshot, readHostState, readTable, waitExact } from "./oracle.ts";

const TABLES = [FIREZONE_TABLE];

async function startWatch(ns: Netns, args: string[] = []): Promise<NetnsProcess> {
  const daemon = spawnLinkmirror(ns, ["watch", "--log-level", "debug", ...args]);
  await daemon.waitForLine(/"message":"Watching"/, { timeoutMs: 20_000 });
  await waitExact(ns, TABLES, { message: "copies after start" });
  return daemon;
}

/** The routes of the VPN's table for `prefix`, as `ip -j -d` shows them. */
async function routesFor(ns: Netns, family: 4 | 6, prefix: string) {
  return (await readTable(ns, FIREZONE_TABLE, family)).filter((r) => r.dst === prefix);
}

/** How many applies the daemon logged: every apply logs exactly one of these lines. */
function applyCount(daemon: NetnsProcess): number {
  return logLines(daemon.stderrLines)
    .filter((l) => /^(Applied:|Nothing to change|Apply failed)/.test(String(l.message))).length;
}

/** How often the daemon added a copy of `prefix` (its debug log has one line per change). */
function addsOf(daemon: NetnsProcess, prefix: string): number {
  return logLines(daemon.stderrLines)
    .filter((l) => String(l.message).startsWith(`add ${prefix} `)).length;
}

kernelTest("a foreign route on a mirrored prefix is reported and never touched", async (ns) => {
  await firezone(ns);
  // With --precedence lan: by default the VPN's route simply wins, without a conflict (see
  // tests/kernel/security_precedence.test.ts); here the conflict handling is under test.
  const daemon = await startWatch(ns, ["--precedence", "lan"]);

  // Another process claims the LAN's prefixes in the VPN's table (IPv4 and IPv6).
  await vpnTableRoute(ns, LAN.prefix, "static", "metric", "5");
  await vpnTableRoute(ns, LAN.prefix6, "dhcp");
  const foreign = foreignSnapshot(await readHostState(ns, TABLES));
  await daemon.waitForLine((l) => l.includes('"message":"Conflict:') && l.includes(LAN.prefix6), {
    message: "the conflict WARN for both prefixes",
  });
  ok(daemon.stderrLines.some((l) => l.includes('"Conflict:') && l.includes(LAN.prefix)));
  const conflict = logLines(daemon.stderrLines).find((l) => /^Conflict:/.test(String(l.message)));
  equal(conflict?.severity, "WARN");
  // linkmirror withdrew its own copies of those prefixes and left the foreign ones alone.
  await waitExact(ns, TABLES, { message: "the table with the conflicts" });
  deepEqual((await routesFor(ns, 4, LAN.prefix)).map((r) => r.protocol), ["static"]);
  deepEqual((await routesFor(ns, 6, LAN.prefix6)).map((r) => r.protocol), ["dhcp"]);
  deepEqual(foreignSnapshot(await readHostState(ns, TABLES)), foreign);

  // The other process replaces the IPv4 route by one of its own at metric 0 (the key copies had
  // before they moved to the source metric + 2^31).
  await ns.ip("route", "del", LAN.prefix, "table", FIREZONE_TABLE, "proto", "static");
  await waitFor(async () => (await routesFor(ns, 4, LAN.prefix)).some((r) => r.protocol === "77"), {
    message: "the copy back once the prefix is free",
  });
  await ns.ip(
    "route",
    "replace",
    LAN.prefix,
    "dev",
    "tun0",
    "table",
    FIREZONE_TABLE,
    "proto",
    "boot",
  );
  await waitExact(ns, TABLES, { message: "the table after the replace" });
  const replaced = foreignSnapshot(await readHostState(ns, TABLES));
  ok(replaced.some((l) => l.includes(`"dst":"${LAN.prefix}"`) && l.includes('"boot"')));
  // An unrelated event makes the daemon plan again: still nothing of the writer's is touched.
  await ns.ip("link", "set", "tun0", "mtu", "1400");
  await waitExact(ns, TABLES, { message: "the table after an unrelated event" });
  deepEqual(foreignSnapshot(await readHostState(ns, TABLES)), replaced);
  equal(daemon.exited, undefined);
});

kernelTest(
  "a writer deleting one copy in a loop: one WARN names the prefix, bounded re-adds, others at once",
  async (ns) => {
    await firezone(ns);
    const daemon = await startWatch(ns);
    const before = addsOf(daemon, LAN.prefix);
    // As fast as `ip` goes, for 5 s: delete the LAN's IPv4 copy whenever it is there.
    const writer = ns.spawn([
      "sh",
      "-c",
      `end=$(($(date +%s) + 5)); n=0; ok=0
       while [ "$(date +%s)" -lt "$end" ]; do
         n=$((n + 1))
         ip route del ${LAN.prefix} table ${FIREZONE_TABLE} proto 77 2>/dev/null && ok=$((ok + 1))
       done
       echo "$n $ok"`,
    ]);
    const warning = await daemon.waitForLine(
      (l) => l.includes('"message":"Fight over') && l.includes(LAN.prefix),
      { timeoutMs: 20_000, message: "the fight WARN" },
    );
    const fight = JSON.parse(warning);
    equal(fight.severity, "WARN");
    ok(/deleted by netlink port \d+/.test(fight.message), fight.message);
    // Mid-fight, a new LAN subnet: copied at once, whatever happens to the fought prefix.
    ok(writer.exited === undefined, "the writer still runs");
    await ns.ip("address", "add", "10.62.0.1/24", "dev", LAN.dev);
    await waitFor(async () => (await routesFor(ns, 4, "10.62.0.0/24")).length === 1, {
      message: "the new subnet's copy during the fight",
    });
    ok(writer.exited === undefined, "copied while the writer still ran");
    const status = await writer.status;
    equal(status.code, 0, writer.output());
    const [attempts, deleted] = writer.stdoutLines[0].trim().split(" ").map(Number);
    // The copy returns after the fight (the hold in force then is at most 30 s).
    await waitExact(ns, TABLES, { message: "the copy back after the fight", timeoutMs: 45_000 });
    const readds = addsOf(daemon, LAN.prefix) - before;
    const warnings = logLines(daemon.stderrLines).filter((l) =>
      String(l.message).startsWith("Fight over")
    );
    equal(warnings.length, 1, "one WARN per episode");
    ok(readds <= 20, `${readds} re-adds in a 5 s fight`);
    ok(deleted >= 2, `the writer really fought: ${deleted} deletes`);
    console.log(
      `fight: the writer tried ${attempts} deletes, ${deleted} found a copy; linkmirror re-added ` +
        `it ${readds} times`,
    );
    equal(daemon.exited, undefined);
  },
);

kernelTest(
  "a writer replacing the copies with its own routes in a loop: its routes are never touched",
  async (ns) => {
    await firezone(ns);
    const daemon = await startWatch(ns);
    // Each round: replace our copy by a foreign route, let linkmirror see it, then delete it.
    // The delete fails if anyone else removed the foreign route in between: counted as touched.
    const writer = await ns.exec([
      "sh",
      "-c",
      `end=$(($(date +%s) + 3)); n=0; touched=0
       while [ "$(date +%s)" -lt "$end" ]; do
         n=$((n + 1))
         ip route replace ${LAN.prefix} dev tun0 table ${FIREZONE_TABLE} proto static
         ip -6 route replace ${LAN.prefix6} dev tun0 table ${FIREZONE_TABLE} proto static
         ip route del ${LAN.prefix} dev tun0 table ${FIREZONE_TABLE} proto static 2>/dev/null ||
           touched=$((touched + 1))
         ip -6 route del ${LAN.prefix6} dev tun0 table ${FIREZONE_TABLE} proto static \\
           2>/dev/null || touched=$((touched + 1))
       done
       echo "$n $touched"`,
    ], { timeoutMs: 20_000 });
    equal(writer.code, 0, writer.stderr);
    const [rounds, touched] = writer.stdout.trim().split(" ").map(Number);
    equal(touched, 0, `linkmirror removed the writer's route ${touched} times`);
    ok(rounds > 10, `${rounds} rounds`);
    await waitExact(ns, TABLES, {
      message: "the copies back once the writer stopped",
      timeoutMs: 45_000,
    });
    const applies = applyCount(daemon);
    console.log(
      `replace fight: ${rounds} rounds, foreign routes touched: ${touched}, ${applies} applies`,
    );
    equal(daemon.exited, undefined);
  },
);
