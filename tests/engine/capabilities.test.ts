import { equal } from "node:assert/strict";
import {
  CAP_NET_ADMIN,
  effectiveCapabilities,
  hasCapability,
  processHasNetAdmin,
} from "../../src/engine/capabilities.ts";

Deno.test("hasCapability reads the bit from the right 32-bit word", () => {
  equal(hasCapability([0xffffffff, 0x1ff], CAP_NET_ADMIN), true);
  equal(hasCapability([0x1000, 0], CAP_NET_ADMIN), true);
  equal(hasCapability([0xffffefff, 0xffffffff], CAP_NET_ADMIN), false);
  equal(hasCapability([0, 0x1], 32), true);
  equal(hasCapability([0xffffffff, 0], 33), false);
});

Deno.test({
  name: "capget agrees with CapEff in /proc/self/status",
  ignore: Deno.permissions.querySync({ name: "ffi" }).state !== "granted",
  fn() {
    const caps = effectiveCapabilities();
    const line = /^CapEff:\s*([0-9a-f]+)$/m.exec(Deno.readTextFileSync("/proc/self/status"));
    if (!caps || !line) throw new Error("no capabilities read");
    const fromProc = BigInt(`0x${line[1]}`);
    equal(caps[0] >>> 0, Number(fromProc & 0xffffffffn));
    equal(caps[1] >>> 0, Number(fromProc >> 32n));
    equal(processHasNetAdmin(), ((fromProc >> BigInt(CAP_NET_ADMIN)) & 1n) === 1n);
  },
});
