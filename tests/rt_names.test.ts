import { deepEqual, equal } from "node:assert/strict";
import {
  BUILTIN_ROUTE_NAMES,
  loadRouteNames,
  parseIdNames,
  protocolName,
  scopeName,
  typeName,
} from "../src/rt_names.ts";

Deno.test("parseIdNames reads ids and names, decimal or hex up to 255, skipping the rest", () => {
  const names = parseIdNames("# reserved\n16\tdhcp\n0x4d linkmirror # ours\n\n300 big\nbogus\n");
  deepEqual([...names], [[16, "dhcp"], [77, "linkmirror"]]);
});

Deno.test("built-in names are iproute2's: proto dhcp, scope link, type unreachable", () => {
  equal(protocolName(16), "dhcp");
  equal(protocolName(2), "kernel");
  equal(protocolName(186), "bgp");
  equal(protocolName(77), "77");
  equal(scopeName(0), "global");
  equal(scopeName(253), "link");
  equal(scopeName(17), "17");
  equal(typeName(1), "unicast");
  equal(typeName(7), "unreachable");
  equal(typeName(99), "99");
});

Deno.test("loadRouteNames: files override built-ins, .d/*.conf after the main file, later dirs last", () => {
  const root = Deno.makeTempDirSync();
  try {
    const [usr, etc] = [`${root}/usr`, `${root}/etc`];
    Deno.mkdirSync(`${etc}/rt_protos.d`, { recursive: true });
    Deno.mkdirSync(usr);
    Deno.writeTextFileSync(`${usr}/rt_protos`, "16 dhcp-usr\n77 mirror-usr\n");
    Deno.writeTextFileSync(`${etc}/rt_protos`, "77 mirror-etc\n");
    Deno.writeTextFileSync(`${etc}/rt_protos.d/lm.conf`, "77 linkmirror\n");
    Deno.writeTextFileSync(`${etc}/rt_protos.d/ignored.txt`, "77 nope\n");
    Deno.writeTextFileSync(`${etc}/rt_scopes`, "200 campus\n");
    const names = loadRouteNames([usr, `${root}/missing`, etc]);
    equal(protocolName(77, names), "linkmirror");
    equal(protocolName(16, names), "dhcp-usr");
    equal(protocolName(4, names), "static");
    equal(scopeName(200, names), "campus");
    equal(scopeName(253, names), "link");
    // The built-in table itself is never changed.
    equal(protocolName(16, BUILTIN_ROUTE_NAMES), "dhcp");
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});
