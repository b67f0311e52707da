import { deepEqual } from "node:assert/strict";
import { parseCidr } from "../../src/netlink/ip.ts";
import { DEFAULT_PROTOCOL, planOptions } from "../../src/planner/options.ts";

Deno.test("planOptions defaults to protocol 77, both families, no exclusions", () => {
  deepEqual(planOptions(), {
    protocol: DEFAULT_PROTOCOL,
    families: [2, 10],
    exclude: [],
    excludeDevices: [],
  });
  deepEqual(DEFAULT_PROTOCOL, 77);
});

Deno.test("planOptions keeps what is given", () => {
  const exclude = [parseCidr("10.0.0.0/8")];
  deepEqual(planOptions({ protocol: 99, families: [10], exclude, excludeDevices: ["docker0"] }), {
    protocol: 99,
    families: [10],
    exclude,
    excludeDevices: ["docker0"],
  });
});
