/**
 * `sync` into a table no rule sends traffic to still mirrors, exits 0, and says so in exactly one
 * WARN line naming the table; in the Firezone scenario, where the rule exists, it says nothing.
 */

import { equal, match } from "node:assert/strict";
import { kernelTest } from "./netns.ts";
import { firezone, lanOnly } from "./firezone.ts";
import { linkmirror, logLines } from "./linkmirror.ts";

const warnings = (stderr: string) =>
  logLines(stderr).filter((l) =>
    l.severity === "WARN" && /gets no traffic/.test(String(l.message))
  );

kernelTest("sync warns once when no rule sends traffic to the target table", async (ns) => {
  await lanOnly(ns);
  const run = await linkmirror(ns, ["sync", "--table", "1234"]);
  equal(run.code, 0, run.stderr);
  match(run.stdout, /[1-9]\d* added/);
  const lines = warnings(run.stderr);
  equal(lines.length, 1, run.stderr);
  match(String(lines[0].message), /Table 1234 gets no traffic \(no rule before main's/);
  equal(run.stderr.trim().split("\n").filter((l) => /no traffic/.test(l)).length, 1);
});

kernelTest("sync says nothing of the kind when the VPN's rule captures the table", async (ns) => {
  await firezone(ns);
  const run = await linkmirror(ns, ["sync"]);
  equal(run.code, 0, run.stderr);
  equal(warnings(run.stderr).length, 0, run.stderr);
});
