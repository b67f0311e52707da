import assert from "node:assert/strict";
import {
  ApplyStateError,
  Coalescer,
  CoalescerOptionsError,
  DEFAULT_COALESCE_MS,
  DEFAULT_MAX_WAIT_MS,
} from "../../src/daemon/coalescer.ts";

/**
 * Drives a coalescer the way the daemon's loop does, over a fake clock: events at the given
 * times, each apply taking `applyMs`. Returns the start times of the applies.
 */
function simulate(
  c: Coalescer,
  events: readonly number[],
  options: { applyMs: number; until: number },
): number[] {
  const starts: number[] = [];
  let next = 0;
  let applyEndsAt: number | undefined;
  for (let now = 0; now <= options.until; now++) {
    if (applyEndsAt === now) {
      c.onApplyEnd(now);
      applyEndsAt = undefined;
    }
    while (next < events.length && events[next] === now) {
      c.onEvent(now);
      next++;
    }
    if (applyEndsAt === undefined && c.due(now)) {
      starts.push(now);
      c.onApplyStart(now);
      applyEndsAt = now + options.applyMs;
      if (options.applyMs === 0) {
        c.onApplyEnd(now);
        applyEndsAt = undefined;
      }
    }
  }
  return starts;
}

Deno.test("defaults: group commit alone, no window", () => {
  const c = new Coalescer();
  assert.equal(c.coalesceMs, DEFAULT_COALESCE_MS);
  assert.equal(c.maxWaitMs, DEFAULT_MAX_WAIT_MS);
  assert.equal(DEFAULT_COALESCE_MS, 0);
  assert.equal(DEFAULT_MAX_WAIT_MS, 0);
});

Deno.test("max-wait 0 means the coalesce window itself", () => {
  assert.equal(new Coalescer({ coalesceMs: 40, maxWaitMs: 0 }).maxWaitMs, 40);
  assert.equal(new Coalescer({ coalesceMs: 40 }).maxWaitMs, 40);
});

Deno.test("group commit: every event when idle is due at once, whatever came before", () => {
  const c = new Coalescer();
  // Events 5..60 ms apart (churn), each apply taking 1 ms: each applied the moment it arrives.
  const events = [0, 5, 65, 70, 130, 131 + 59, 250];
  const starts = simulate(c, events, { applyMs: 1, until: 400 });
  assert.deepEqual(starts, events);
});

Deno.test("group commit: what arrives during an apply is one batch, due when it ends", () => {
  const c = new Coalescer();
  c.onEvent(0);
  c.onApplyStart(0);
  for (let t = 1; t < 10; t++) assert.equal(c.onEvent(t), "wait");
  assert.equal(c.nextDeadline(), undefined, "no timer while the apply runs");
  c.onApplyEnd(10);
  assert.ok(c.nextDeadline()! <= 10, "due the moment it ended");
  assert.equal(c.due(10), true);
  c.onApplyStart(10);
  c.onApplyEnd(12);
  assert.equal(c.pending, false, "one apply covered all nine");
});

Deno.test("group commit: a storm gets back-to-back applies, not one per event", () => {
  const c = new Coalescer();
  // An event every ms for 100 ms; an apply takes 10 ms.
  const events = Array.from({ length: 100 }, (_, i) => i);
  const starts = simulate(c, events, { applyMs: 10, until: 200 });
  assert.deepEqual(starts, [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
});

Deno.test("unusable options are rejected", () => {
  assert.throws(() => new Coalescer({ coalesceMs: -1 }), CoalescerOptionsError);
  assert.throws(() => new Coalescer({ coalesceMs: 100, maxWaitMs: 50 }), CoalescerOptionsError);
  assert.throws(() => new Coalescer({ maxWaitMs: Infinity }), CoalescerOptionsError);
});

Deno.test("idle: no deadline, nothing due", () => {
  const c = new Coalescer();
  assert.equal(c.nextDeadline(), undefined);
  assert.equal(c.due(1e9), false);
  assert.equal(c.pending, false);
});

Deno.test("a single event after a quiet period is applied immediately", () => {
  const c = new Coalescer({ coalesceMs: 50, maxWaitMs: 500 });
  assert.equal(c.onEvent(1000), "apply");
  assert.equal(c.nextDeadline(), 1000);
  assert.equal(c.due(1000), true);
  c.onApplyStart(1000);
  assert.equal(c.nextDeadline(), undefined);
  c.onApplyEnd(1003);
  assert.equal(c.nextDeadline(), undefined);
  assert.equal(c.pending, false);
  // Long after: quiet again, immediate again.
  assert.equal(c.onEvent(5000), "apply");
});

Deno.test("events drained together before the first apply form one batch", () => {
  const c = new Coalescer({ coalesceMs: 50, maxWaitMs: 500 });
  assert.equal(c.onEvent(10), "apply");
  assert.equal(c.onEvent(10), "apply");
  assert.equal(c.onEvent(11), "apply");
  c.onApplyStart(11);
  c.onApplyEnd(12);
  assert.equal(c.nextDeadline(), undefined);
});

Deno.test("an event within the window after an apply waits for a quiet gap", () => {
  const c = new Coalescer({ coalesceMs: 50, maxWaitMs: 500 });
  c.onEvent(0);
  c.onApplyStart(0);
  c.onApplyEnd(10);
  assert.equal(c.onEvent(20), "wait");
  assert.equal(c.nextDeadline(), 70);
  assert.equal(c.due(69), false);
  assert.equal(c.onEvent(40), "wait");
  assert.equal(c.nextDeadline(), 90);
  assert.equal(c.due(90), true);
});

Deno.test("the window is measured from the apply's end, not its start", () => {
  const c = new Coalescer({ coalesceMs: 50, maxWaitMs: 500 });
  c.onEvent(0);
  c.onApplyStart(0);
  c.onApplyEnd(200); // a slow apply
  // 100 ms after the start but 10 ms after the end: batched.
  assert.equal(c.onEvent(210), "wait");
  assert.equal(c.nextDeadline(), 260);
  // 60 ms after the end: quiet.
  const d = new Coalescer({ coalesceMs: 50, maxWaitMs: 500 });
  d.onEvent(0);
  d.onApplyStart(0);
  d.onApplyEnd(200);
  assert.equal(d.onEvent(260), "apply");
});

Deno.test("events during an apply give exactly one follow-up apply", () => {
  const c = new Coalescer({ coalesceMs: 50, maxWaitMs: 500 });
  c.onEvent(0);
  c.onApplyStart(0);
  for (let t = 1; t <= 30; t++) assert.equal(c.onEvent(t), "wait");
  assert.equal(c.nextDeadline(), undefined, "no deadline while the apply is in flight");
  c.onApplyEnd(40);
  assert.equal(c.nextDeadline(), 90);
  assert.equal(c.due(89), false);
  assert.equal(c.due(90), true);
  c.onApplyStart(90);
  c.onApplyEnd(95);
  assert.equal(c.pending, false);
  assert.equal(c.nextDeadline(), undefined);
});

Deno.test("a batch that outwaited maxWait during a long apply is due when it ends", () => {
  const c = new Coalescer({ coalesceMs: 50, maxWaitMs: 500 });
  c.onEvent(0);
  c.onApplyStart(0);
  c.onEvent(5);
  c.onApplyEnd(900);
  assert.equal(c.nextDeadline(), 505);
  assert.equal(c.due(900), true);
});

Deno.test("echo events schedule nothing and do not delay a batch", () => {
  const c = new Coalescer({ coalesceMs: 50, maxWaitMs: 500 });
  c.onEvent(0);
  c.onApplyStart(0);
  c.onApplyEnd(5);
  for (let t = 5; t < 20; t++) assert.equal(c.onEvent(t, { echo: true }), "ignore");
  assert.equal(c.pending, false);
  assert.equal(c.nextDeadline(), undefined);
  // A real event, then more echoes: the deadline stays where the real event put it.
  assert.equal(c.onEvent(20), "wait");
  const deadline = c.nextDeadline();
  assert.equal(deadline, 70);
  for (let t = 21; t < 69; t++) c.onEvent(t, { echo: true });
  assert.equal(c.nextDeadline(), deadline);
});

Deno.test("echoes of each apply do not loop", () => {
  // The daemon's loop: every apply produces echoes 1–3 ms after it ends. Only the first event
  // is real; there must be exactly one apply.
  const c = new Coalescer();
  let applies = 0;
  let now = 0;
  c.onEvent(now);
  for (let round = 0; round < 10 && c.due(now); round++) {
    applies++;
    c.onApplyStart(now);
    now += 2;
    c.onApplyEnd(now);
    for (let k = 1; k <= 3; k++) c.onEvent(now + k, { echo: true });
    now += 3;
    const deadline = c.nextDeadline();
    if (deadline !== undefined) now = Math.max(now, deadline);
  }
  assert.equal(applies, 1);
  assert.equal(c.nextDeadline(), undefined);
});

Deno.test("a burst of 1,000 events 1 ms apart", () => {
  const c = new Coalescer({ coalesceMs: 50, maxWaitMs: 500 });
  const events = Array.from({ length: 1000 }, (_, i) => i);
  const starts = simulate(c, events, { applyMs: 3, until: 3000 });
  assert.equal(starts[0], 0, "the first event is applied immediately");
  assert.ok(starts.length >= 3, `expected several applies, got ${starts}`);
  assert.ok(starts.length <= 6, `expected the storm coalesced, got ${starts.length} applies`);
  for (let i = 1; i < starts.length; i++) {
    // Spaced by at least the coalesce window after the previous apply's end ...
    assert.ok(starts[i] - (starts[i - 1] + 3) >= 50, `apply ${i} at ${starts[i]} too early`);
    // ... and never later than maxWait after the first event that was pending.
    const firstPending = events.find((t) => t > starts[i - 1]);
    assert.ok(firstPending !== undefined);
    assert.ok(starts[i] - firstPending <= 500, `apply ${i} at ${starts[i]} waited too long`);
  }
  // The last event (at 999) is covered by an apply within 50 ms of it.
  const last = starts[starts.length - 1];
  assert.ok(last >= 999 && last <= 1049, `last apply at ${last}`);
  assert.equal(c.nextDeadline(), undefined, "idle after the storm");
});

Deno.test("a short burst is one immediate apply plus one follow-up", () => {
  const c = new Coalescer({ coalesceMs: 50, maxWaitMs: 500 });
  // A link comes up: events at 0 (link), 3 (address), 4, 9 (routes).
  const starts = simulate(c, [0, 3, 4, 9], { applyMs: 1, until: 1000 });
  assert.deepEqual(starts, [0, 59]);
});

Deno.test("misuse of the apply lifecycle throws", () => {
  const c = new Coalescer();
  assert.throws(() => c.onApplyEnd(0), ApplyStateError);
  c.onApplyStart(0);
  assert.equal(c.applying, true);
  assert.throws(() => c.onApplyStart(1), ApplyStateError);
});
