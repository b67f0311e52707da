/**
 * Smoke run of the benchmark (`deno task bench:smoke`): tiny sizes, linkmirror only, a few
 * seconds. Proves the benchmark still builds its namespaces, drives its probe, prints its table
 * and cleans up; the numbers themselves are not judged here.
 *
 * @module
 */

import { skipUnless } from "./_fixtures/skip.ts";
import { deepEqual, equal, match, ok } from "node:assert/strict";
import { leftoverNamespaces } from "../bench/netns.ts";
import { kernelTestSkipReason } from "./kernel/netns.ts";

const BENCH = new URL("../bench/main.ts", import.meta.url).pathname;

const skip = kernelTestSkipReason();

Deno.test({
  ...skipUnless("bench --smoke prints its table and exits 0", skip),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", BENCH, "--smoke"],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(out.stdout);
    const stderr = new TextDecoder().decode(out.stderr);
    equal(out.code, 0, `bench --smoke failed:\n${stderr}`);
    match(stdout, /^scenario\s+metric\s+contender\s+n\s+median\s+p99\s+min\s+max\s+×best$/m);
    for (const contender of ["linkmirror sync", "ip -batch", "linkmirror watch"]) {
      match(stdout, new RegExp(`^1 bulk 200\\s+converge \\(ms\\)\\s+${contender}\\s+1\\s`, "m"));
    }
    // sync's steps, from its log: where its time went.
    for (const step of ["startup", "detect", "read", "plan", "apply", "print"]) {
      match(
        stdout,
        new RegExp(`^1 bulk 200\\s+sync step: ${step} \\(ms\\)\\s+linkmirror sync\\s+1\\s`, "m"),
      );
    }
    match(stdout, /^2 event latency\s+appear \(ms\)\s+linkmirror watch\s+5\s/m);
    match(stdout, /^4 storm: churn\s+exact \(count\)\s+linkmirror watch\s+1\s+1\s/m);
    match(stdout, /^Goals:$/m);
    ok(!stdout.includes("NaN"), "no NaN in the table");
    deepEqual(await leftoverNamespaces(), [], "the benchmark left namespaces behind");
  },
});
