import { equal } from "node:assert/strict";
import { longestMatch, routeCovers } from "../../src/explain/route_match.ts";
import { RTM_F, RTN } from "../../src/netlink/constants.ts";
import { route } from "../detect/fixtures.ts";

Deno.test("longestMatch: longest prefix, then lowest metric, then first", () => {
  const routes = [
    route(254, "0.0.0.0/0", { oif: 1 }),
    route(254, "10.0.0.0/8", { oif: 2, priority: 100 }),
    route(254, "10.0.0.0/8", { oif: 3, priority: 50 }),
    route(254, "10.1.0.0/16", { oif: 4 }),
    route(254, "10.1.0.0/16", { oif: 5 }),
  ];
  equal(longestMatch(routes, "10.1.2.3")?.oif, 4);
  equal(longestMatch(routes, "10.2.0.1")?.oif, 3);
  equal(longestMatch(routes, "192.0.2.1")?.oif, 1);
  equal(longestMatch(routes.slice(1), "192.0.2.1"), undefined);
  equal(longestMatch(routes, "2001:db8::1"), undefined);
});

Deno.test("longestMatch skips cloned, throw, local and source-prefixed routes", () => {
  const routes = [
    route(254, "10.0.0.0/8", { oif: 1 }),
    route(254, "10.1.0.0/16", { type: RTN.THROW }),
    route(254, "10.1.1.0/24", { type: RTN.LOCAL, oif: 2 }),
    { ...route(254, "10.1.1.1/32", { oif: 3 }), flags: RTM_F.CLONED },
    route(254, "10.1.1.0/25", { oif: 4, src: "192.0.2.0", srcLen: 24 }),
    route(254, "10.1.1.0/26", { type: RTN.UNREACHABLE }),
  ];
  equal(longestMatch(routes, "10.1.1.1")?.type, RTN.UNREACHABLE);
  equal(longestMatch(routes, "10.1.1.200")?.oif, 1);
});

Deno.test("routeCovers, both families", () => {
  equal(routeCovers(route(1, "2001:db8::/32"), "2001:db8:1::1"), true);
  equal(routeCovers(route(1, "2001:db8::/32"), "2001:db9::1"), false);
  equal(routeCovers(route(1, "0.0.0.0/0"), "2001:db8::1"), false);
});
