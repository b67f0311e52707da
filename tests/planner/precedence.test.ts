/** Precedence: the VPN's best match for a prefix decides whether a copy may be made. */

import { deepEqual, equal } from "node:assert/strict";
import { AF, RTPROT } from "../../src/netlink/constants.ts";
import { type Cidr, ipv4Number, parseCidr, parseIp } from "../../src/netlink/ip.ts";
import type { Route } from "../../src/netlink/route.ts";
import { DEFAULT_CATCH_ALL, VpnRoutes } from "../../src/planner/precedence.ts";
import { prefixBytes, prefixContains } from "../../src/planner/local_space.ts";
import { routeMetric } from "../../src/planner/route_identity.ts";
import { FIREZONE, IF, v4, v6 } from "./fixtures.ts";

/** A route of the VPN in its table. */
function vpn(cidr: string, extra: Partial<Route> = {}): Route {
  const build = cidr.includes(":") ? v6 : v4;
  return build(cidr, IF.tun0, { table: FIREZONE, protocol: RTPROT.BOOT, ...extra });
}

interface Case {
  name: string;
  /** The VPN's routes in the target table. */
  table: Route[];
  /** The LAN prefix a copy would be made for. */
  lan: string;
  /** The VPN route that wins (its prefix), or null when a copy may be made. */
  winner: string | null;
  catchAll?: Cidr[];
}

const firezone = [vpn("0.0.0.0/0"), vpn("::/0"), vpn("100.64.0.0/11"), vpn("fd00:2021:1111::/107")];

const CASES: Case[] = [
  { name: "nothing in the table", table: [], lan: "192.168.188.0/24", winner: null },
  { name: "Firezone's defaults only", table: firezone, lan: "192.168.188.0/24", winner: null },
  {
    name: "a resource covering the LAN",
    table: [...firezone, vpn("192.168.0.0/16")],
    lan: "192.168.188.0/24",
    winner: "192.168.0.0/16",
  },
  {
    name: "a resource equal to the LAN",
    table: [...firezone, vpn("192.168.188.0/24")],
    lan: "192.168.188.0/24",
    winner: "192.168.188.0/24",
  },
  {
    name: "a resource inside the LAN is not a best match for the LAN",
    table: [...firezone, vpn("192.168.188.10/32")],
    lan: "192.168.188.0/24",
    winner: null,
  },
  {
    name: "a resource next to the LAN",
    table: [...firezone, vpn("192.168.189.0/24")],
    lan: "192.168.188.0/24",
    winner: null,
  },
  {
    name: "the longest covering route wins, even a broad resource under a narrower catch-all",
    table: [vpn("10.0.0.0/8"), vpn("0.0.0.0/1"), vpn("128.0.0.0/1")],
    lan: "10.1.0.0/16",
    winner: "10.0.0.0/8",
  },
  {
    name: "split default (OpenVPN def1)",
    table: [vpn("0.0.0.0/1"), vpn("128.0.0.0/1")],
    lan: "192.168.188.0/24",
    winner: null,
  },
  {
    name: "IPv6 split default",
    table: [vpn("::/1"), vpn("8000::/1")],
    lan: "fd00:1::/64",
    winner: null,
  },
  { name: "IPv6 2000::/3", table: [vpn("2000::/3")], lan: "2001:db8:1::/64", winner: null },
  {
    name: "IPv6 resource /32 over a /64 LAN",
    table: [vpn("::/0"), vpn("2001:db8::/32")],
    lan: "2001:db8:1::/64",
    winner: "2001:db8::/32",
  },
  {
    name: "a /2 is not a catch-all by default",
    table: [vpn("0.0.0.0/2"), vpn("64.0.0.0/2"), vpn("128.0.0.0/2"), vpn("192.0.0.0/2")],
    lan: "192.168.188.0/24",
    winner: "192.0.0.0/2",
  },
  {
    name: "... unless configured",
    table: [vpn("0.0.0.0/2"), vpn("64.0.0.0/2"), vpn("128.0.0.0/2"), vpn("192.0.0.0/2")],
    lan: "192.168.188.0/24",
    winner: null,
    catchAll: ["0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/2", "192.0.0.0/2"].map(parseCidr),
  },
  {
    name: "a configured set replaces the default, but a default route is always a catch-all",
    table: [vpn("0.0.0.0/0"), vpn("0.0.0.0/1"), vpn("128.0.0.0/1")],
    lan: "192.168.188.0/24",
    winner: "128.0.0.0/1",
    catchAll: [],
  },
  {
    name: "the other family does not count",
    table: [vpn("::/0"), vpn("2001:db8::/32")],
    lan: "192.168.188.0/24",
    winner: null,
  },
  {
    name: "a throw or unreachable route is the VPN's decision too",
    table: [vpn("0.0.0.0/0"), vpn("192.168.0.0/16", { type: 9 /* throw */ })],
    lan: "192.168.188.0/24",
    winner: "192.168.0.0/16",
  },
];

for (const c of CASES) {
  Deno.test(`VpnRoutes.winner: ${c.name} → ${c.winner ?? "copy"}`, () => {
    const lan = parseCidr(c.lan);
    const routes = new VpnRoutes(c.table, c.catchAll ?? DEFAULT_CATCH_ALL);
    const won = routes.winner({ family: lan.family, dst: lan.address, dstLen: lan.prefixLen });
    equal(won === undefined ? null : `${won.dst}/${won.dstLen}`, c.winner);
  });
}

Deno.test("VpnRoutes.bestMatch: among routes of one prefix, the lowest metric", () => {
  const a = vpn("192.168.0.0/16", { priority: 20 });
  const b = vpn("192.168.0.0/16", { priority: 5, oif: IF.wg0 });
  const routes = new VpnRoutes([a, b], DEFAULT_CATCH_ALL);
  equal(routes.bestMatch({ family: AF.INET, dst: "192.168.188.0", dstLen: 24 }), b);
});

Deno.test("DEFAULT_CATCH_ALL is the documented set", () => {
  equal(
    DEFAULT_CATCH_ALL.map((c) => `${c.address}/${c.prefixLen}`).join(" "),
    "0.0.0.0/0 0.0.0.0/1 128.0.0.0/1 ::/0 ::/1 8000::/1 2000::/3",
  );
});

/** The best match by brute force: the longest covering prefix, then the lowest metric, first. */
function bruteBestMatch(table: Route[], dst: string, len: number): Route | undefined {
  let best: Route | undefined;
  for (const route of table) {
    if (route.family !== AF.INET || route.dstLen > len) continue;
    const outer = prefixBytes({ family: AF.INET, address: route.dst, prefixLen: route.dstLen });
    if (!prefixContains(outer, prefixBytes({ family: AF.INET, address: dst, prefixLen: len }))) {
      continue;
    }
    if (
      best === undefined || route.dstLen > best.dstLen ||
      (route.dstLen === best.dstLen && routeMetric(route) < routeMetric(best))
    ) best = route;
  }
  return best;
}

Deno.test("VpnRoutes: the IPv4 queries by number agree with a brute-force best match", () => {
  const table = [
    vpn("0.0.0.0/0"),
    vpn("0.0.0.0/1", { priority: 5 }),
    vpn("192.168.0.0/16"),
    vpn("192.168.0.0/16", { priority: 1 }),
    vpn("192.168.188.0/24", { priority: 9 }),
    vpn("10.0.0.0/8"),
    vpn("10.1.2.3/32"),
    vpn("255.255.255.255/32"),
    vpn("fd00::/8"),
  ];
  const dsts = ["192.168.188.0", "192.168.0.0", "10.1.2.3", "10.1.2.0", "11.1.2.3", "128.0.0.0"];
  for (const catchAll of [DEFAULT_CATCH_ALL, ["10.0.0.0/8", "0.0.0.0/1"].map(parseCidr)]) {
    const routes = new VpnRoutes(table, catchAll);
    for (const dst of dsts) {
      for (let len = 0; len <= 32; len++) {
        const prefix = { family: AF.INET, dst, dstLen: len };
        const best = bruteBestMatch(table, dst, len);
        equal(routes.bestMatchOfIpv4(ipv4Number(dst), len), best, `${dst}/${len}`);
        equal(routes.bestMatchOf(AF.INET, parseIp(dst).bytes, len), best);
        equal(routes.bestMatch(prefix), best);
        const winner = best === undefined || routes.isCatchAll(best) ? undefined : best;
        equal(routes.winnerOfIpv4(ipv4Number(dst), len), winner);
        equal(routes.winner(prefix), winner);
      }
    }
  }
});

Deno.test("the default catch-all routes are written as parseCidr reads them", () => {
  const texts = ["0.0.0.0/0", "0.0.0.0/1", "128.0.0.0/1", "::/0", "::/1", "8000::/1", "2000::/3"];
  deepEqual(DEFAULT_CATCH_ALL, texts.map(parseCidr));
});

Deno.test("each catch-all list is its own, however many tables were indexed before", () => {
  const winner = (catchAll: readonly Cidr[], dst: string) =>
    new VpnRoutes([vpn("0.0.0.0/1")], catchAll).winner({ family: AF.INET, dst, dstLen: 32 });
  const halves = ["0.0.0.0/1", "128.0.0.0/1"].map(parseCidr);
  for (let round = 0; round < 2; round++) {
    // 0.0.0.0/1 is a catch-all by default: a copy of 10.0.0.1/32 may be made.
    equal(winner(DEFAULT_CATCH_ALL, "10.0.0.1"), undefined, `round ${round}`);
    // With a list without it, the VPN's 0.0.0.0/1 wins.
    equal(winner([], "10.0.0.1")?.dst, "0.0.0.0", `round ${round}`);
    equal(winner(halves, "10.0.0.1"), undefined, `round ${round}`);
    equal(winner([parseCidr("128.0.0.0/1")], "10.0.0.1")?.dst, "0.0.0.0", `round ${round}`);
  }
});
