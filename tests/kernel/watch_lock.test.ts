/**
 * One daemon per target table per network namespace: a second `watch` on a locked table exits 1
 * at once with one line naming the holder's pid; `kill -9` of the holder frees the table at once;
 * daemons on different tables run side by side; `status` names the right daemon for each table.
 */

import { deepEqual, equal, match, ok } from "node:assert/strict";
import { firezone, FIREZONE_TABLE } from "./firezone.ts";
import { linkmirror, spawnLinkmirror } from "./linkmirror.ts";
import { kernelTest, type Netns, type NetnsProcess } from "./netns.ts";

const OTHER_TABLE = "51820";

/** Starts `watch` on `table` and waits until it is watching. */
async function watching(ns: Netns, table: string, env: Record<string, string>) {
  const daemon = spawnLinkmirror(ns, ["watch", "--table", table], { env });
  await daemon.waitForLine(/"message":"Watching"/, { timeoutMs: 20_000 });
  return daemon;
}

/** `status --table T --json` as a document. */
async function statusOf(ns: Netns, table: string, env: Record<string, string>) {
  const r = await linkmirror(ns, ["status", "--table", table, "--json"], { env });
  equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

async function stateDir(): Promise<{ env: Record<string, string>; dir: string }> {
  const dir = await Deno.makeTempDir({ prefix: "lmt-lock-" });
  return { dir, env: { LINKMIRROR_STATE_DIR: dir } };
}

kernelTest(
  "a second watch on a locked table exits 1 naming the holder; kill -9 frees it",
  async (ns) => {
    await firezone(ns);
    const { dir, env } = await stateDir();
    let third: NetnsProcess | undefined;
    try {
      const first = await watching(ns, FIREZONE_TABLE, env);
      const second = await linkmirror(ns, ["watch", "--table", FIREZONE_TABLE], { env });
      equal(second.code, 1, second.stderr);
      const lines = second.stderr.trim().split("\n");
      equal(lines.length, 1, `one line: ${second.stderr}`);
      match(lines[0], new RegExp(`table ${FIREZONE_TABLE} .*pid ${first.pid}\\b`));
      ok(!lines[0].includes("Watching"));
      equal(first.exited, undefined, "the first one is untouched");

      first.kill("SIGKILL");
      await first.status;
      third = await watching(ns, FIREZONE_TABLE, env);
      const status = await statusOf(ns, FIREZONE_TABLE, env);
      equal(status.daemon?.running, true);
      equal(status.daemon?.pid, third.pid);
    } finally {
      await third?.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
);

kernelTest("watch on two tables side by side; status names each one's pid", async (ns) => {
  await firezone(ns);
  await ns.ip("route", "add", "default", "dev", "tun0", "table", OTHER_TABLE);
  const { dir, env } = await stateDir();
  try {
    const a = await watching(ns, FIREZONE_TABLE, env);
    const b = await watching(ns, OTHER_TABLE, env);
    const sa = await statusOf(ns, FIREZONE_TABLE, env);
    const sb = await statusOf(ns, OTHER_TABLE, env);
    equal(sa.daemon?.pid, a.pid);
    equal(sb.daemon?.pid, b.pid);
    deepEqual(sa.daemons.map((d: { pid: number }) => d.pid).sort(), [a.pid, b.pid].sort());
    equal(sa.tables[0].inSync, true);
    equal(sb.tables[0].inSync, true);

    // One exits cleanly: its state file goes, the other's stays and status still finds it.
    a.kill("SIGTERM");
    equal((await a.status).code, 0, a.output());
    const after = await statusOf(ns, OTHER_TABLE, env);
    equal(after.daemon?.pid, b.pid);
    equal(after.daemon?.running, true);
    equal((await statusOf(ns, FIREZONE_TABLE, env)).daemon, null);
    const files = [...Deno.readDirSync(dir)].map((e) => e.name);
    deepEqual(files, [`table-${OTHER_TABLE}.json`]);
    await b.stop();
    equal(b.exited?.code, 0, b.output());
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
