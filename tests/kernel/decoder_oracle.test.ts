import { deepEqual, ok } from "node:assert/strict";
import { kernelTest } from "./netns.ts";

const KEYS = ["type", "dst", "gateway", "dev", "table", "protocol", "scope", "metric", "prefsrc"];

/** The fields of an `ip -j` route that the decoder must reproduce. */
function pick(route: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of KEYS) if (route[k] !== undefined) out[k] = route[k];
  if (Array.isArray(route.nexthops)) {
    out.nexthops = route.nexthops.map((h: Record<string, unknown>) => ({
      gateway: h.gateway,
      dev: h.dev,
      weight: h.weight,
    }));
  }
  return out;
}

kernelTest("the route decoder reads what ip -j route show table all prints", async (ns) => {
  const ip = (line: string) => ns.ip(...line.split(" "));
  await ip("link add v0 type veth peer name v1");
  await ip("link add br0 type bridge");
  for (const dev of ["v0", "v1", "br0"]) await ip(`link set ${dev} up`);
  await ip("address add 192.168.50.1/24 dev v0");
  await ip("address add 10.77.0.1/16 dev br0");
  await ip("-6 address add 2001:db8:50::1/64 dev v0 nodad");
  await ip("route add 10.1.0.0/16 via 192.168.50.254 metric 20");
  await ip("route add 10.2.0.1 dev v0 proto static");
  await ip("route add 10.3.0.0/24 dev v0 src 192.168.50.1 metric 600 proto dhcp");
  await ip("route add blackhole 10.4.0.0/16");
  await ip("route add unreachable 10.5.0.0/16 table 539098368");
  await ip(
    "route add 10.6.0.0/24 nexthop via 192.168.50.2 dev v0 nexthop via 10.77.0.9 dev br0 weight 3",
  );
  await ip("route add default dev br0 table 539098368");
  await ip("route add 192.168.50.0/24 dev v0 table 539098368 proto 77 scope link src 192.168.50.1");
  await ip("route add 10.8.0.0/24 dev v0 table 4294967295");
  await ip("-6 route add 2001:db8:60::/64 via 2001:db8:50::2 metric 5");
  await ip("-6 route add 2001:db8:61::/64 dev br0 table 539098368 proto 77");
  await ip(
    "-6 route add 2001:db8:62::/64 nexthop via 2001:db8:50::3 dev v0 nexthop via 2001:db8:50::4 dev v0",
  );
  await ip("-6 route add default dev br0 table 539098368 metric 1");

  const run = await ns.deno(new URL("./scripts/dump_routes.ts", import.meta.url));
  ok(run.success, run.stderr);
  const ours = JSON.parse(run.stdout);
  for (const [family, flag] of [["inet", "-4"], ["inet6", "-6"]] as const) {
    const oracle =
      (await ns.ipJson<Record<string, unknown>[]>(flag, "route", "show", "table", "all"))
        .map(pick);
    ok(oracle.length > 5, `${family}: the namespace has routes`);
    deepEqual(ours[family], oracle, `${family} routes decode as ip -j prints them`);
  }
});
