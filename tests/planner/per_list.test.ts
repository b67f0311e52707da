/** oncePerList: one result per list identity, one for every empty list. */

import { equal, notEqual } from "node:assert/strict";
import { oncePerList } from "../../src/planner/per_list.ts";

Deno.test("oncePerList: makes a list's result once and keeps it for that list", () => {
  const made: (readonly number[])[] = [];
  const sum = oncePerList((list: readonly number[]) => {
    made.push(list);
    return { total: list.reduce((a, b) => a + b, 0) };
  });
  const a = [1, 2];
  const first = sum(a);
  equal(first.total, 3);
  equal(sum(a), first);
  equal(made.length, 1);
  // An equal list of another identity is made again: the cache is by identity.
  const b = [1, 2];
  notEqual(sum(b), first);
  equal(made.length, 2);
});

Deno.test("oncePerList: every empty list shares one result", () => {
  let calls = 0;
  const size = oncePerList((list: readonly string[]) => ({ size: list.length, call: ++calls }));
  const r = size([]);
  equal(size([]), r);
  equal(size(Object.freeze([])), r);
  equal(calls, 1);
  equal(size(["x"]).size, 1);
  equal(calls, 2);
});
