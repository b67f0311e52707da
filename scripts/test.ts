/**
 * `deno task test`: the whole suite, with what a newcomer needs around it.
 *
 * 1. Before running anything, it checks the tools the tests call and stops with one line naming
 *    what is missing and the command that installs it (`ping` is needed only as root, where the
 *    kernel tests run).
 * 2. It runs `deno test --allow-all --parallel` on `tests/` (or on the paths given), with the usual
 *    output, and a JUnit report on the side.
 * 3. From that report it prints `N passed, N failed` and, on the next line, how many tests were
 *    skipped and why, followed by one line per skipped test. A test states its reason in its name
 *    (tests/_fixtures/skip.ts).
 *
 * With `--ci` (what .ci/run passes) a skipped test is a failure: CI runs as root on a machine with
 * every tool, where nothing has a reason to skip. `--ci` also runs, first and on its own (it runs
 * the whole suite inside), tests/readme/setup_commands.ts: the README's two set-up commands on a
 * fresh copy in a throwaway root; its result counts in the summary.
 *
 * Exit status: that of `deno test`; 1 when a tool is missing, or with `--ci` when a test skipped.
 *
 * @module
 */

import { SKIP_MARKER } from "../tests/_fixtures/skip.ts";

/** A tool the tests call, the Debian package that has it, and whether only root needs it. */
interface Tool {
  command: string;
  pkg: string;
  rootOnly: boolean;
}

/** The tools the suite calls besides Deno. */
export const TOOLS: readonly Tool[] = [
  { command: "ip", pkg: "iproute2", rootOnly: false },
  { command: "systemd-analyze", pkg: "systemd", rootOnly: false },
  { command: "ping", pkg: "iputils-ping", rootOnly: true },
];

/** The README's set-up commands run on a fresh copy (part of `--ci`). */
const README_TEST = "tests/readme/setup_commands.ts";

/** The command that installs the tools, as shown to the user. */
export const INSTALL_TOOLS = "sudo sh scripts/deps.sh --test";

function onPath(command: string): boolean {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    try {
      if (dir && Deno.statSync(`${dir}/${command}`).isFile) return true;
    } catch {
      // Not here.
    }
  }
  return false;
}

/** The line that names what is missing (for `root` or not), or null when nothing is. */
export function missingToolsLine(
  root: boolean,
  has: (command: string) => boolean = onPath,
): string | null {
  const missing = TOOLS.filter((t) => (root || !t.rootOnly) && !has(t.command));
  if (missing.length === 0) return null;
  const names = missing.map((t) => `${t.command} (${t.pkg})`).join(", ");
  return `deno task test: missing ${names}; install with: ${INSTALL_TOOLS}`;
}

/** One test case of the JUnit report. */
export interface TestCase {
  /** The test module, e.g. `./tests/kernel/sync.test.ts`. */
  file: string;
  /** The test's name. */
  name: string;
  /** What happened to it. */
  outcome: "passed" | "failed" | "skipped";
}

function unescape(text: string): string {
  return text.replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}

/** The test cases of a JUnit report written by `deno test --junit-path` (steps not counted). */
export function parseJunit(xml: string): TestCase[] {
  const cases: TestCase[] = [];
  const re = /<testcase name="([^"]*)" classname="([^"]*)"[^>]*?(\/>|>([\s\S]*?)<\/testcase>)/g;
  for (const m of xml.matchAll(re)) {
    const body = m[4] ?? "";
    const outcome = /<skipped/.test(body)
      ? "skipped"
      : /<(failure|error)/.test(body)
      ? "failed"
      : "passed";
    cases.push({ file: unescape(m[2]), name: unescape(m[1]), outcome });
  }
  return cases;
}

/** The reason a skipped test gives in its name, or a note that it gives none. */
export function skipReason(name: string): string {
  const at = name.lastIndexOf(SKIP_MARKER);
  return at < 0 || !name.endsWith(")")
    ? "no reason given"
    : name.slice(at + SKIP_MARKER.length, -1);
}

/**
 * The summary: `N passed, N failed`, then (when something skipped) `N skipped: REASON (COUNT),
 * ...` and one indented line per skipped test.
 */
export function summary(cases: readonly TestCase[]): string[] {
  const count = (o: TestCase["outcome"]) => cases.filter((c) => c.outcome === o).length;
  const lines = [`${count("passed")} passed, ${count("failed")} failed`];
  const skipped = cases.filter((c) => c.outcome === "skipped");
  if (skipped.length === 0) {
    lines.push("0 skipped");
    return lines;
  }
  const reasons = new Map<string, number>();
  for (const c of skipped) {
    const reason = skipReason(c.name);
    reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
  }
  lines.push(
    `${skipped.length} skipped: ` +
      [...reasons].map(([reason, n]) => `${reason} (${n})`).join(", "),
  );
  if (reasons.has("needs root")) {
    lines.push("  (sudo deno task test runs the tests that need root)");
  }
  for (const c of skipped) lines.push(`  skipped: ${c.name}`);
  return lines;
}

/**
 * Waits for `child`, passing SIGINT and SIGTERM on to it (a Ctrl-C reaches it through the
 * terminal anyway; a SIGTERM sent to this process alone would otherwise leave it running).
 * Returns the child's status and the signal that interrupted the run, if one did.
 */
async function withSignalsForwarded(
  child: Deno.ChildProcess,
): Promise<{ status: Deno.CommandStatus; interrupted?: Deno.Signal }> {
  let received: Deno.Signal | undefined;
  const forward = (signal: Deno.Signal) => () => {
    received = signal;
    try {
      child.kill(signal);
    } catch {
      // It has exited.
    }
  };
  const handlers = (["SIGINT", "SIGTERM"] as const).map((s) => [s, forward(s)] as const);
  for (const [signal, handler] of handlers) Deno.addSignalListener(signal, handler);
  try {
    const status = await child.status;
    return { status, interrupted: received };
  } finally {
    for (const [signal, handler] of handlers) Deno.removeSignalListener(signal, handler);
  }
}

async function main(args: string[]): Promise<number> {
  const ci = args.includes("--ci");
  const paths = args.filter((a) => a !== "--ci");
  const missing = missingToolsLine(Deno.uid() === 0);
  if (missing) {
    console.error(missing);
    return 1;
  }
  const junit = await Deno.makeTempFile({ prefix: "linkmirror-test-", suffix: ".xml" });
  const readmeJunit = await Deno.makeTempFile({ prefix: "linkmirror-readme-", suffix: ".xml" });
  try {
    let code = 0;
    const runs: [string[], string][] = [];
    if (ci && paths.length === 0) runs.push([[README_TEST], readmeJunit]);
    runs.push([paths.length ? paths : ["tests/"], junit]);
    const cases: TestCase[] = [];
    for (const [targets, report] of runs) {
      const child = new Deno.Command(Deno.execPath(), {
        args: ["test", "--allow-all", "--parallel", `--junit-path=${report}`, ...targets],
        stdin: "null",
      }).spawn();
      const { status: run, interrupted } = await withSignalsForwarded(child);
      if (interrupted) return interrupted === "SIGINT" ? 130 : 143;
      code ||= run.code;
      const found = parseJunit(await Deno.readTextFile(report).catch(() => ""));
      // No report: the run broke before the tests (type errors, a crash). One failure.
      if (found.length === 0 && run.code !== 0) {
        found.push({ file: targets.join(" "), name: "did not run", outcome: "failed" });
      }
      cases.push(...found);
    }
    const lines = summary(cases);
    console.log(lines.join("\n"));
    if (code === 0 && cases.some((c) => c.outcome === "failed")) code = 1;
    if (ci && cases.some((c) => c.outcome === "skipped")) {
      console.log("--ci: a skipped test is a failure here (CI runs as root with every tool)");
      code = 1;
    }
    return code;
  } finally {
    await Deno.remove(junit).catch(() => {});
    await Deno.remove(readmeJunit).catch(() => {});
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
