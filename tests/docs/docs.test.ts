/**
 * The documentation cannot drift from the code: every command and option shown in README.md and
 * docs/*.md (any page added later included) is checked against what the program accepts.
 *
 * - `linkmirror CMD --opt` (shell lines, `deno run ... main.ts` lines and inline code): CMD is a
 *   command and each option one that `linkmirror CMD --help` lists.
 * - Every `--option` in inline code belongs to linkmirror or install.sh, or to another tool
 *   listed in {@linkcode OTHER_TOOLS_OPTIONS} with the tool's name.
 * - `./install.sh` lines use install.sh's options; `deno task X` names a task of deno.json;
 *   `deno run FILE` names a file of the repository.
 * - Every `LINKMIRROR_*` variable is one the CLI reads (its help names it).
 * - Every other program of a shell line is listed in {@linkcode EXEMPT} with the reason it is not
 *   run; `ip` lines are run in tests/kernel/docs_run.test.ts, `linkmirror` lines too.
 * - No inline code is wrapped across lines (it would paste with a space inside); relative links
 *   lead to files that exist.
 */

import { deepEqual } from "node:assert/strict";
import {
  docFiles,
  inlineSpans,
  linkmirrorArgs,
  relativeLinks,
  setupLines,
  shellCommands,
  wrappedSpans,
} from "./doc_commands.ts";

const REPO = new URL("../..", import.meta.url).pathname;
const files = docFiles(REPO);
const texts = new Map(files.map((f) => [f, Deno.readTextFileSync(`${REPO}${f}`)]));
const commands = files.flatMap((f) => shellCommands(f, texts.get(f)!));
const spans = files.flatMap((f) => inlineSpans(f, texts.get(f)!));

/**
 * Programs of documented shell lines that no test runs, and why. Anything else must be checked:
 * a new program in the docs fails this test until it is checked or listed here.
 */
export const EXEMPT: Record<string, string> = {
  systemctl: "talks to the host's systemd (tests/systemd_unit.test.ts checks the unit)",
  journalctl: "reads the host's journal",
  sudoedit: "opens an editor",
  jq: "formats the output of the command before it in the pipe",
  head: "shortens the output of the command before it in the pipe",
  apt: "installs a package on the host (tests/install.test.ts checks the package)",
  perf: "profiles on the host (the recipe of docs/development.md)",
  printf: "writes the profiling wrapper of docs/development.md",
  chmod: "makes the profiling wrapper executable",
  set: "shell built-in of a sourcing line (`set -a; . /etc/default/linkmirror`)",
  ".": "shell built-in: sources /etc/default/linkmirror (tests/systemd_unit.test.ts checks it)",
};

/** Options of other tools that the docs show in inline code, by tool. */
export const OTHER_TOOLS_OPTIONS: Record<string, string[]> = {
  "deno (permissions and flags)": [
    "--allow-ffi",
    "--allow-env",
    "--allow-read",
    "--allow-write",
    "--no-config",
    "--no-code-cache",
    "--conditions",
    "--cpu-prof-interval",
  ],
  "V8": [
    "--max-semi-space-size",
    "--min-semi-space-size",
    "--optimize-for-size",
    "--perf-basic-prof",
    "--trace-gc",
    "--no-turbofan",
    "--no-enable-lazy-source-positions",
    "--no-lazy",
    "--no-lazy-feedback-allocation",
  ],
  "ip": ["-j", "-n", "-g", "-batch", "-6"],
  "jq": ["-rR", "-r"],
  "journalctl": ["-u", "-o", "-f"],
  "grep": ["-E"],
  "useradd and friends": ["-u"],
  "bench/main.ts (deno task bench)": [
    "--only",
    "--bin",
    "--bin-b",
    "--src",
    "--src-b",
    "--judge-b",
    "--quick",
    "--no-install",
    "--json-out",
  ],
  "bench/cpuprofile.ts": ["--filter", "--top"],
  "bench/alloc_probe.ts": ["--apply"],
  "scripts/stress.ts and scripts/fuzz.ts": ["--cycles", "--seed", "--replay", "--inputs"],
  "scripts/test.ts (deno task test)": ["--ci"],
  "scripts/deps.sh": ["--test"],
};

async function run(args: string[]): Promise<{ code: number; out: string }> {
  const out = await new Deno.Command(args[0], {
    args: args.slice(1),
    cwd: REPO,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  return { code: out.code, out: text };
}

/** The options a help text lists (`-t, --table <id>` → `-t`, `--table`). */
function helpOptions(help: string): Set<string> {
  const options = new Set<string>();
  for (const line of help.split("\n")) {
    if (!/^\s+-/.test(line)) continue;
    const head = line.trim().split(/\s{2,}/)[0];
    for (const m of head.matchAll(/(?:^|[\s,])(--?[A-Za-z][\w-]*)/g)) options.add(m[1]);
  }
  return options;
}

const helps = new Map<string, Promise<{ code: number; out: string }>>();
function linkmirrorHelp(command: string | null): Promise<{ code: number; out: string }> {
  const key = command ?? "";
  if (!helps.has(key)) {
    helps.set(
      key,
      run([Deno.execPath(), "run", "-A", "main.ts", ...(command ? [command] : []), "--help"]),
    );
  }
  return helps.get(key)!;
}

/** What is wrong with one documented `linkmirror ARGS`, or null. */
async function checkLinkmirror(args: string[]): Promise<string | null> {
  const global = helpOptions((await linkmirrorHelp(null)).out);
  // A placeholder (`linkmirror COMMAND --help`) stands for any command: global options only.
  const command = args.find((a) => !a.startsWith("-") && !/^[A-Z][A-Z_]*$/.test(a));
  const options = args.filter((a) => a.startsWith("-")).map((a) => a.split("=")[0]);
  if (command === undefined) {
    const unknown = options.filter((o) => !global.has(o));
    return unknown.length ? `unknown option(s) ${unknown.join(" ")}` : null;
  }
  const help = await linkmirrorHelp(command);
  if (help.code !== 0 || !help.out.includes(`Usage: linkmirror ${command}`)) {
    return `no command "${command}"`;
  }
  const known = new Set([...global, ...helpOptions(help.out)]);
  const unknown = options.filter((o) => !known.has(o));
  return unknown.length ? `${command} has no ${unknown.join(", ")}` : null;
}

/** `linkmirror ...` invocations in shell lines and inline code, with where they are. */
function linkmirrorUses(): { where: string; args: string[] }[] {
  const uses: { where: string; args: string[] }[] = [];
  for (const c of commands) {
    const args = linkmirrorArgs(c.argv);
    if (args) uses.push({ where: `${c.file}:${c.line}: ${c.text.split("\n")[0]}`, args });
  }
  for (const s of spans) {
    if (!/^linkmirror( |$)/.test(s.code)) continue;
    const args = linkmirrorArgs(s.code.split(/\s+/));
    if (args) uses.push({ where: `${s.file}:${s.line}: \`${s.code}\``, args });
  }
  return uses;
}

Deno.test("docs: every linkmirror command line names a command and options it has", async () => {
  const uses = linkmirrorUses();
  const problems: string[] = [];
  for (const use of uses) {
    const problem = await checkLinkmirror(use.args);
    if (problem) problems.push(`${use.where}: ${problem}`);
  }
  deepEqual(problems, []);
  // The check can fail, and sees the commands of the README's reference pages.
  deepEqual(await checkLinkmirror(["sync", "--no-such-option"]), "sync has no --no-such-option");
  deepEqual(await checkLinkmirror(["detect", "--table", "1"]), "detect has no --table");
  deepEqual(await checkLinkmirror(["no-such-command"]), 'no command "no-such-command"');
  const shown = new Set(uses.map((u) => u.args.find((a) => !a.startsWith("-"))));
  for (const command of ["sync", "plan", "flush", "watch", "detect", "status", "explain"]) {
    deepEqual(shown.has(command), true, `the docs show linkmirror ${command}`);
  }
});

Deno.test("docs: every --option in inline code belongs to linkmirror, install.sh or a named tool", async () => {
  const known = new Set<string>(Object.values(OTHER_TOOLS_OPTIONS).flat());
  for (const command of [null, "sync", "plan", "flush", "watch", "detect", "status", "explain"]) {
    for (const o of helpOptions((await linkmirrorHelp(command)).out)) known.add(o);
  }
  for (const o of helpOptions((await run(["sh", "install.sh", "--help"])).out)) known.add(o);
  const problems: string[] = [];
  for (const s of spans) {
    for (const m of s.code.matchAll(/(?:^|[\s[(|,=])(--?[A-Za-z][\w-]*)(?![\w…-])/g)) {
      const option = m[1];
      if (!known.has(option)) problems.push(`${s.file}:${s.line}: \`${s.code}\`: ${option}`);
    }
  }
  deepEqual(problems, []);
});

Deno.test("docs: install.sh lines use install.sh's options", async () => {
  const options = helpOptions((await run(["sh", "install.sh", "--help"])).out);
  const problems: string[] = [];
  for (const c of commands) {
    const at = c.argv.findIndex((w) => w === "./install.sh" || w === "install.sh");
    if (at < 0) continue;
    for (const o of c.argv.slice(at + 1).filter((w) => w.startsWith("-"))) {
      if (!options.has(o.split("=")[0])) problems.push(`${c.file}:${c.line}: ${o}`);
    }
  }
  deepEqual(problems, []);
});

Deno.test("docs: deno task and deno run lines name tasks and files that exist", () => {
  const tasks = Object.keys(JSON.parse(Deno.readTextFileSync(`${REPO}deno.json`)).tasks);
  const problems: string[] = [];
  for (const c of commands) {
    if (c.argv[0] !== "deno") continue;
    if (c.argv[1] === "task") {
      if (!tasks.includes(c.argv[2])) problems.push(`${c.file}:${c.line}: no task ${c.argv[2]}`);
    } else if (c.argv[1] === "run") {
      const file = c.argv.slice(2).find((w) => !w.startsWith("-"));
      try {
        Deno.statSync(`${REPO}${file}`);
      } catch {
        problems.push(`${c.file}:${c.line}: no file ${file}`);
      }
    } else {
      problems.push(`${c.file}:${c.line}: deno ${c.argv[1]} is not checked`);
    }
  }
  deepEqual(problems, []);
});

Deno.test("docs: every program of a shell line is checked, or exempt with a reason", () => {
  const checked = (argv: string[]) =>
    linkmirrorArgs(argv) !== null || argv[0] === "deno" || argv[0] === "ip" ||
    /(^|\/)install\.sh$/.test(argv[0]) || (argv[0] === "sh" && /install\.sh$/.test(argv[1]));
  const problems = commands
    .filter((c) => !checked(c.argv) && !(c.argv[0] in EXEMPT))
    .map((c) => `${c.file}:${c.line}: ${c.argv[0]} (in: ${c.text.split("\n")[0]})`);
  deepEqual(problems, []);
});

Deno.test("docs: every LINKMIRROR_* variable is one the CLI reads", async () => {
  const known = new Set<string>();
  for (const command of [null, "sync", "plan", "flush", "watch", "detect", "status", "explain"]) {
    for (const m of (await linkmirrorHelp(command)).out.matchAll(/LINKMIRROR_[A-Z_]+/g)) {
      known.add(m[0]);
    }
  }
  const problems: string[] = [];
  for (const f of files) {
    texts.get(f)!.split("\n").forEach((line, i) => {
      for (const m of line.matchAll(/LINKMIRROR_[A-Z_]+/g)) {
        if (!known.has(m[0])) problems.push(`${f}:${i + 1}: ${m[0]}`);
      }
    });
  }
  deepEqual(problems, []);
});

Deno.test("docs: no inline code is wrapped across lines", () => {
  const problems = files.flatMap((f) => wrappedSpans(texts.get(f)!).map((l) => `${f}:${l}`));
  deepEqual(problems, []);
});

Deno.test("docs: relative links lead to files that exist", () => {
  const problems: string[] = [];
  for (const f of files) {
    const dir = f.includes("/") ? f.slice(0, f.lastIndexOf("/") + 1) : "";
    for (const [line, target] of relativeLinks(texts.get(f)!)) {
      try {
        Deno.statSync(`${REPO}${dir}${target}`);
      } catch {
        problems.push(`${f}:${line}: ${target}`);
      }
    }
  }
  deepEqual(problems, []);
});

Deno.test("README: the Set up section shows exactly two commands: install, then the tests", () => {
  deepEqual(setupLines(texts.get("README.md")!), ["sudo ./install.sh", "sudo deno task test"]);
  // The first screen: they come before line 40.
  const at = texts.get("README.md")!.split("\n").findIndex((l) =>
    l.startsWith("sudo ./install.sh")
  );
  deepEqual(at >= 0 && at < 40, true, `the install line is line ${at + 1}`);
});
