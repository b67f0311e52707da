import { deepEqual, equal } from "node:assert/strict";
import { PrefixSet } from "../../src/daemon/prefix_set.ts";

Deno.test("a prefix set keeps one member per family, destination and length, in order", () => {
  const set = new PrefixSet();
  const a = { family: 2, dst: "10.0.0.0", dstLen: 24 };
  const cases = [
    a,
    { family: 2, dst: "10.0.0.0", dstLen: 24, table: 254 }, // equal to a: not added
    { family: 2, dst: "10.0.0.0", dstLen: 16 },
    { family: 10, dst: "10.0.0.0", dstLen: 24 }, // another family, same text (not a real one)
    { family: 2, dst: "10.1.0.0", dstLen: 24 },
    { family: 2, dst: "10.0.0.0", dstLen: 16 },
  ];
  for (const p of cases) set.add(p);
  equal(set.size, 4);
  deepEqual(set.members.map((p) => `${p.family} ${p.dst}/${p.dstLen}`), [
    "2 10.0.0.0/24",
    "2 10.0.0.0/16",
    "10 10.0.0.0/24",
    "2 10.1.0.0/24",
  ]);
  equal(set.members[0], a, "the first object added stands for its prefix");
  for (const p of cases) equal(set.has(p), true);
  equal(set.has({ family: 2, dst: "10.0.0.0", dstLen: 8 }), false);
  equal(set.has({ family: 10, dst: "10.0.0.0", dstLen: 16 }), false);
  equal(set.has({ family: 2, dst: "10.2.0.0", dstLen: 24 }), false);
});
