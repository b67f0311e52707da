import { deepEqual, equal, ok } from "node:assert/strict";
import { firezone, FIREZONE_TABLE, LAN, routeDevice, tableRoutes } from "./firezone.ts";
import { logLines, spawnLinkmirror } from "./linkmirror.ts";
import { kernelTest, type Netns, type NetnsProcess, waitFor } from "./netns.ts";

/** linkmirror's copies in the Firezone table as `dst dev`, sorted. */
async function copies(ns: Netns, table = FIREZONE_TABLE): Promise<string[]> {
  return (await tableRoutes(ns, table)).filter((r) => r.protocol === "77")
    .map((r) => `${r.dst} ${r.dev}`).sort();
}

/** Waits until the copies are exactly `expected`. */
async function copiesBecome(ns: Netns, expected: string[], message: string): Promise<void> {
  const want = [...expected].sort();
  let last: string[] = [];
  try {
    await waitFor(async () => {
      last = await copies(ns);
      return JSON.stringify(last) === JSON.stringify(want);
    }, { timeoutMs: 5000, message });
  } catch (e) {
    deepEqual(last, want, `${message}: ${e}`);
  }
}

async function startWatch(
  ns: Netns,
  args: string[] = [],
  env: Record<string, string> = {},
): Promise<NetnsProcess> {
  const daemon = spawnLinkmirror(ns, ["watch", "--log-level", "debug", ...args], { env });
  await daemon.waitForLine(/"message":"Watching"/, { timeoutMs: 15_000 });
  return daemon;
}

const BASE = [`${LAN.prefix} ${LAN.dev}`, `${LAN.prefix6} ${LAN.dev}`, `fe80::/64 ${LAN.dev}`];

kernelTest(
  "watch: full sync at start, roaming to another subnet, TCP to the LAN works",
  async (ns) => {
    const peer = await firezone(ns);
    const daemon = await startWatch(ns);
    await copiesBecome(ns, BASE, "copies after start");
    equal(await routeDevice(ns, LAN.peer), LAN.dev);

    // Roam: the LAN address moves to 10.44.0.0/24 (new DHCP lease on another network).
    await ns.ip("address", "del", `${LAN.address}/24`, "dev", LAN.dev);
    await peer.ip("address", "del", `${LAN.peer}/24`, "dev", LAN.peerDev);
    await ns.ip("address", "add", "10.44.0.2/24", "dev", LAN.dev);
    await peer.ip("address", "add", "10.44.0.1/24", "dev", LAN.peerDev);
    await copiesBecome(
      ns,
      [`10.44.0.0/24 ${LAN.dev}`, `${LAN.prefix6} ${LAN.dev}`, `fe80::/64 ${LAN.dev}`],
      "the old copy goes, the new one comes",
    );
    equal(await routeDevice(ns, "10.44.0.1"), LAN.dev);
    const server = peer.spawn([
      Deno.execPath(),
      "eval",
      `const l = Deno.listen({ hostname: "10.44.0.1", port: 7000 }); console.error("up");
     for await (const c of l) { await c.write(new TextEncoder().encode("hi")); c.close(); }`,
    ]);
    await server.waitForLine(/up/, { timeoutMs: 10_000 });
    const client = await ns.exec([
      Deno.execPath(),
      "eval",
      `const c = await Deno.connect({ hostname: "10.44.0.1", port: 7000 });
     const b = new Uint8Array(2); await c.read(b); console.log(new TextDecoder().decode(b));`,
    ], { timeoutMs: 5000 });
    equal(client.stdout.trim(), "hi", `TCP after the roam: ${client.stderr}`);

    // SIGTERM, and SIGKILL only if it has not exited after a generous 30 s (a hang bound, not a
    // timing): exit code 0 says it stopped by itself.
    const status = await daemon.stop(30_000);
    equal(status.code, 0, daemon.output());
    ok(logLines(daemon.stderrLines).some((l) => l.message === "Stopped"));
    // Copies stay after a plain stop (no --flush-on-exit).
    equal((await copies(ns)).length, 3);
  },
);

kernelTest("watch: a second LAN link and an IPv6 prefix come and go", async (ns) => {
  await firezone(ns);
  const daemon = await startWatch(ns);
  await copiesBecome(ns, BASE, "copies after start");

  await ns.connectPeer({ localIf: "lan1", peerIf: "lan1", localAddress: "172.20.0.1/24" });
  await waitFor(async () => (await copies(ns)).includes("172.20.0.0/24 lan1"), {
    message: "the second LAN's copy",
  });
  await ns.ip("link", "set", "lan1", "down");
  await waitFor(async () => !(await copies(ns)).some((c) => c.endsWith(" lan1")), {
    message: "the second LAN's copies to go when it goes down",
  });

  await ns.ip("-6", "address", "add", "2001:db8:99::5/64", "dev", LAN.dev, "nodad");
  await waitFor(async () => (await copies(ns)).includes(`2001:db8:99::/64 ${LAN.dev}`), {
    message: "the IPv6 prefix's copy",
  });
  await ns.ip("-6", "address", "del", "2001:db8:99::5/64", "dev", LAN.dev);
  await copiesBecome(ns, BASE, "the IPv6 prefix's copy removed");
  equal(daemon.exited, undefined, "still running");
});

kernelTest(
  "watch: the VPN flushing and refilling its table, and a copy deleted by hand",
  async (ns) => {
    await firezone(ns);
    const daemon = await startWatch(ns);
    await copiesBecome(ns, BASE, "copies after start");

    await ns.ip("route", "del", LAN.prefix, "table", FIREZONE_TABLE, "proto", "77");
    await copiesBecome(ns, BASE, "a copy deleted by hand is repaired");

    const vpn = (await tableRoutes(ns)).filter((r) => r.protocol !== "77");
    await ns.ip("route", "flush", "table", FIREZONE_TABLE);
    await ns.ip("-6", "route", "flush", "table", FIREZONE_TABLE);
    // The VPN restarts: its routes come back; linkmirror restores its copies beside them.
    await ns.ip("route", "add", "default", "dev", "tun0", "table", FIREZONE_TABLE);
    await ns.ip("route", "add", "100.64.0.0/11", "dev", "tun0", "table", FIREZONE_TABLE);
    await ns.ip("-6", "route", "add", "default", "dev", "tun0", "table", FIREZONE_TABLE);
    await copiesBecome(ns, BASE, "copies restored after the VPN's flush");
    deepEqual((await tableRoutes(ns)).filter((r) => r.protocol !== "77"), vpn);
    equal(await routeDevice(ns, LAN.peer), LAN.dev);
    equal(daemon.exited, undefined);
  },
);

kernelTest("watch: an overrun with a tiny receive buffer still ends exact", async (ns) => {
  await firezone(ns);
  const daemon = await startWatch(ns, [], { LINKMIRROR_RECEIVE_BUFFER: "4096" });
  await copiesBecome(ns, BASE, "copies after start");
  // Thousands of changes at once: 2,000 on-link /32s in main, added in one batch.
  const lines = Array.from(
    { length: 2000 },
    (_, i) => `route add 10.${100 + (i >> 8)}.${i & 255}.1/32 dev ${LAN.dev}`,
  ).join("\n");
  // The daemon is stopped while the burst happens, so the 4 KiB buffer certainly overflows.
  daemon.kill("SIGSTOP");
  await ns.exec(["ip", "-batch", "-"], { stdin: lines + "\n" });
  daemon.kill("SIGCONT");
  await waitFor(async () => (await copies(ns)).length === BASE.length + 2000, {
    timeoutMs: 20_000,
    message: "all 2,000 copies",
  });
  const overruns = logLines(daemon.stderrLines).filter((l) =>
    /receive buffer overrun/.test(String(l.message))
  );
  ok(overruns.length > 0, "the overrun was noticed and logged");
  equal(overruns[0].severity, "WARN");
  const removal = lines.replaceAll("route add", "route del");
  await ns.exec(["ip", "-batch", "-"], { stdin: removal + "\n" });
  await copiesBecome(ns, BASE, "all 2,000 copies gone again");
});

kernelTest("watch --flush-on-exit deletes the copies on SIGTERM", async (ns) => {
  await firezone(ns);
  const vpn = await tableRoutes(ns);
  const daemon = await startWatch(ns, ["--flush-on-exit"]);
  await copiesBecome(ns, BASE, "copies after start");
  daemon.kill("SIGTERM");
  equal((await daemon.status).code, 0, daemon.output());
  deepEqual(await tableRoutes(ns), vpn);
});
