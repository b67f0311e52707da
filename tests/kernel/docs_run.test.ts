/**
 * The documentation's command lines, run: every `linkmirror` line of README.md and docs/*.md
 * (shell and console blocks; `watch` excepted, it runs until stopped) runs in the Firezone
 * scenario and must parse and work (exit 0, or 1 for a documented failure such as a `--table auto`
 * that finds nothing; never 2, a usage error); every `ip` line (but `ip netns`, which names the
 * profiling recipe's namespace) runs in an empty namespace and must parse (iproute2 exits 255 on
 * a syntax error; 2 is the kernel's answer, e.g. "Network is unreachable"). tests/docs/docs.test.ts
 * checks the rest without root.
 */

import { deepEqual } from "node:assert/strict";
import { kernelTest } from "./netns.ts";
import { firezone } from "./firezone.ts";
import { linkmirror } from "./linkmirror.ts";
import { docFiles, linkmirrorArgs, shellCommands } from "../docs/doc_commands.ts";

const REPO = new URL("../..", import.meta.url).pathname;
const commands = docFiles(REPO).flatMap((f) =>
  shellCommands(f, Deno.readTextFileSync(`${REPO}${f}`))
);

kernelTest("docs: every documented linkmirror line runs in the Firezone scenario", async (ns) => {
  await firezone(ns);
  const seen = new Set<string>();
  const problems: string[] = [];
  for (const c of commands) {
    const args = linkmirrorArgs(c.argv);
    if (!args || args[0] === "watch") continue;
    const key = JSON.stringify([args, c.env]);
    if (seen.has(key)) continue;
    seen.add(key);
    const run = await linkmirror(ns, args, { env: c.env });
    if (run.code !== 0 && run.code !== 1) {
      problems.push(
        `${c.file}:${c.line}: linkmirror ${args.join(" ")}: exit ${run.code}: ` +
          run.stderr.trim().split("\n")[0],
      );
    }
  }
  deepEqual(problems, []);
  deepEqual(seen.size > 5, true, `${seen.size} distinct lines ran`);
}, { timeoutMs: 180_000 });

kernelTest("docs: every documented ip line parses", async (ns) => {
  const problems: string[] = [];
  let ran = 0;
  for (const c of commands) {
    if (c.argv[0] !== "ip" || c.argv[1] === "netns") continue;
    const run = await ns.exec(c.argv);
    ran++;
    if (run.code === 255) {
      problems.push(`${c.file}:${c.line}: ${c.argv.join(" ")}: ${run.stderr.trim()}`);
    }
  }
  deepEqual(problems, []);
  deepEqual(ran > 0, true);
  // The check can fail.
  deepEqual((await ns.exec(["ip", "route", "bogus"])).code, 255);
});
