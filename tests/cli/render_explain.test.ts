import { deepEqual, equal, match, ok } from "node:assert/strict";
import { explainJson, explainText } from "../../src/cli/render_explain.ts";
import type { Explanation } from "../../src/explain/explain.ts";
import { AF, RT_SCOPE, RTPROT } from "../../src/netlink/constants.ts";
import { mirrorCopy } from "../../src/planner/route_copy.ts";
import { defaultVia, firezoneRule, IF, LINKS, route, stockRules } from "../detect/fixtures.ts";

const FZ = 539098368;
const lan = route(254, "192.168.1.0/24", { oif: IF.eth0, protocol: RTPROT.KERNEL });
const copy = mirrorCopy(lan, { table: FZ, protocol: 77 });
const context = {
  names: new Map<string, number>(),
  links: new Map(LINKS.map((l) => [l.index, l.name])),
};
const resolved = route(FZ, "192.168.1.20/32", { oif: IF.eth0, prefsrc: "192.168.1.5" });

const viaCopy: Explanation = {
  address: "192.168.1.20",
  family: AF.INET,
  source: 254,
  protocol: 77,
  verdict: "lan-via-copy",
  lookups: [
    { match: copy, resolved, rule: firezoneRule() },
    { mark: 0xfd002021, markOf: FZ, match: lan, resolved, rule: stockRules()[1] },
  ],
  tables: [{
    table: FZ,
    captures: true,
    vpn: { name: "firezone", evidence: ["table 539098368"] },
    status: "copied",
    source: lan,
    copy,
    withoutCopy: defaultVia(FZ, IF.tun0),
  }],
};

Deno.test("explain --json: the documented shape", () => {
  const doc = explainJson(viaCopy, context);
  deepEqual(Object.keys(doc), ["address", "family", "lookups", "tables", "verdict", "summary"]);
  deepEqual(Object.keys(doc.lookups[0]), [
    "mark",
    "markOf",
    "rule",
    "table",
    "route",
    "nexthop",
    "error",
  ]);
  equal(doc.family, "inet");
  equal(doc.lookups[0].mark, null);
  equal(doc.lookups[0].table, FZ);
  equal(doc.lookups[0].route?.protocol, 77);
  deepEqual(doc.lookups[0].nexthop, { dev: "eth0", gateway: null, prefsrc: "192.168.1.5" });
  equal(doc.lookups[1].mark, "0xfd002021");
  equal(doc.lookups[1].rule?.priority, 32766);
  deepEqual(Object.keys(doc.tables[0]), [
    "table",
    "vpn",
    "captures",
    "status",
    "source",
    "copy",
    "reason",
    "why",
    "conflicting",
    "vpnRoute",
    "withoutCopy",
  ]);
  equal(doc.tables[0].withoutCopy?.dev, "tun-firezone");
  match(doc.summary[0], /^192\.168\.1\.20 goes out on eth0 through linkmirror's copy/);
  match(
    doc.summary[1],
    /^Without the copy, table 539098368 would send it to default dev tun-firezone/,
  );
  match(doc.summary[2], /^Packets marked 0xfd002021 \(the VPN's own\) use table main/);
});

Deno.test("explain text: lookups as aligned key/value lines, then the verdict", () => {
  const text = explainText(viaCopy, context);
  match(text, /^192\.168\.1\.20\n\nlookup of an ordinary packet\n/);
  match(text, /\n {2}rule {6}32765: not from all fwmark 0xfd002021 lookup 539098368\n/);
  match(text, /\n {2}next hop {2}dev eth0 src 192\.168\.1\.5\n/);
  match(text, /lookup of a packet marked 0xfd002021 \(the VPN's own, table 539098368\)/);
  match(text, /verdict: reaches the LAN through linkmirror's copy\n/);
  ok(!text.includes("\x1b["));
});

Deno.test("explain summaries for the VPN, missing copies, exclusions and errors", () => {
  const mainDefault = route(254, "0.0.0.0/0", {
    oif: IF.eth0,
    gateway: "192.168.1.1",
    scope: RT_SCOPE.UNIVERSE,
  });
  const vpn = (status: Explanation["tables"][0]): string[] =>
    explainJson({
      ...viaCopy,
      verdict: "vpn",
      lookups: [{ match: defaultVia(FZ, IF.tun0), rule: firezoneRule() }],
      tables: [status],
    }, context).summary;
  // What the VPN's table holds for the address (every one captures it), and the summary's line.
  const statuses: [Omit<Explanation["tables"][0], "table" | "captures">, RegExp][] = [
    [
      { status: "missing", source: lan },
      /copy is missing from table 539098368: run `linkmirror sync`/,
    ],
    [
      { status: "excluded", source: mainDefault, reason: "default" },
      /never copies default routes/,
    ],
    [
      { status: "excluded", source: lan, reason: "excluded-device" },
      /does not mirror it into table 539098368: its output interface is excluded/,
    ],
    [
      {
        status: "conflict",
        source: lan,
        conflicting: [route(FZ, "192.168.1.0/24", { oif: IF.tun0 })],
      },
      /holds that prefix in table 539098368: 192\.168\.1\.0\/24 dev tun-firezone/,
    ],
    [
      {
        status: "excluded",
        source: lan,
        reason: "vpn-route-wins",
        vpnRoute: route(FZ, "192.168.0.0/16", { oif: IF.tun0 }),
      },
      /the VPN routes it itself in table 539098368 \(192\.168\.0\.0\/16 dev tun-firezone/,
    ],
    [
      {
        status: "excluded",
        source: route(254, "0.0.0.0/1", { oif: IF.eth0, protocol: RTPROT.DHCP }),
        reason: "outside-local-space",
      },
      /does not mirror it into table 539098368: its destination is outside the local address space/,
    ],
    [{ status: "no-source-route" }, /Table main has no route to 192\.168\.1\.20 either/],
  ];
  for (const [status, expected] of statuses) {
    match(vpn({ table: FZ, captures: true, ...status })[1], expected);
  }
  const unreachable = explainJson({
    ...viaCopy,
    verdict: "unreachable",
    lookups: [{ error: { errno: 101, code: "ENETUNREACH", message: "route get: ENETUNREACH" } }],
  }, context);
  match(unreachable.summary[0], /no usable route to 192\.168\.1\.20: ENETUNREACH/);
  equal(unreachable.lookups[0].error?.code, "ENETUNREACH");
  const main = explainJson({
    ...viaCopy,
    verdict: "main",
    lookups: [{ match: lan, rule: stockRules()[1] }],
  }, context);
  match(main.summary[0], /^Table main answers \(rule 32766: from all lookup main\)/);
});
