import { equal } from "node:assert/strict";
import { hasNetAdmin } from "../../src/engine/capabilities.ts";

Deno.test("hasNetAdmin reads bit 12 of CapEff", () => {
  equal(hasNetAdmin("Name:\tdeno\nCapEff:\t000001ffffffffff\n"), true);
  equal(hasNetAdmin("CapEff:\t0000000000001000\n"), true);
  equal(hasNetAdmin("CapEff:\t0000000000000fff\n"), false);
  equal(hasNetAdmin("CapEff:\t0000000000000000\n"), false);
  equal(hasNetAdmin("Name:\tdeno\n"), undefined);
});
