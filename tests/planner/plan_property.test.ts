/**
 * Property checks of the planner over 2,000 random inputs from a seeded PRNG: never a foreign
 * delete, idempotence (apply, plan again: nothing to do), every add eligible, no add colliding
 * with a foreign route, and the rest of {@linkcode checkPlan}.
 */

import { equal } from "node:assert/strict";
import { AF, RT_SCOPE, RTA, RTM_F, RTN, RTNH_F, RTPROT } from "../../src/netlink/constants.ts";
import { parseCidr } from "../../src/netlink/ip.ts";
import type { Route } from "../../src/netlink/route.ts";
import { planOptions } from "../../src/planner/options.ts";
import { type PlanInput, planSync } from "../../src/planner/plan.ts";
import {
  addr,
  ADDRESSES,
  copyOf,
  FIREZONE,
  IF,
  LINKS,
  OURS,
  v4,
  v6,
  vpnDefault,
  WG_QUICK,
} from "./fixtures.ts";
import { checkPlan } from "./invariants.ts";
import { Random } from "../_fixtures/random.ts";

const CASES = 2_000;
const SEED = 0x6c696e6b; // "link"

// Small pools, so that keys, prefixes and devices collide often.
const PREFIXES4 = ["0.0.0.0/0", "10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24", "192.168.1.0/24"];
const PREFIXES6 = ["::/0", "fe80::/64", "2001:db8::/32", "2001:db8::/64", "fd00::/8"];
// Now and then public and hostile prefixes: the local address space guard and precedence act.
const HOSTILE4 = ["192.168.0.0/16", "0.0.0.0/1", "198.51.100.0/24"];
const HOSTILE6 = ["2000::/3", "2001:db8:1::/64"];
const ALLOWED = ["198.51.100.0/24", "2001:db8::/32", "0.0.0.0/1"];
const CATCH_ALLS = ["0.0.0.0/1", "10.0.0.0/8", "2000::/3", "fd00::/8"];
const EXCLUDES = ["10.1.0.0/16", "192.168.0.0/16", "10.1.2.3/32", "fe80::/10", "2001:db8::/48"];
const DEVICES = ["eth0", "eth1", "docker0", "tun0"];
const OIFS = [...Object.values(IF), 99];
const PROTOCOLS = [RTPROT.KERNEL, RTPROT.BOOT, RTPROT.STATIC, RTPROT.DHCP, RTPROT.RA, OURS];
const METRICS = [undefined, 0, 100, 256, 1024];
const TYPES = [RTN.UNICAST, RTN.UNICAST, RTN.UNICAST, RTN.LOCAL, RTN.UNREACHABLE, RTN.BLACKHOLE];

function randomRoute(rand: Random, table: number): Route {
  const family = rand.chance(0.5) ? AF.INET : AF.INET6;
  const build = family === AF.INET ? v4 : v6;
  const extra: Partial<Route> = {
    table,
    protocol: rand.chance(0.7) ? RTPROT.KERNEL : rand.pick(PROTOCOLS),
    type: rand.chance(0.8) ? RTN.UNICAST : rand.pick(TYPES),
    flags: rand.chance(0.1) ? RTM_F.CLONED : rand.chance(0.1) ? RTNH_F.LINKDOWN : 0,
    priority: rand.pick(METRICS),
  };
  if (family === AF.INET) {
    extra.scope = rand.chance(0.8) ? RT_SCOPE.LINK : rand.pick([RT_SCOPE.UNIVERSE, RT_SCOPE.HOST]);
    if (rand.chance(0.1)) extra.tos = 0x10;
  }
  if (rand.chance(0.3)) extra.prefsrc = family === AF.INET ? "10.1.2.3" : "2001:db8::3";
  if (rand.chance(0.1)) extra.gateway = family === AF.INET ? "10.1.2.1" : "fe80::1";
  if (rand.chance(0.05)) {
    extra.multipath = [
      { oif: rand.pick(OIFS), flags: 0, hops: 0 },
      { oif: rand.pick(OIFS), flags: 0, hops: 0 },
    ];
  }
  if (rand.chance(0.03)) extra.nhId = 1 + rand.int(5);
  if (rand.chance(0.03)) extra.other = [{ type: RTA.ENCAP, data: new Uint8Array(4) }];
  if (family === AF.INET6 && rand.chance(0.1)) extra.expires = 300;
  if (family === AF.INET6 && rand.chance(0.03)) Object.assign(extra, { src: "fd00::", srcLen: 8 });
  const oif = rand.chance(0.9) ? rand.pick(OIFS) : undefined;
  const pool = rand.chance(0.2)
    ? (family === AF.INET ? HOSTILE4 : HOSTILE6)
    : (family === AF.INET ? PREFIXES4 : PREFIXES6);
  return build(rand.pick(pool), oif, extra);
}

/** One of ours in `table`: a copy of a source route (maybe altered) or a random stale route. */
function randomOurs(rand: Random, source: readonly Route[], table: number): Route {
  if (source.length > 0 && rand.chance(0.7)) {
    const copy = copyOf(rand.pick(source), table);
    if (rand.chance(0.2)) copy.prefsrc = copy.family === AF.INET ? "10.9.9.9" : "fd00::9";
    if (rand.chance(0.1)) copy.oif = rand.pick(OIFS);
    if (rand.chance(0.1)) copy.priority = rand.pick(METRICS);
    if (rand.chance(0.1)) copy.flags = RTNH_F.LINKDOWN;
    return copy;
  }
  return { ...randomRoute(rand, table), protocol: OURS };
}

function randomInput(rand: Random): PlanInput {
  const source = Array.from({ length: rand.int(12) }, () => randomRoute(rand, 254));
  const targets = new Map<number, Route[]>();
  for (const table of rand.some([FIREZONE, WG_QUICK, 1000], 0.7)) {
    const vpnOif = table === WG_QUICK ? IF.wg0 : IF.tun0;
    const routes: Route[] = [];
    if (rand.chance(0.8)) routes.push(vpnDefault(AF.INET, table, vpnOif));
    if (rand.chance(0.8)) routes.push(vpnDefault(AF.INET6, table, vpnOif));
    for (let i = rand.int(4); i > 0; i--) {
      const foreign = randomRoute(rand, table);
      routes.push(foreign.protocol === OURS ? { ...foreign, protocol: RTPROT.STATIC } : foreign);
    }
    // The VPN routes a source prefix itself (a resource): a conflict or a VPN route that wins.
    if (source.length > 0 && rand.chance(0.8)) {
      const { dst, dstLen, family } = rand.pick(source);
      const build = family === AF.INET ? v4 : v6;
      routes.push(build(`${dst}/${dstLen}`, vpnOif, { table, protocol: RTPROT.STATIC }));
    }
    for (let i = rand.int(6); i > 0; i--) routes.push(randomOurs(rand, source, table));
    // Now and then the same copy twice.
    if (routes.length > 0 && rand.chance(0.1)) routes.push({ ...rand.pick(routes) });
    targets.set(table, rand.shuffle(routes));
  }
  const families = rand.pick([[AF.INET, AF.INET6], [AF.INET], [AF.INET6]]);
  const options = planOptions({
    families,
    exclude: rand.some(EXCLUDES, 0.15).map(parseCidr),
    excludeDevices: rand.some(DEVICES, 0.15),
    precedence: rand.pick(["vpn", "lan"] as const),
    allowPrefixes: rand.some(ALLOWED, 0.4).map(parseCidr),
    ...(rand.chance(0.1) ? { catchAll: rand.some(CATCH_ALLS, 0.5).map(parseCidr) } : {}),
  });
  const links = rand.chance(0.1) ? LINKS.filter((l) => l.index !== IF.eth1) : LINKS;
  const addresses = rand.some(ADDRESSES, 0.7);
  if (rand.chance(0.3)) addresses.push(addr("2001:db8::5/64", rand.pick(OIFS)));
  return { source, targets, links, addresses, options };
}

Deno.test(`planSync properties hold on ${CASES} random inputs (seed ${SEED})`, () => {
  const rand = new Random(SEED);
  let adds = 0, deletes = 0, conflicts = 0, unchanged = 0, outsideLocal = 0, vpnWins = 0;
  for (let i = 0; i < CASES; i++) {
    const input = randomInput(rand);
    const plan = planSync(input);
    try {
      checkPlan(input, plan);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new Error(`case ${i}: ${message}\ninput: ${JSON.stringify(input, replacer)}`);
    }
    adds += plan.adds.length;
    deletes += plan.deletes.length;
    conflicts += plan.conflicts.length;
    unchanged += plan.unchanged.length;
    outsideLocal += plan.excluded.filter((e) => e.reason === "outside-local-space").length;
    vpnWins += plan.excluded.filter((e) => e.reason === "vpn-route-wins").length;
  }
  // The generator must exercise every outcome, or the properties prove little.
  const outcomes = { adds, deletes, conflicts, unchanged, outsideLocal, vpnWins };
  for (const [what, count] of Object.entries(outcomes)) {
    equal(count > CASES / 10, true, `only ${count} ${what} in ${CASES} cases`);
  }
});

function replacer(_key: string, value: unknown): unknown {
  return value instanceof Map ? [...value] : value;
}
