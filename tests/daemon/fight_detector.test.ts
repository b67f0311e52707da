import { deepEqual, equal, ok, throws } from "node:assert/strict";
import { FightDetector } from "../../src/daemon/fight_detector.ts";

const P = "2 10.0.0.0/24";
const Q = "2 10.1.0.0/24";

/**
 * A writer that undoes the copy of `key` `delayMs` after every repair, for `untilMs`; the daemon
 * repairs at once unless the prefix is held. Returns the repair times.
 */
function fight(d: FightDetector, key: string, delayMs: number, untilMs: number): number[] {
  const repairs: number[] = [0];
  let now = 0;
  while (now < untilMs) {
    now += delayMs;
    d.undone(key, now, "deleted by port 42");
    const until = d.nextExpiry();
    if (until !== undefined && d.held(key, now)) now = until;
    d.expire(now);
    repairs.push(now);
  }
  return repairs;
}

Deno.test("undos up to the threshold are repaired at once; one more starts an episode", () => {
  const d = new FightDetector({ threshold: 3, windowMs: 1000, initialBackoffMs: 100 });
  for (let i = 0; i < 3; i++) {
    const v = d.undone(P, i * 10, "deleted");
    equal(v.started, false);
    equal(d.held(P, i * 10), false);
  }
  const v = d.undone(P, 30, "deleted by port 42");
  equal(v.started, true);
  equal(v.heldUntil, 130);
  equal(d.held(P, 129), true);
  equal(d.held(Q, 129), false, "other prefixes are never held");
  deepEqual(d.episodes(), [{ key: P, cause: "deleted by port 42", undos: 4, heldUntil: 130 }]);
});

Deno.test("undos spread wider than the window never start an episode", () => {
  const d = new FightDetector({ threshold: 3, windowMs: 1000 });
  for (let t = 0; t < 100_000; t += 400) equal(d.undone(P, t, "deleted").started, false);
  equal(d.holding, false);
});

Deno.test("back-off doubles per undo in an episode, capped, and warns once", () => {
  const d = new FightDetector({
    threshold: 2,
    windowMs: 1000,
    initialBackoffMs: 1000,
    maxBackoffMs: 8000,
    calmMs: 20_000,
  });
  const started: number[] = [];
  const holds: number[] = [];
  let now = 0;
  for (let i = 0; i < 10; i++) {
    now += 5;
    const v = d.undone(P, now, "deleted");
    if (v.started) started.push(now);
    if (v.backoffMs !== undefined) holds.push(v.backoffMs);
    if (v.heldUntil !== undefined) now = v.heldUntil;
    d.expire(now);
  }
  deepEqual(holds, [1000, 2000, 4000, 8000, 8000, 8000, 8000, 8000]);
  equal(started.length, 1, "one warning per episode");
});

Deno.test("a tight-loop writer gets few repairs: bounded by the back-off", () => {
  const d = new FightDetector();
  // Deleted 1 ms after every repair, for 60 s.
  const repairs = fight(d, P, 1, 60_000);
  ok(repairs.length < 20, `${repairs.length} repairs in 60 s`);
  ok(repairs.length >= 6, "it still repairs, at a falling rate");
});

Deno.test("calm ends the episode: counting starts over, and a new one warns again", () => {
  const d = new FightDetector({ threshold: 1, windowMs: 1000, initialBackoffMs: 100, calmMs: 500 });
  d.undone(P, 0, "deleted");
  equal(d.undone(P, 1, "deleted").started, true);
  deepEqual(d.expire(101), [P]);
  // The copy stays for longer than calmMs after its repair at 101.
  equal(d.undone(P, 700, "deleted").started, false, "counting starts over");
  equal(d.held(P, 700), false);
  equal(d.undone(P, 701, "deleted").started, true, "a new episode warns again");
});

Deno.test("expire returns each ended hold once and forgets quiet prefixes", () => {
  const d = new FightDetector({ threshold: 1, windowMs: 100, initialBackoffMs: 50, calmMs: 100 });
  d.undone(P, 0, "a");
  d.undone(P, 1, "b");
  d.undone(Q, 10, "c");
  equal(d.nextExpiry(), 51);
  deepEqual(d.expire(50), []);
  deepEqual(d.expire(51), [P]);
  deepEqual(d.expire(52), []);
  equal(d.nextExpiry(), undefined);
  d.expire(1000);
  deepEqual(d.episodes(), []);
});

Deno.test("a burst-tagged undo within burstMs of the last one counted is the same undo", () => {
  const d = new FightDetector({ threshold: 3, windowMs: 1000, burstMs: 100 });
  // One flush: its rounds, its IPv4 and IPv6 halves, all within 100 ms of the first.
  for (const t of [0, 1, 2, 40, 99]) equal(d.undone(P, t, "flushed", "flush").count, 1);
  // A second and a third flush: one undo each.
  equal(d.undone(P, 300, "flushed", "flush").count, 2);
  equal(d.undone(P, 301, "flushed", "flush").count, 2);
  equal(d.undone(P, 600, "flushed", "flush").count, 3);
  equal(d.holding, false, "three flushes within the window are no fight");
  // Untagged undos of the same key all count.
  equal(d.undone(Q, 0, "deleted").count, 1);
  equal(d.undone(Q, 1, "deleted").count, 2);
});

Deno.test("a flusher looping faster than burstMs still counts once per burst: a fight", () => {
  const d = new FightDetector({ threshold: 10, windowMs: 5000, burstMs: 200 });
  let started: number | undefined;
  for (let t = 0; t < 5000 && started === undefined; t += 10) {
    if (d.undone(P, t, "flushed", "flush").started) started = t;
  }
  equal(started, 2000, "the 11th burst, 2 s in");
  equal(d.held(P, 2001), true);
});

Deno.test("forget: no back-off keeps out a copy the kernel removed, counting starts over", () => {
  const d = new FightDetector({ threshold: 2, windowMs: 1000, initialBackoffMs: 500 });
  d.undone(P, 0, "deleted");
  d.undone(P, 1, "deleted");
  equal(d.undone(P, 2, "deleted").started, true);
  equal(d.held(P, 3), true);
  d.undone(Q, 3, "deleted");
  // The kernel removes P's copy by itself (its link went down): forgotten, hold and all.
  d.forget(P);
  equal(d.held(P, 4), false);
  equal(d.known(P), false);
  equal(d.nextExpiry(), undefined);
  deepEqual([...d.keys()], [Q], "other keys untouched");
  equal(d.undone(P, 5, "deleted").count, 1, "counting starts over");
  equal(d.undone(P, 6, "deleted").started, false);
});

Deno.test("options must be positive", () => {
  throws(() => new FightDetector({ threshold: 0 }), RangeError);
  throws(() => new FightDetector({ windowMs: -1 }), RangeError);
  throws(() => new FightDetector({ burstMs: 0 }), RangeError);
});
