/**
 * `linkmirror explain ADDRESS` against the kernel, with `ip route get` (and `ip route get
 * fibmatch`, with and without `mark`) as the oracle, in Firezone-, wg-quick- and Tailscale-like
 * namespaces.
 */

import { deepEqual, equal, match } from "node:assert/strict";
import type { ExplainJson, LookupJson } from "../../src/cli/render_explain.ts";
import { firezone, FIREZONE_TABLE, LAN, lanOnly } from "./firezone.ts";
import { linkmirror } from "./linkmirror.ts";
import { kernelTest, type Netns } from "./netns.ts";
import { tailscale, wgQuick } from "./vpn_setups.ts";

interface IpGet {
  dst: string;
  dev?: string;
  gateway?: string;
  prefsrc?: string;
  table?: string;
  protocol?: string;
}

const TABLE_IDS: Record<string, number> = { main: 254, local: 255, default: 253 };
/** Protocols as `ip -j` names them; it leaves `boot` (3) out. */
const PROTOCOL_IDS: Record<string, number> = { kernel: 2, boot: 3, static: 4, ra: 9, dhcp: 16 };

/** `ip -j route get [fibmatch] ADDRESS [mark M]`: the answer, or the error text. */
async function ipGet(
  ns: Netns,
  address: string,
  options: { fibmatch?: boolean; mark?: string } = {},
): Promise<IpGet | { error: string }> {
  const args = ["ip", "-j", "route", "get", ...(options.fibmatch ? ["fibmatch"] : []), address];
  if (options.mark) args.push("mark", options.mark);
  const run = await ns.exec(args);
  if (!run.success) return { error: run.stderr.trim() };
  return JSON.parse(run.stdout)[0];
}

/** Checks one lookup of `explain --json` against `ip route get` and `ip route get fibmatch`. */
async function agrees(ns: Netns, address: string, lookup: LookupJson): Promise<void> {
  const mark = lookup.mark ?? undefined;
  const what = `${address}${mark ? ` mark ${mark}` : ""}`;
  const fib = await ipGet(ns, address, { fibmatch: true, mark });
  const hop = await ipGet(ns, address, { mark });
  if ("error" in fib || "error" in hop) {
    equal(lookup.table, null, `${what}: ip fails (${JSON.stringify(fib)}), explain must too`);
    equal(lookup.error?.code, "ENETUNREACH", what);
    match("error" in fib ? fib.error : "", /Network is unreachable/);
    return;
  }
  const table = fib.table === undefined ? 254 : TABLE_IDS[fib.table] ?? Number(fib.table);
  equal(lookup.table, table, `${what}: table`);
  equal(lookup.route?.dst, fib.dst, `${what}: matched prefix`);
  equal(lookup.route?.dev, fib.dev, `${what}: matched route's device`);
  const protocol = fib.protocol === undefined
    ? 3
    : PROTOCOL_IDS[fib.protocol] ?? Number(fib.protocol);
  equal(lookup.route?.protocol, protocol, `${what}: protocol`);
  deepEqual(lookup.nexthop, {
    dev: hop.dev ?? null,
    gateway: hop.gateway ?? null,
    prefsrc: hop.prefsrc ?? null,
  }, `${what}: next hop`);
}

async function explain(ns: Netns, args: string[]): Promise<ExplainJson> {
  const run = await linkmirror(ns, ["explain", ...args, "--json"]);
  equal(run.code, 0, run.stderr);
  return JSON.parse(run.stdout);
}

kernelTest(
  "explain (Firezone): before and after sync, every lookup as ip route get",
  async (ns) => {
    await firezone(ns);
    const before = await explain(ns, [LAN.peer]);
    equal(before.verdict, "vpn");
    equal(before.tables[0].status, "missing");
    equal(before.lookups.length, 2);
    for (const lookup of before.lookups) await agrees(ns, LAN.peer, lookup);
    equal(before.lookups[0].rule?.priority, 32765);
    match(before.summary.join(" "), /its copy is missing from table 539098368/);

    const sync = await linkmirror(ns, ["sync"]);
    equal(sync.code, 0, sync.stderr);
    for (const address of [LAN.peer, LAN.peer6, "100.64.0.9", "192.0.2.1", "2001:db8:99::1"]) {
      const doc = await explain(ns, [address]);
      for (const lookup of doc.lookups) await agrees(ns, address, lookup);
    }
    const lan = await explain(ns, [LAN.peer]);
    equal(lan.verdict, "lan-via-copy");
    equal(lan.lookups[0].rule?.text, "not from all fwmark 0xfd002021 lookup 539098368");
    equal(lan.lookups[0].route?.protocol, 77);
    equal(lan.lookups[1].mark, "0xfd002021");
    equal(lan.lookups[1].rule?.text, "from all lookup main");
    equal(lan.tables[0].status, "copied");
    equal(lan.tables[0].withoutCopy?.dst, "default");
    equal(lan.tables[0].withoutCopy?.dev, "tun0");

    const v6 = await explain(ns, [LAN.peer6]);
    equal(v6.verdict, "lan-via-copy");
    equal(v6.family, "inet6");

    const internet = await explain(ns, ["192.0.2.1"]);
    equal(internet.verdict, "vpn");
    equal(internet.lookups[0].nexthop?.dev, "tun0");
    equal(internet.lookups[1].error?.code, "ENETUNREACH", "main has no default route here");
    equal(internet.tables[0].status, "no-source-route");

    const text = await linkmirror(ns, ["explain", LAN.peer]);
    equal(text.code, 0, text.stderr);
    match(text.stdout, /verdict: reaches the LAN through linkmirror's copy/);
    match(text.stdout, /Without the copy, table 539098368 would send it to default dev tun0/);
  },
);

kernelTest("explain (Firezone): an excluded LAN is explained with its reason", async (ns) => {
  await firezone(ns);
  const doc = await explain(ns, [LAN.peer, "--exclude-dev", LAN.dev, "--table", FIREZONE_TABLE]);
  equal(doc.verdict, "vpn");
  equal(doc.tables[0].status, "excluded");
  equal(doc.tables[0].reason, "excluded-device");
  match(doc.summary.join(" "), /its output interface is excluded \(--exclude-dev\)/);
});

kernelTest(
  "explain (wg-quick): main's suppress_prefixlength rule answers for the LAN",
  async (ns) => {
    await lanOnly(ns);
    await wgQuick(ns);
    await ns.ip("route", "add", "default", "via", LAN.peer, "dev", LAN.dev);
    const lan = await explain(ns, [LAN.peer, "--table", "auto"]);
    for (const lookup of lan.lookups) await agrees(ns, LAN.peer, lookup);
    equal(lan.verdict, "main");
    equal(lan.lookups[0].rule?.text, "from all lookup main suppress_prefixlength 0");
    equal(lan.lookups[1].mark, "0xca6c");

    const internet = await explain(ns, ["192.0.2.1", "--table", "auto"]);
    for (const lookup of internet.lookups) await agrees(ns, "192.0.2.1", lookup);
    equal(internet.verdict, "vpn");
    equal(internet.lookups[0].rule?.text, "not from all fwmark 0xca6c lookup 51820");
    equal(internet.lookups[0].nexthop?.dev, "wg0");
    // wg-quick's own packets skip the suppress rule's default and use main's default.
    equal(internet.lookups[1].rule?.text, "from all lookup main");
    equal(internet.lookups[1].nexthop?.gateway, LAN.peer);
    equal(internet.tables[0].reason, "default");
  },
);

kernelTest(
  "explain (Tailscale): table 52 for ordinary packets, main for marked ones",
  async (ns) => {
    await lanOnly(ns);
    await tailscale(ns);
    for (const address of [LAN.peer, "100.64.1.1", "192.0.2.1"]) {
      const doc = await explain(ns, [address, "--table", "auto"]);
      for (const lookup of doc.lookups) await agrees(ns, address, lookup);
    }
    const lan = await explain(ns, [LAN.peer, "--table", "auto"]);
    equal(lan.verdict, "vpn");
    equal(lan.lookups[0].rule?.priority, 5270);
    equal(lan.lookups[1].mark, "0x80000");
    equal(lan.lookups[1].rule?.priority, 5210);
    const marked = await explain(ns, ["192.0.2.1", "--table", "auto"]);
    equal(marked.lookups[1].error?.code, "ENETUNREACH");
    equal(marked.lookups[1].rule?.priority, 5250, "Tailscale's unreachable rule refuses it");
  },
);

kernelTest("explain: a bad address exits 2 with one line", async (ns) => {
  const run = await linkmirror(ns, ["explain", "192.168.1.300"]);
  equal(run.code, 2);
  match(run.stderr.trim(), /^linkmirror: ADDRESS: Invalid address "192\.168\.1\.300"/);
});
