/**
 * Nothing a kernel test creates outlives it: a child `deno test` runs tests/kernel/fixtures/leaky.ts,
 * which builds two namespaces joined by a veth pair with a process in each, and then fails,
 * outlives its time limit, or is killed midway (SIGTERM, SIGINT as from Ctrl-C, SIGKILL). After
 * each, no namespace of that run, no process it started and no new host link may be left.
 */

import { skipUnless } from "../_fixtures/skip.ts";
import { deepEqual, equal, ok } from "node:assert/strict";
import { kernelTestSkipReason, NETNS_PREFIX, waitFor } from "./netns.ts";
import type { LeakReport } from "./fixtures/leaky.ts";

const FIXTURE = new URL("./fixtures/leaky.ts", import.meta.url).pathname;

async function netnsNames(): Promise<string[]> {
  const out = await new Deno.Command("ip", { args: ["netns", "list"], stdout: "piped" }).output();
  return new TextDecoder().decode(out.stdout).split("\n").map((l) => l.split(" ")[0])
    .filter(Boolean);
}

async function hostLinks(): Promise<string[]> {
  const out = await new Deno.Command("ip", { args: ["-j", "link", "show"], stdout: "piped" })
    .output();
  return (JSON.parse(new TextDecoder().decode(out.stdout)) as { ifname: string }[])
    .map((l) => l.ifname).sort();
}

/** Whether process `pid` still runs (a zombie waiting for its parent counts as gone). */
function alive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

/** Waits until no namespace of run `run` is left and processes `pids` are gone. */
async function goneAfter(run: string, pids: number[]): Promise<void> {
  await waitFor(
    async () => (await netnsNames()).every((n) => !n.startsWith(run)),
    { timeoutMs: 30_000, message: `no namespace ${run}* left` },
  );
  await waitFor(() => pids.every((pid) => !alive(pid)), {
    timeoutMs: 30_000,
    message: `processes ${pids} gone`,
  });
}

type Ending = "fail" | "timeout" | Deno.Signal;

const TEST_SCRIPT = new URL("../../scripts/test.ts", import.meta.url).pathname;

async function runFixture(
  ending: Ending,
  via: "deno test" | "deno task test" = "deno test",
): Promise<{ report: LeakReport; code: number; run: string }> {
  const dir = await Deno.makeTempDir({ prefix: "lmt-leak-" });
  const reportPath = `${dir}/report.json`;
  try {
    const child = new Deno.Command(Deno.execPath(), {
      args: via === "deno test"
        ? ["test", "--allow-all", "--no-check", FIXTURE]
        : ["run", "--allow-all", TEST_SCRIPT, FIXTURE],
      env: {
        LMT_LEAK_MODE: ending === "fail" || ending === "timeout" ? ending : "hang",
        LMT_LEAK_REPORT: reportPath,
        NO_COLOR: "1",
      },
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const output = child.output();
    const report = await waitFor(async () => {
      try {
        return JSON.parse(await Deno.readTextFile(reportPath)) as LeakReport;
      } catch {
        return null;
      }
    }, { timeoutMs: 60_000, message: "the fixture's report" });
    if (ending !== "fail" && ending !== "timeout") child.kill(ending);
    const { code } = await output;
    // The namespaces carry the pid of the process that runs the tests.
    const run = `${NETNS_PREFIX}${report.namespaces[0]?.split("-")[1]}-`;
    if (via === "deno test") equal(run, `${NETNS_PREFIX}${child.pid}-`);
    return { report, code, run };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const endings: [Ending, number][] = [
  ["fail", 1],
  ["timeout", 1],
  ["SIGTERM", 143],
  ["SIGINT", 130],
  ["SIGKILL", 137],
];

for (const [ending, expectedCode] of endings) {
  const skip = kernelTestSkipReason();
  Deno.test({
    ...skipUnless(
      `a kernel test that ends by ${ending} leaves no namespace, link or process`,
      skip,
    ),
    async fn() {
      const linksBefore = await hostLinks();
      const { report, code, run } = await runFixture(ending);
      equal(code, expectedCode, `the child deno test's exit code after ${ending}`);
      equal(report.namespaces.length, 2);
      ok(report.namespaces.every((n) => n.startsWith(run)), `${report.namespaces} are of ${run}`);
      // The fixture cleans up before it exits (fail, timeout); the reaper after (signals).
      await goneAfter(run, report.pids);
      deepEqual(await hostLinks(), linksBefore, "the host's links are unchanged");
    },
  });
}

Deno.test({
  ...skipUnless(
    "SIGTERM to `deno task test` (scripts/test.ts) reaches the tests, and nothing is left",
    kernelTestSkipReason(),
  ),
  async fn() {
    const { report, code, run } = await runFixture("SIGTERM", "deno task test");
    equal(code, 143, "scripts/test.ts ends with the signal");
    await goneAfter(run, report.pids);
  },
});
