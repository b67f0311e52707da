/**
 * Privileges and bad input. Without `CAP_NET_ADMIN` every command that changes routes (`sync`,
 * `flush`, `watch`) fails with one clear line on stderr and exit 1, and changes nothing — whether
 * the capability was dropped (`setpriv`) or the process is root only in a user namespace that does
 * not own the network namespace (`unshare -r`). Bad command-line values exit 2 with one line
 * naming the option; an unknown table or source is a clear error.
 */

import { deepEqual, equal, match, notEqual, ok } from "node:assert/strict";
import { firezone, FIREZONE_TABLE } from "../kernel/firezone.ts";
import { linkmirror, linkmirrorCommand } from "../kernel/linkmirror.ts";
import { type ExecResult, kernelTest, type Netns } from "../kernel/netns.ts";
import { readTable } from "./oracle.ts";

const LOG_ENV = { LINKMIRROR_LOG_FORMAT: "json", NO_COLOR: "1" };
const DROP_NET_ADMIN = ["setpriv", "--bounding-set=-net_admin", "--inh-caps=-net_admin"];
const USER_NAMESPACE = ["unshare", "--user", "--map-root-user"];

async function table(ns: Netns): Promise<string> {
  return JSON.stringify([
    ...await readTable(ns, FIREZONE_TABLE, 4),
    ...await readTable(ns, FIREZONE_TABLE, 6),
  ]);
}

function stderrLines(run: ExecResult): string[] {
  return run.stderr.split("\n").filter((l) => l.trim() !== "");
}

/** Runs each route-changing command under `wrapper` and checks the one-line refusal. */
async function assertRefused(ns: Netns, wrapper: string[]): Promise<void> {
  await firezone(ns);
  const synced = await linkmirror(ns, ["sync"]);
  equal(synced.code, 0, synced.stderr);
  const before = await table(ns);
  // An on-link route that sync would mirror, so that every command has work to refuse.
  await ns.ip("route", "add", "10.88.0.0/24", "dev", "lan0");
  for (const command of ["sync", "flush", "watch"]) {
    const run = await ns.exec([...wrapper, ...linkmirrorCommand([command])], {
      env: LOG_ENV,
      timeoutMs: 15_000,
    });
    equal(run.timedOut, false, `${command} did not exit:\n${run.stderr}`);
    equal(run.code, 1, `${command}: ${run.stderr}`);
    const lines = stderrLines(run);
    equal(lines.length, 1, `${command} printed more than one line:\n${run.stderr}`);
    match(lines[0], new RegExp(`^linkmirror: ${command} needs CAP_NET_ADMIN`));
    equal(await table(ns), before, `${command} changed nothing`);
  }
}

kernelTest(
  "without CAP_NET_ADMIN (dropped with setpriv) sync, flush and watch fail with one line, exit 1",
  (ns) => assertRefused(ns, DROP_NET_ADMIN),
);

kernelTest(
  "as root of a user namespace only (unshare -r) sync, flush and watch fail with one line, exit 1",
  (ns) => assertRefused(ns, USER_NAMESPACE),
  { timeoutMs: 90_000 },
);

/** Bad values, each with the option its one-line error must name. */
const BAD_USAGE: [string[], string][] = [
  [["sync", "--protocol", "abc"], "--protocol"],
  [["sync", "--protocol", "300"], "--protocol"],
  [["sync", "--protocol", "2"], "--protocol"],
  [["sync", "--family", "ipx"], "--family"],
  [["sync", "--exclude", "10.0.0.0/33"], "--exclude"],
  [["sync", "--exclude", "not-a-prefix"], "--exclude"],
  [["flush", "--exclude-dev", "a/b"], "--exclude-dev"],
  [["sync", "--table", "no-such-table"], "--table"],
  [["flush", "--table", "no-such-table"], "--table"],
  [["sync", "--table", "main"], "--table"],
  [["sync", "--table", "255"], "--table"],
  [["sync", "--table", "0"], "--table"],
  [["sync", "--table", "4294967296"], "--table"],
  [["sync", "--table", "-1"], "--table"],
  [["sync", "--source", "no-such-table"], "--source"],
  [["sync", "--source", "local"], "--source"],
  [["sync", "--source", "100", "--table", "100"], "--table"],
  [["watch", "--coalesce", "-5"], "--coalesce"],
  [["watch", "--coalesce", "1e3"], "--coalesce"],
  [["watch", "--max-wait", "x1"], "--max-wait"],
  [["watch", "--max-wait", "10", "--coalesce", "50"], "--max-wait"],
  [["watch", "--resync-interval", "999999999"], "--resync-interval"],
  [["sync", "--log-level", "loud"], "--log-level"],
  [["sync", "--log-format", "xml"], "--log-format"],
  [["sync", "--no-such-option"], "--no-such-option"],
];

kernelTest("bad command-line values exit 2 with one line naming the option", async (ns) => {
  await firezone(ns);
  equal((await linkmirror(ns, ["sync"])).code, 0);
  const before = await table(ns);
  // A few at a time: each is a process start.
  for (let i = 0; i < BAD_USAGE.length; i += 5) {
    await Promise.all(
      BAD_USAGE.slice(i, i + 5).map(async ([args, option]) => {
        const run = await linkmirror(ns, args);
        equal(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
        const lines = stderrLines(run);
        equal(lines.length, 1, `${args.join(" ")}:\n${run.stderr}`);
        ok(lines[0].includes(option), `${args.join(" ")}: "${lines[0]}" does not name ${option}`);
        equal(run.stdout, "", `${args.join(" ")} printed nothing on stdout`);
      }),
    );
  }
  // The same through the environment.
  const fromEnv = await linkmirror(ns, ["sync"], { env: { LINKMIRROR_PROTOCOL: "abc" } });
  equal(fromEnv.code, 2);
  // A bad value from the environment is named by its variable.
  match(fromEnv.stderr.trim(), /^linkmirror: LINKMIRROR_PROTOCOL: /);
  equal(await table(ns), before, "nothing changed");
});

kernelTest(
  "a source table that does not exist is a clear error, not an empty source",
  async (ns) => {
    await firezone(ns);
    equal((await linkmirror(ns, ["sync"])).code, 0);
    const before = await table(ns);
    const run = await linkmirror(ns, ["sync", "--source", "1234"]);
    notEqual(run.code, 0, run.stdout);
    const lines = stderrLines(run);
    equal(lines.length, 1, run.stderr);
    match(lines[0], /--source|1234/);
    deepEqual(await table(ns), before, "no copy was deleted");
  },
);
