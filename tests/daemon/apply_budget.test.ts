import { equal, throws } from "node:assert/strict";
import { ApplyBudget } from "../../src/daemon/apply_budget.ts";

Deno.test("under the limit an apply may start at once", () => {
  const b = new ApplyBudget({ limit: 3, windowMs: 1000 });
  b.record(0);
  b.record(100);
  equal(b.nextAllowed(200), 200);
});

Deno.test("at the limit the next apply waits for the oldest to leave the window", () => {
  const b = new ApplyBudget({ limit: 3, windowMs: 1000 });
  for (const t of [0, 100, 200]) b.record(t);
  equal(b.nextAllowed(300), 1000);
  equal(b.count(300), 3);
  equal(b.nextAllowed(1000), 1000);
  equal(b.count(1000), 2);
});

Deno.test("a steady fight is held to the limit per window", () => {
  const b = new ApplyBudget({ limit: 10, windowMs: 1000 });
  let t = 0;
  let applies = 0;
  while (t < 10_000) {
    t = b.nextAllowed(t);
    b.record(t);
    applies++;
    t += 1; // the other writer undoes our change 1 ms later
  }
  equal(applies <= 101, true, `${applies} applies in 10 s`);
});

Deno.test("bad limits are refused", () => {
  throws(() => new ApplyBudget({ limit: 0, windowMs: 1000 }), RangeError);
  throws(() => new ApplyBudget({ limit: 1, windowMs: 0 }), RangeError);
});
