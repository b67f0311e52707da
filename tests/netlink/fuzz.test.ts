import assert from "node:assert/strict";
import { CORPUS, decodeDatagram, fuzz, mutate } from "./testdata/fuzzer.ts";
import { Random } from "../_fixtures/random.ts";

Deno.test("every corpus entry decodes and round-trips unmutated", () => {
  assert.ok(CORPUS.length > 80);
  for (const datagram of CORPUS) decodeDatagram(datagram);
});

Deno.test("the mutator is deterministic per seed", () => {
  const a = new Random(7);
  const b = new Random(7);
  for (let i = 0; i < 100; i++) assert.deepEqual(mutate(a), mutate(b));
});

Deno.test("20k mutated kernel messages: only DecodeError or a lossless decode", () => {
  const report = fuzz({ inputs: 20_000, seed: 20251126 });
  assert.equal(report.inputs, 20_000);
  // Both outcomes are exercised: most mutants are rejected, a good share still decodes.
  assert.ok(report.decodeErrors > 5_000, `${report.decodeErrors} decode errors`);
  assert.ok(report.decodeErrors < 19_000, `${report.decodeErrors} decode errors`);
});
