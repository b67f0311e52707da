import { deepEqual, equal } from "node:assert/strict";
import type { DaemonState } from "../../src/status/state_file.ts";
import { StateWriter } from "../../src/status/state_writer.ts";

const doc = (pid: number) => ({ pid }) as unknown as DaemonState;

Deno.test("one write at a time; saves meanwhile collapse into the latest; settle waits", async () => {
  const written: number[] = [];
  const gates: (() => void)[] = [];
  const writer = new StateWriter("/x", () => {}, async (state) => {
    await new Promise<void>((resolve) => gates.push(resolve));
    written.push(state.pid);
  });
  writer.save(doc(1));
  writer.save(doc(2));
  writer.save(doc(3));
  equal(gates.length, 1, "one write in flight");
  gates.shift()!();
  await Promise.resolve();
  await new Promise((r) => setTimeout(r, 0));
  equal(gates.length, 1, "then one more, for the latest");
  gates.shift()!();
  await writer.settle();
  deepEqual(written, [1, 3]);
});

Deno.test("a failed write is reported and the next save tries again", async () => {
  const errors: unknown[] = [];
  let fail = true;
  const written: number[] = [];
  const writer = new StateWriter("/x", (e) => errors.push(e), (state) => {
    if (fail) return Promise.reject(new Error("read-only"));
    written.push(state.pid);
    return Promise.resolve();
  });
  writer.save(doc(1));
  await writer.settle();
  equal(errors.length, 1);
  fail = false;
  writer.save(doc(2));
  await writer.settle();
  deepEqual(written, [2]);
});
