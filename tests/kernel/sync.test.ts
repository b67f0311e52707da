import { deepEqual, equal, match, ok } from "node:assert/strict";
import {
  firezone,
  FIREZONE_TABLE,
  type IpRoute,
  LAN,
  routeDevice,
  tableRoutes,
  vpnTableRoute,
} from "./firezone.ts";
import { linkmirror, logLines } from "./linkmirror.ts";
import { kernelTest, type Netns } from "./netns.ts";

/** The copies sync must leave in the Firezone table, in `ip -j` words. */
function copies(routes: IpRoute[]): string[] {
  return routes.filter((r) => r.protocol === "77")
    .map((r) =>
      `${r.dst} dev ${r.dev}${r.prefsrc ? ` src ${r.prefsrc}` : ""}${
        r.scope ? ` scope ${r.scope}` : ""
      }`
    )
    .sort();
}

function foreign(routes: IpRoute[]): IpRoute[] {
  return routes.filter((r) => r.protocol !== "77");
}

async function tcpHello(ns: Netns, peer: Netns, host: string, port: number): Promise<boolean> {
  const server = peer.spawn([
    Deno.execPath(),
    "eval",
    `const l = Deno.listen({ hostname: "${host}", port: ${port} });
     console.error("listening");
     for await (const c of l) { await c.write(new TextEncoder().encode("hello")); c.close(); }`,
  ]);
  await server.waitForLine(/listening/, { timeoutMs: 10_000 });
  const client = await ns.exec([
    Deno.execPath(),
    "eval",
    `const c = await Deno.connect({ hostname: "${host}", port: ${port} });
     const b = new Uint8Array(5); await c.read(b); console.log(new TextDecoder().decode(b));`,
  ], { timeoutMs: 5000 });
  await server.stop(1000);
  return client.success && client.stdout.trim() === "hello";
}

kernelTest(
  "sync mirrors the LAN into the Firezone table and TCP to the LAN peer works",
  async (ns) => {
    const peer = await firezone(ns);
    const vpnBefore = await tableRoutes(ns);
    equal(await routeDevice(ns, LAN.peer), "tun0", "before sync the LAN goes into the tunnel");

    const run = await linkmirror(ns, ["sync"]);
    equal(run.code, 0, run.stderr);
    match(run.stdout, /sync: 3 added, 0 replaced, 0 deleted, 0 failed, 0 conflicts, 0 unchanged/);
    const done = logLines(run.stderr).find((l) => l.message === "Sync done");
    equal(done?.severity, "INFO");
    equal(done?.added, 3);
    // Where the time went: each step's milliseconds, and the steps within the command's own.
    const steps = ["detectMs", "readMs", "planMs", "applyMs", "printMs"] as const;
    for (const field of ["startupMs", "durationMs", ...steps]) {
      const ms = done?.[field];
      ok(typeof ms === "number" && ms >= 0, `${field} is a duration: ${ms}`);
    }
    const inside = steps.reduce((sum, field) => sum + (done?.[field] as number), 0);
    ok(inside <= (done?.durationMs as number) + 0.05, `the steps fit in durationMs: ${inside}`);
    ok((done?.applyMs as number) > 0, "the apply took time: it wrote three copies");

    const after = await tableRoutes(ns);
    deepEqual(
      copies(after),
      [
        `${LAN.prefix} dev ${LAN.dev} src ${LAN.address} scope link`,
        `${LAN.prefix6} dev ${LAN.dev}`,
        `fe80::/64 dev ${LAN.dev}`,
      ].sort(),
    );
    deepEqual(foreign(after), vpnBefore, "the VPN's own routes are untouched");
    equal(await routeDevice(ns, LAN.peer), LAN.dev, "after sync the LAN is reached on the LAN");
    equal(await routeDevice(ns, LAN.peer6), LAN.dev);
    ok(await tcpHello(ns, peer, LAN.peer, 7777), "a TCP connection to the LAN peer succeeds");

    const again = await linkmirror(ns, ["sync"]);
    equal(again.code, 0, again.stderr);
    match(again.stdout, /0 added, 0 replaced, 0 deleted, 0 failed, 0 conflicts, 3 unchanged/);

    const flushed = await linkmirror(ns, ["flush"]);
    equal(flushed.code, 0, flushed.stderr);
    match(flushed.stdout, /flush: 3 deleted, 0 failed/);
    deepEqual(await tableRoutes(ns), vpnBefore, "after flush the table is exactly the VPN's again");
    equal(await routeDevice(ns, LAN.peer), "tun0");
  },
);

kernelTest("sync deletes copies whose source is gone, and only those", async (ns) => {
  await firezone(ns);
  await ns.ip("route", "add", "10.9.0.0/24", "dev", LAN.dev, "metric", "50");
  await ns.ip("route", "add", "10.10.0.0/24", "dev", LAN.dev);
  equal((await linkmirror(ns, ["sync"])).code, 0);
  ok(copies(await tableRoutes(ns)).some((r) => r.startsWith("10.9.0.0/24")));

  // The kernel keeps the copy when its source goes: only linkmirror can clean it up.
  await ns.ip("route", "del", "10.9.0.0/24", "dev", LAN.dev, "metric", "50");
  ok(
    copies(await tableRoutes(ns)).some((r) => r.startsWith("10.9.0.0/24")),
    "copy outlives source",
  );
  const run = await linkmirror(ns, ["sync"]);
  equal(run.code, 0, run.stderr);
  match(run.stdout, /0 added, 0 replaced, 1 deleted/);
  const left = copies(await tableRoutes(ns));
  ok(!left.some((r) => r.startsWith("10.9.0.0/24")));
  ok(left.some((r) => r.startsWith("10.10.0.0/24")));
});

kernelTest(
  "--precedence lan: a foreign route on the wanted prefix is a conflict, left alone",
  async (ns) => {
    await firezone(ns);
    await ns.ip("route", "add", "10.20.0.0/24", "dev", LAN.dev);
    // The VPN itself routes 10.20.0.0/24 into the tunnel: that wins, linkmirror reports it (by
    // default it is not even a conflict: the VPN's route wins, see security_precedence.test.ts).
    await vpnTableRoute(ns, "10.20.0.0/24", "static");
    const before = foreign(await tableRoutes(ns));
    const run = await linkmirror(ns, ["sync", "--precedence", "lan"]);
    equal(run.code, 0, run.stderr);
    match(run.stdout, /1 conflicts/);
    ok(
      logLines(run.stderr).some((l) =>
        l.severity === "WARN" && String(l.message).startsWith("Conflict")
      ),
    );
    deepEqual(foreign(await tableRoutes(ns)), before);
    const plan = JSON.parse(
      (await linkmirror(ns, ["plan", "--json", "--precedence", "lan"])).stdout,
    );
    equal(plan.conflicts.length, 1);
    equal(plan.conflicts[0].wanted.dst, "10.20.0.0/24");
    equal(plan.conflicts[0].existing[0].dev, "tun0");
  },
);

kernelTest(
  "routes of another protocol are never deleted, even when they look like copies",
  async (ns) => {
    await firezone(ns);
    // Same prefix and device as a copy would have, but proto static: not ours.
    await vpnTableRoute(ns, "10.30.0.0/24", "static");
    await vpnTableRoute(ns, "10.31.0.0/24", "76");
    const before = foreign(await tableRoutes(ns));
    equal((await linkmirror(ns, ["sync"])).code, 0);
    equal((await linkmirror(ns, ["flush"])).code, 0);
    deepEqual(foreign(await tableRoutes(ns)), before);
    equal(copies(await tableRoutes(ns)).length, 0);
  },
);

kernelTest("sync without CAP_NET_ADMIN fails with one clear line and exit 1", async (ns) => {
  await firezone(ns);
  const { linkmirrorCommand } = await import("./linkmirror.ts");
  const run = await ns.exec([
    "setpriv",
    "--bounding-set=-net_admin",
    "--inh-caps=-net_admin",
    ...linkmirrorCommand(["sync"]),
  ], {
    env: { LINKMIRROR_LOG_FORMAT: "json" },
  });
  equal(run.code, 1, run.stderr);
  const lines = run.stderr.trim().split("\n");
  equal(lines.length, 1, run.stderr);
  match(lines[0], /CAP_NET_ADMIN/);
  // plan only reads, so it works without the capability.
  const plan = await ns.exec([
    "setpriv",
    "--bounding-set=-net_admin",
    ...linkmirrorCommand(["plan"]),
  ]);
  equal(plan.code, 0, plan.stderr);
  equal(copies(await tableRoutes(ns)).length, 0, "nothing was changed");
});

kernelTest(
  "sync writes to several tables, and a table that does not exist yet is created",
  async (ns) => {
    await firezone(ns);
    const run = await linkmirror(ns, [
      "sync",
      "--table",
      FIREZONE_TABLE,
      "--table",
      "51820",
      "--family",
      "inet",
    ]);
    equal(run.code, 0, run.stderr);
    deepEqual(copies(await ns.ipJson<IpRoute[]>("route", "show", "table", "51820")), [
      `${LAN.prefix} dev ${LAN.dev} src ${LAN.address} scope link`,
    ]);
    deepEqual(copies(await tableRoutes(ns)), [
      `${LAN.prefix} dev ${LAN.dev} src ${LAN.address} scope link`,
    ]);
  },
);
