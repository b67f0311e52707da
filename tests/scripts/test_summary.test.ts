/** scripts/test.ts: the tool check, the JUnit reading and the summary of `deno task test`. */

import { deepEqual, equal } from "node:assert/strict";
import { missingToolsLine, parseJunit, skipReason, summary } from "../../scripts/test.ts";

const JUNIT = `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="deno test" tests="4" failures="1" errors="0" time="0.013">
    <testsuite name="./tests/a.test.ts" tests="4" disabled="2" errors="0" failures="1">
        <testcase name="mirrors &quot;x&quot; (skipped: needs root)" classname="./tests/a.test.ts" time="0.000" line="1" col="6">
            <skipped/>
        </testcase>
        <testcase name="passes" classname="./tests/a.test.ts" time="0.001" line="2" col="6">
        </testcase>
        <testcase name="fails" classname="./tests/a.test.ts" time="0.001" line="3" col="6">
            <failure message="Uncaught Error: x">Error: x</failure>
        </testcase>
        <testcase name="no reason" classname="./tests/b.test.ts" time="0.000" line="1" col="6">
            <skipped/>
        </testcase>
    </testsuite>
</testsuites>`;

Deno.test("parseJunit reads each case's file, name and outcome", () => {
  deepEqual(parseJunit(JUNIT), [
    { file: "./tests/a.test.ts", name: 'mirrors "x" (skipped: needs root)', outcome: "skipped" },
    { file: "./tests/a.test.ts", name: "passes", outcome: "passed" },
    { file: "./tests/a.test.ts", name: "fails", outcome: "failed" },
    { file: "./tests/b.test.ts", name: "no reason", outcome: "skipped" },
  ]);
  deepEqual(parseJunit(""), []);
});

Deno.test("summary: counts on the first line, skips with reasons on the next", () => {
  deepEqual(summary(parseJunit(JUNIT)), [
    "1 passed, 1 failed",
    "2 skipped: needs root (1), no reason given (1)",
    "  (sudo deno task test runs the tests that need root)",
    '  skipped: mirrors "x" (skipped: needs root)',
    "  skipped: no reason",
  ]);
  deepEqual(summary([{ file: "f", name: "n", outcome: "passed" }]), [
    "1 passed, 0 failed",
    "0 skipped",
  ]);
});

Deno.test("skipReason takes the reason from the name's last marker", () => {
  equal(skipReason("a (b) (skipped: needs root)"), "needs root");
  equal(skipReason("plain"), "no reason given");
});

Deno.test("the tool check names what is missing and how to install it, in one line", () => {
  equal(missingToolsLine(true, () => true), null);
  equal(
    missingToolsLine(true, (c) => c === "ip"),
    "deno task test: missing systemd-analyze (systemd), ping (iputils-ping); " +
      "install with: sudo sh scripts/deps.sh --test",
  );
  // ping serves only the kernel tests, which need root.
  equal(missingToolsLine(false, (c) => c !== "ping"), null);
});
