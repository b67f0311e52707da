/**
 * Kernel tests of the netlink socket layer (NetlinkSocket + Conn) against a real kernel, each in
 * its own namespace. The scripts under ./scripts/ run inside the namespace and print JSON; `ip`
 * is the independent oracle.
 */

import { deepEqual, equal, ok } from "node:assert/strict";
import { kernelTest, type Netns } from "./netns.ts";
import { testPrefix } from "./scripts/route_payload.ts";

const script = (name: string) => new URL(`./scripts/${name}`, import.meta.url);

/** A veth pair `v0`/`v1` inside the namespace, both up (on-link routes need an up device). */
async function addVeth(ns: Netns): Promise<void> {
  await ns.ip("link", "add", "v0", "type", "veth", "peer", "name", "v1");
  await ns.ip("link", "set", "v0", "up");
  await ns.ip("link", "set", "v1", "up");
}

/** Runs a script inside the namespace and parses the JSON it prints. */
async function runScript<T>(ns: Netns, name: string, args: string[] = []): Promise<T> {
  const result = await ns.deno(script(name), args, { timeoutMs: 60_000 });
  ok(
    result.success,
    `${name} failed (code ${result.code}${
      result.timedOut ? ", timed out" : ""
    }):\n${result.stderr}`,
  );
  return JSON.parse(result.stdout) as T;
}

interface IpRoute {
  dst: string;
  dev?: string;
  protocol?: string;
  scope?: string;
}

kernelTest("dumps links and routes, the same ones ip lists", async (ns) => {
  await addVeth(ns);
  for (const dst of ["10.1.0.0/24", "10.1.1.0/24", "10.1.2.0/24"]) {
    await ns.ip("route", "add", dst, "dev", "v0", "table", "100");
  }
  await ns.ip("route", "add", "10.2.0.0/24", "dev", "v0");
  const counts = await runScript<{
    pid: number;
    links: number;
    routes: number;
    tableRoutes: number;
    linkTypes: number[];
  }>(ns, "dump_counts.ts", ["100"]);
  ok(counts.pid > 0, "the kernel assigned a port id");
  equal(counts.links, (await ns.ipJson<unknown[]>("link", "show")).length);
  equal(counts.routes, (await ns.ipJson<unknown[]>("-4", "route", "show", "table", "all")).length);
  equal(counts.tableRoutes, 3);
  deepEqual(counts.linkTypes, [16]); // RTM_NEWLINK only: DONE is not returned as a message.
});

kernelTest("execute adds 1,000 routes and ip shows every one of them", async (ns) => {
  await addVeth(ns);
  const out = await runScript<{ ok: number; errors: unknown[] }>(ns, "execute_routes.ts", [
    "1000",
    "100",
  ]);
  deepEqual(out.errors, []);
  equal(out.ok, 1000);
  const routes = await ns.ipJson<IpRoute[]>("route", "show", "table", "100");
  equal(routes.length, 1000);
  const expected = new Set(Array.from({ length: 1000 }, (_, i) => testPrefix(i)));
  for (const route of routes) {
    ok(expected.delete(route.dst), `unexpected route ${route.dst}`);
    equal(route.dev, "v0");
    equal(route.protocol, "77");
    equal(route.scope, "link");
  }
  equal(expected.size, 0);
});

kernelTest(
  "kernel errors surface as NetlinkErrors with errno names and extended acks",
  async (ns) => {
    await addVeth(ns);
    type Described = { op: string; errno: number; code: string; extAck: string | null } | null;
    const out = await runScript<{ batch: Described[]; dumpError: Described }>(ns, "errors.ts", [
      "100",
    ]);
    equal(out.batch[0], null);
    deepEqual(out.batch[1], {
      op: "add route 10.20.0.0/24",
      errno: 17,
      code: "EEXIST",
      extAck: null,
    });
    deepEqual(out.batch[2], {
      op: "add route 10.0.0.1/8",
      errno: 22,
      code: "EINVAL",
      extAck: "Invalid prefix for given prefix length",
    });
    deepEqual(out.batch.slice(3), [null, null]);
    equal(out.dumpError?.code, "EINVAL");
    ok(out.dumpError?.extAck, "the strict dump check explains itself");
    // Only the valid routes were added.
    deepEqual(
      (await ns.ipJson<IpRoute[]>("route", "show", "table", "100")).map((r) => r.dst),
      ["10.20.0.0/24", "10.21.0.0/24", "10.22.0.0/24"],
    );
  },
);

kernelTest("a socket subscribed to RTNLGRP_IPV4_ROUTE sees a route added with ip", async (ns) => {
  await addVeth(ns);
  const listener = ns.spawn([
    Deno.execPath(),
    "run",
    "-A",
    script("events.ts").pathname,
    "10.9.0.0/24",
  ]);
  await listener.waitForLine(/^ready pid=\d+/, { timeoutMs: 10_000 });
  await ns.ip("route", "add", "10.9.0.0/24", "dev", "v0");
  await listener.waitForLine(/^event RTM_NEWROUTE 10\.9\.0\.0\/24 table 254$/);
  equal((await listener.status).code, 0, listener.output());
});

kernelTest(
  "a subscription dropping its client's own IPv4 route changes: the rest still comes",
  async (ns) => {
    await addVeth(ns);
    const out = await runScript<{ dropped: boolean; failed: string[]; events: string[] }>(
      ns,
      "own_routes.ts",
    );
    deepEqual(out.failed, []);
    equal(out.dropped, true);
    // Our IPv4 add, add and delete: dropped in the kernel; our IPv6 add and another writer's come.
    deepEqual(out.events, ["new fd00:9::/64 own", "new 10.10.0.0/24 other"]);
    deepEqual(
      (await ns.ipJson<IpRoute[]>("route", "show", "table", "100")).map((r) => r.dst),
      ["10.9.1.0/24", "10.10.0.0/24"],
    );
  },
);

kernelTest("wait() resolves woken promptly and the process exits after close()", async (ns) => {
  await addVeth(ns);
  const result = await ns.deno(script("wake.ts"), [], { timeoutMs: 15_000 });
  equal(result.timedOut, false, "the script hung: a poll was left pending");
  ok(result.success, result.stderr);
  const out = JSON.parse(result.stdout);
  // wait() without a timeout returns only when woken (the exec's 15 s bound catches a hang).
  equal(out.woken, "woken");
  equal(out.earlyWake, "woken");
  equal(out.timeout, "timeout");
  ok(out.timeoutMs >= 45, `a 50 ms timeout fired after ${out.timeoutMs} ms`);
  equal(out.readable, "readable");
  equal(out.closedWhileWaiting, "woken");
});

kernelTest("datagrams from another netlink socket are dropped and counted", async (ns) => {
  const out = await runScript<{ links: number; droppedForeign: number; events: number }>(
    ns,
    "foreign.ts",
  );
  equal(out.links, (await ns.ipJson<unknown[]>("link", "show")).length);
  equal(out.droppedForeign, 2);
  equal(out.events, 0);
});

kernelTest("10,000 routes: execute() next to ip -batch", async (ns) => {
  await addVeth(ns);
  const rounds = Deno.env.get("LMT_BENCH_ROUNDS") ?? "1";
  const out = await runScript<{
    n: number;
    runs: { name: string; ms: number; errors: number; routes: number; datagrams?: number }[];
  }>(ns, "bench_execute.ts", ["10000", rounds]);
  for (const run of out.runs) {
    equal(run.errors, 0, run.name);
    equal(run.routes, 10_000, run.name);
  }
  console.log(
    out.runs.map((r) =>
      `  ${r.name}: ${r.ms.toFixed(1)} ms${r.datagrams ? ` (${r.datagrams} datagrams)` : ""}`
    ).join("\n"),
  );
}, { timeoutMs: 120_000 });
