/**
 * SIGHUP: the daemon logs it, resyncs from full dumps and keeps running. The copy it must bring
 * back is deleted in a way that sends no event: with `net.ipv6.route.skip_notify_on_dev_down=1`,
 * disabling IPv6 on the LAN link deletes its IPv6 routes silently (and sends no link event).
 */

import { equal, ok } from "node:assert/strict";
import { firezone, FIREZONE_TABLE, LAN } from "./firezone.ts";
import { logLines, spawnLinkmirror } from "./linkmirror.ts";
import { kernelTest, type Netns, waitFor } from "./netns.ts";

async function copies6(ns: Netns, prefix: string): Promise<number> {
  const routes = await ns.ipJson<{ dst: string; protocol?: string }[]>(
    "-6",
    "route",
    "show",
    "table",
    FIREZONE_TABLE,
  );
  return routes.filter((r) => r.dst === prefix && r.protocol === "77").length;
}

kernelTest("SIGHUP: logged, a full resync brings back a copy lost without an event", async (ns) => {
  await firezone(ns);
  // --allow-prefix: the IPv6 LAN is then local address space whether or not the host holds its
  // address; otherwise the address going and coming (below) changes the plan, and the daemon
  // notices the loss through the failed delete of the copy, without the SIGHUP.
  const daemon = spawnLinkmirror(ns, [
    "watch",
    "--resync-interval",
    "0",
    "--allow-prefix",
    LAN.prefix6,
  ]);
  await daemon.waitForLine(/"message":"Watching"/, { timeoutMs: 20_000 });
  await waitFor(async () => (await copies6(ns, LAN.prefix6)) === 1, { message: "the copy" });

  await ns.exec(["sysctl", "-qw", "net.ipv6.route.skip_notify_on_dev_down=1"]);
  await ns.exec(["sysctl", "-qw", `net.ipv6.conf.${LAN.dev}.disable_ipv6=1`]);
  await ns.exec(["sysctl", "-qw", `net.ipv6.conf.${LAN.dev}.disable_ipv6=0`]);
  await ns.ip("-6", "address", "add", `${LAN.address6}/64`, "dev", LAN.dev, "nodad");
  // A barrier: a new LAN subnet is copied, so every event before it has been handled.
  await ns.ip("address", "add", "10.63.0.1/24", "dev", LAN.dev);
  await waitFor(async () => {
    const routes = await ns.ipJson<{ dst: string }[]>("route", "show", "table", FIREZONE_TABLE);
    return routes.some((r) => r.dst === "10.63.0.0/24");
  }, { message: "the barrier's copy" });
  equal(await copies6(ns, LAN.prefix6), 0, "the daemon did not see the IPv6 copy go");

  daemon.kill("SIGHUP");
  await daemon.waitForLine(/"message":"SIGHUP: full resync"/, { message: "the SIGHUP line" });
  await waitFor(async () => (await copies6(ns, LAN.prefix6)) === 1, {
    message: "the copy back after SIGHUP",
  });
  ok(logLines(daemon.stderrLines).some((l) => l.message === "SIGHUP: full resync"));
  equal(daemon.exited, undefined, "still running");
  const stopped = await daemon.stop();
  equal(stopped.code, 0, daemon.output());
});
