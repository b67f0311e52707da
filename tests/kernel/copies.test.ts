/**
 * Copies forward exactly like their source (docs/copies.md): for each kind of attribute a source
 * route in main, one `sync`, and the copy read back with `ip` carries it; a change in main replaces
 * the copy in place (no `RTM_DELROUTE` of it); an RA-style copy expires by itself; the VPN rule's
 * view (`ip route get ... mark 0`) equals main's; under `watch` an mtu change reaches the copy in
 * one apply.
 *
 * @module
 */

import { deepEqual, equal, match, ok } from "node:assert/strict";
import { firezone, FIREZONE_TABLE, LAN } from "./firezone.ts";
import { linkmirror, logLines, spawnLinkmirror } from "./linkmirror.ts";
import { kernelTest, type Netns, type NetnsProcess, waitFor } from "./netns.ts";

/** The second LAN: `lan1`, 172.20.0.1/24, with a peer at .2. */
const LAN1 = Object.freeze({ dev: "lan1", address: "172.20.0.1", peer: "172.20.0.2" });

/** The second hop of the IPv6 multipath route, on the second LAN. */
const IPV6_HOP2 = `nexthop via 2001:db8:20::2 dev ${LAN1.dev}`;

/** The words of an `ip` command line. */
function words(line: string): string[] {
  return line.split(" ");
}

/** One kind of source route: how `ip` adds it to main, and its destination. */
interface Kind {
  name: string;
  dst: string;
  family: "-4" | "-6";
  add: string[];
}

/** Every kind of attribute a copy carries, one source route each. */
const KINDS: Kind[] = [
  {
    name: "metrics with lock bits and realms",
    dst: "10.65.0.0/24",
    family: "-4",
    add: words(
      `10.65.0.0/24 dev ${LAN.dev} mtu lock 1400 advmss 1360 hoplimit 33 initcwnd 10 ` +
        "initrwnd 20 rto_min 50ms quickack 1 congctl lock cubic features ecn window 1000 " +
        "rtt 20ms rttvar 10ms ssthresh 30 cwnd 5 reordering 4 fastopen_no_cookie 1 realms 2/7",
    ),
  },
  {
    name: "on-link multipath over two veths, with weights and a realm",
    dst: "10.60.0.0/24",
    family: "-4",
    add: words(
      `10.60.0.0/24 nexthop dev ${LAN.dev} weight 2 realm 3 nexthop dev ${LAN1.dev} weight 5`,
    ),
  },
  {
    name: "multipath via gateways on both LANs",
    dst: "10.64.0.0/24",
    family: "-4",
    add: words(
      `10.64.0.0/24 nexthop via ${LAN.peer} dev ${LAN.dev} weight 1 ` +
        `nexthop via ${LAN1.peer} dev ${LAN1.dev} weight 3`,
    ),
  },
  {
    name: "a gateway with onlink",
    dst: "10.63.0.0/24",
    family: "-4",
    add: ["10.63.0.0/24", "via", "192.168.188.254", "dev", LAN.dev, "onlink"],
  },
  {
    name: "a nexthop object",
    dst: "10.61.0.0/24",
    family: "-4",
    add: ["10.61.0.0/24", "nhid", "10"],
  },
  {
    name: "a nexthop group",
    dst: "10.62.0.0/24",
    family: "-4",
    add: ["10.62.0.0/24", "nhid", "12", "metric", "5"],
  },
  {
    name: "IPv6 metrics and preference",
    dst: "fd00:65::/64",
    family: "-6",
    add: ["fd00:65::/64", "dev", LAN.dev, "mtu", "1300", "hoplimit", "9", "pref", "high"],
  },
  {
    name: "IPv6 RA-style with expiry",
    dst: "fd00:66::/64",
    family: "-6",
    add: ["fd00:66::/64", "dev", LAN.dev, "expires", "600", "pref", "low", "proto", "ra"],
  },
  {
    name: "IPv6 multipath via gateways on both LANs",
    dst: "fd00:62::/64",
    family: "-6",
    add: words(
      `fd00:62::/64 nexthop via ${LAN.peer6} dev ${LAN.dev} weight 3 ${IPV6_HOP2}`,
    ),
  },
  {
    name: "IPv6 nexthop object",
    dst: "fd00:61::/64",
    family: "-6",
    add: ["fd00:61::/64", "nhid", "20"],
  },
];

/** Builds the Firezone scenario, a second LAN and the nexthop objects; returns the LAN peer. */
async function scenario(ns: Netns): Promise<Netns> {
  const peer = await firezone(ns);
  await ns.connectPeer({
    localIf: LAN1.dev,
    peerIf: LAN1.dev,
    localAddress: `${LAN1.address}/24`,
    peerAddress: `${LAN1.peer}/24`,
  });
  await ns.ip("-6", "address", "add", "2001:db8:20::1/64", "dev", LAN1.dev, "nodad");
  await ns.ip("nexthop", "add", "id", "10", "dev", LAN.dev);
  await ns.ip("nexthop", "add", "id", "11", "dev", LAN1.dev);
  await ns.ip("nexthop", "add", "id", "12", "group", "10/11,3");
  await ns.ip("-6", "nexthop", "add", "id", "20", "dev", LAN.dev);
  return peer;
}

/**
 * `ip -d route show` of `dst` in `table`, as one line, with what differs by design taken out:
 * the protocol (the copy's is 77), the countdown of `expires` and the table.
 */
async function routeLine(ns: Netns, kind: Kind, table: string): Promise<string> {
  const text = await ns.ip(kind.family, "-d", "route", "show", "table", table, kind.dst);
  return text.replace(/\s+/g, " ").trim();
}

/**
 * The copy's metric for a source's: the source's plus 2^31, at most 2^32 - 1 (docs/security.md:
 * copies never block or beat the VPN's own routes). IPv4 without a metric counts 0.
 */
function copyMetric(source: number): number {
  return Math.min(source + 2 ** 31, 2 ** 32 - 1);
}

/**
 * A route line without what differs by design (protocol, the countdown of `expires`); for a
 * copy (`copy`), with its metric taken back to the source's, after checking it is
 * {@linkcode copyMetric} of a metric (absent when that is IPv4's 0).
 */
function normal(line: string, copy = false): string {
  let out = line.replace(/ proto \S+/, " proto P").replace(/ expires \d+sec/, " expires Nsec");
  if (copy) {
    out = out.replace(/ metric (\d+)/, (_, m) => {
      const source = Number(m) >= 2 ** 32 - 1 ? Number(m) : Number(m) - 2 ** 31;
      ok(copyMetric(source) === Number(m), `${line}: a copy's metric is its source's + 2^31`);
      return source === 0 && !line.includes(":") ? "" : ` metric ${source}`;
    });
  }
  return out;
}

kernelTest(
  "sync: each kind of copy carries every forwarding attribute of its source",
  async (ns) => {
    await scenario(ns);
    for (const kind of KINDS) await ns.ip(kind.family, "route", "add", ...kind.add);
    const run = await linkmirror(ns, ["sync", "--include-gateway-routes"]);
    equal(run.code, 0, run.stderr);
    const sideBySide: string[] = [];
    for (const kind of KINDS) {
      const source = await routeLine(ns, kind, "main");
      const copy = await routeLine(ns, kind, FIREZONE_TABLE);
      ok(source !== "", `${kind.name}: the source is in main`);
      match(copy, / proto 77 /, `${kind.name}: the copy is linkmirror's`);
      equal(normal(copy, true), normal(source), kind.name);
      sideBySide.push(`${kind.name}\n  main: ${source}\n  copy: ${copy}`);
    }
    // The lock bits, which `ip -j` does not show, are in the text compared above.
    match(await routeLine(ns, KINDS[0], FIREZONE_TABLE), /mtu lock 1400 .*congctl lock cubic/);
    console.log(sideBySide.join("\n"));
  },
);

/** Starts `ip monitor route` and waits until it demonstrably receives events. */
async function monitor(ns: Netns): Promise<NetnsProcess> {
  // Line-buffered: into a pipe, ip holds its output back in a buffer.
  const mon = ns.spawn(["stdbuf", "-oL", "ip", "monitor", "route"]);
  // A new marker route each try: replacing an identical route sends no second notification.
  let marker = 0;
  await waitFor(async () => {
    const address = `10.255.255.${1 + marker++ % 250}`;
    await ns.ip("route", "replace", address, "dev", LAN.dev, "table", "7");
    return mon.stdoutLines.some((l) => l.startsWith(`${address} `));
  }, { message: "ip monitor to see a marker route" });
  return mon;
}

kernelTest("sync: a change in main replaces the copy in place, never delete + add", async (ns) => {
  await scenario(ns);
  for (const kind of KINDS) await ns.ip(kind.family, "route", "add", ...kind.add);
  equal((await linkmirror(ns, ["sync", "--include-gateway-routes"])).code, 0);

  const mon = await monitor(ns);
  const changes: Array<[string, string[]]> = [
    ["-4", ["10.65.0.0/24", "dev", LAN.dev, "mtu", "1300", "advmss", "1200", "realm", "9"]],
    ["-4", ["10.60.0.0/24", "nexthop", "dev", LAN.dev, "weight", "7", "nexthop", "dev", LAN1.dev]],
    ["-4", ["10.61.0.0/24", "nhid", "11"]],
    ["-6", ["fd00:65::/64", "dev", LAN.dev, "mtu", "1280", "pref", "low"]],
    ["-6", words(`fd00:62::/64 nexthop via ${LAN.peer6} dev ${LAN.dev} ${IPV6_HOP2} weight 4`)],
  ];
  for (const [family, spec] of changes) await ns.ip(family, "route", "replace", ...spec);
  const run = await linkmirror(ns, ["sync", "--include-gateway-routes"]);
  equal(run.code, 0, run.stderr);
  match(run.stdout, /sync: 0 added, 5 replaced, 0 deleted, 0 failed/);
  for (const kind of KINDS) {
    equal(
      normal(await routeLine(ns, kind, FIREZONE_TABLE), true),
      normal(await routeLine(ns, kind, "main")),
      `${kind.name} after the change`,
    );
  }
  // The replaces' own notifications are in: the last one names the IPv6 copy's new mtu.
  await waitFor(
    () => mon.stdoutLines.some((l) => /fd00:65::\/64 .*table 539098368.*mtu 1280/.test(l)),
    {
      message: "the notification of the last replace",
    },
  );
  await mon.stop(1000);
  const deleted = mon.stdoutLines.filter((l) => l.startsWith("Deleted") && l.includes("proto 77"));
  deepEqual(deleted, [], "no copy was deleted");
});

kernelTest("sync alone: an RA-style copy expires with its source", async (ns) => {
  await scenario(ns);
  // Collect expired IPv6 routes every second instead of every 30 (this namespace only).
  await ns.exec(["sysctl", "-qw", "net.ipv6.route.gc_interval=1"]);
  await ns.ip(
    "-6",
    "route",
    "add",
    "fd00:67::/64",
    "dev",
    LAN.dev,
    "expires",
    "4",
    "proto",
    "ra",
  );
  equal((await linkmirror(ns, ["sync"])).code, 0);
  const [copy] = await ns.ipJson<{ expires?: number }[]>(
    "-6",
    "route",
    "show",
    "table",
    FIREZONE_TABLE,
    "fd00:67::/64",
  );
  ok(copy?.expires !== undefined && copy.expires <= 4, `the copy expires: ${JSON.stringify(copy)}`);
  // No linkmirror runs any more: the kernel removes the copy on its own.
  await waitFor(async () => {
    const left = await ns.ip("-6", "route", "show", "table", FIREZONE_TABLE, "fd00:67::/64");
    return left.trim() === "";
  }, { timeoutMs: 60_000, message: "the copy to expire" });
  await waitFor(
    async () => (await ns.ip("-6", "route", "show", "fd00:67::/64")).trim() === "",
    { timeoutMs: 60_000, message: "the source to expire too" },
  );
});

kernelTest("the VPN rule's view (mark 0) has main's mtu, advmss and realms", async (ns) => {
  await scenario(ns);
  await ns.ip("route", "add", ...KINDS[0].add);
  const get = (mark: string) =>
    ns.ipJson<Record<string, unknown>[]>("route", "get", "10.65.0.9", "mark", mark);
  const before = (await get("0"))[0];
  equal(before.dev, "tun0", "before sync the VPN's table answers with the tunnel");
  equal((await linkmirror(ns, ["sync"])).code, 0);
  const { table, ...vpnView } = (await get("0"))[0];
  const { mark: _mark, ...mainView } = (await get("0xfd002021"))[0];
  equal(table, FIREZONE_TABLE);
  deepEqual(vpnView, mainView);
  const [metrics] = vpnView.metrics as { mtu: number; advmss: number }[];
  deepEqual([metrics.mtu, metrics.advmss], [1400, 1360]);
});

kernelTest(
  "watch: an mtu change in main reaches the copy in one apply, as a replace",
  async (ns) => {
    await scenario(ns);
    await ns.ip("route", "add", "10.65.0.0/24", "dev", LAN.dev, "mtu", "1400");
    const daemon = spawnLinkmirror(ns, ["watch", "--log-level", "debug"]);
    await daemon.waitForLine(/"message":"Watching"/, { timeoutMs: 15_000 });
    const copyMtu = async () => {
      const [copy] = await ns.ipJson<{ metrics?: { mtu?: number }[] }[]>(
        "route",
        "show",
        "table",
        FIREZONE_TABLE,
        "10.65.0.0/24",
      );
      return copy?.metrics?.[0]?.mtu;
    };
    await waitFor(async () => await copyMtu() === 1400, { message: "the first copy" });
    const applied = () =>
      logLines(daemon.stderrLines).filter((l) => String(l.message).startsWith("Applied"));
    const before = applied().length;
    await ns.ip("route", "change", "10.65.0.0/24", "dev", LAN.dev, "mtu", "1300");
    await waitFor(async () => await copyMtu() === 1300, { message: "the copy's new mtu" });
    await waitFor(() => applied().length > before, { message: "the apply's log line" });
    const after = applied().slice(before);
    equal(after.length, 1, JSON.stringify(after));
    equal(after[0].replaced, 1);
    equal(after[0].added, 0);
    equal(after[0].deleted, 0);
    daemon.kill("SIGTERM");
    equal((await daemon.status).code, 0, daemon.output());
  },
);

kernelTest("the client's nexthop dump decodes what ip nexthop shows", async (ns) => {
  await scenario(ns);
  await ns.ip("nexthop", "add", "id", "13", "via", LAN.peer, "dev", LAN.dev);
  await ns.ip("nexthop", "add", "id", "14", "blackhole");
  const run = await ns.deno(new URL("./scripts/dump_nexthops.ts", import.meta.url));
  equal(run.code, 0, run.stderr);
  const ours = JSON.parse(run.stdout) as {
    id: number;
    oif?: number;
    gateway?: string;
    blackhole?: boolean;
    group?: { id: number; weight: number }[];
  }[];
  const ip = await ns.ipJson<
    {
      id: number;
      dev?: string;
      gateway?: string;
      blackhole?: null;
      group?: { id: number; weight?: number }[];
    }[]
  >("nexthop", "show");
  const links = await ns.ipJson<{ ifindex: number; ifname: string }[]>("link", "show");
  const index = (dev?: string) => links.find((l) => l.ifname === dev)?.ifindex;
  deepEqual(
    ours.map((n) => [n.id, n.oif, n.gateway, n.blackhole ?? false, n.group]),
    ip.map((n) => [
      n.id,
      index(n.dev),
      n.gateway,
      "blackhole" in n,
      n.group?.map((m) => ({ id: m.id, weight: m.weight ?? 1 })),
    ]),
  );
  equal(ours.length, 6);
});

kernelTest(
  "a multipath source with a hop on a down link: the copy has the live hop, and both again once it is up",
  async (ns) => {
    await scenario(ns);
    const dst = "10.57.0.0/24";
    // A third link, down, carrying no LAN: its hop is dead (the kernel keeps the route).
    await ns.ip("link", "add", "lan3", "type", "veth", "peer", "name", "lan3p");
    await ns.ip("address", "add", "172.30.0.1/24", "dev", "lan3");
    await ns.ip("link", "set", "lan3", "up");
    await ns.ip(
      "route",
      "replace",
      ...words(`${dst} nexthop dev ${LAN1.dev} weight 2 nexthop dev lan3 weight 5`),
    );
    await ns.ip("link", "set", "lan3", "down");
    match(await ns.ip("-d", "route", "show", dst), /dev lan3 weight 5 dead/);

    const run = await linkmirror(ns, ["sync"]);
    equal(run.code, 0, run.stderr);
    equal(run.stderr.includes("ENETDOWN"), false, run.stderr);
    const copy = await ns.ipJson<{ dev?: string; nexthops?: unknown[] }[]>(
      "route",
      "show",
      "table",
      FIREZONE_TABLE,
      dst,
    );
    equal(copy.length, 1, "one copy");
    equal(copy[0].dev, LAN1.dev, "the copy goes out on the live hop");
    equal(copy[0].nexthops, undefined, "one live hop: a plain route");

    const watch = spawnLinkmirror(ns, ["watch"]);
    try {
      await watch.waitForLine(/"message":"Watching"/, { timeoutMs: 15_000 });
      await ns.ip("link", "set", "lan3", "up");
      // The kernel revives the hop without an event; the link event tells the daemon.
      await waitFor(async () => {
        const now = await ns.ipJson<{ nexthops?: { dev: string }[] }[]>(
          "route",
          "show",
          "table",
          FIREZONE_TABLE,
          dst,
        );
        return now.length === 1 &&
          now[0].nexthops?.map((h) => h.dev).sort().join() === `${LAN1.dev},lan3`;
      }, { message: "the copy with both hops after lan3 came up", timeoutMs: 10_000 });
    } finally {
      await watch.stop();
    }
  },
);
