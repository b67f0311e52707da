/**
 * The systemd unit and its environment file: `systemd-analyze verify` accepts the unit (with
 * ExecStart pointed at a temporary executable, since verify insists that it exists), its
 * hardening stays where `systemd-analyze security` put it, the directives the service depends on
 * are there, and /etc/default/linkmirror documents every `LINKMIRROR_*` variable the CLI reads, with
 * examples the CLI accepts and defaults that are the real ones.
 */

import { skipUnless } from "./_fixtures/skip.ts";
import { deepEqual, equal, match, ok } from "node:assert/strict";
import { type CommandContext, type Handlers, runCli } from "../src/cli/program.ts";

const REPO = new URL("..", import.meta.url).pathname;
const UNIT = `${REPO}systemd/linkmirror.service`;
const ENV_FILE = `${REPO}systemd/linkmirror.env`;

const runGranted = Deno.permissions.querySync({ name: "run" }).state === "granted";

function systemdAnalyzeVersion(): number | undefined {
  if (!runGranted) return undefined;
  try {
    const out = new Deno.Command("systemd-analyze", {
      args: ["--version"],
      stdout: "piped",
      stderr: "null",
    }).outputSync();
    const version = /^systemd (\d+)/.exec(new TextDecoder().decode(out.stdout));
    return out.success && version ? Number(version[1]) : undefined;
  } catch {
    return undefined;
  }
}
const analyzeVersion = systemdAnalyzeVersion();
const NO_ANALYZE = "systemd-analyze is missing (apt-get install systemd)";

/** The unit's `Key=Value` lines, in order (a key may repeat). */
function directives(text: string): [string, string][] {
  return text.split("\n")
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith("#") && !line.startsWith("[") && line.includes("="))
    .map((line) => {
      const at = line.indexOf("=");
      return [line.slice(0, at), line.slice(at + 1)];
    });
}

async function analyze(args: string[]): Promise<{ code: number; output: string }> {
  const out = await new Deno.Command("systemd-analyze", {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { SYSTEMD_LOG_COLOR: "0", SYSTEMD_COLORS: "0" },
    signal: AbortSignal.timeout(30_000),
  }).output();
  const d = new TextDecoder();
  return { code: out.code, output: d.decode(out.stdout) + d.decode(out.stderr) };
}

/** A copy of the unit in a temporary directory, its ExecStart pointing at a stand-in executable. */
async function unitCopy(): Promise<{ dir: string; unit: string }> {
  const dir = await Deno.makeTempDir({ prefix: "lmt-unit-" });
  const executable = `${dir}/linkmirror`;
  await Deno.writeTextFile(executable, "#!/bin/sh\nexit 0\n", { mode: 0o755 });
  await Deno.chmod(executable, 0o755);
  const text = (await Deno.readTextFile(UNIT)).replace(
    /^ExecStart=\/usr\/local\/bin\/linkmirror /m,
    `ExecStart=${executable} `,
  );
  const unit = `${dir}/linkmirror.service`;
  await Deno.writeTextFile(unit, text);
  return { dir, unit };
}

Deno.test("linkmirror.service: the directives the service depends on", () => {
  const unit = directives(Deno.readTextFileSync(UNIT));
  const get = (key: string) => unit.filter(([k]) => k === key).map(([, v]) => v);
  deepEqual(get("Type"), ["notify"]);
  deepEqual(get("ExecStart"), ["/usr/local/bin/linkmirror watch"]);
  deepEqual(get("EnvironmentFile"), ["-/etc/default/linkmirror"]);
  deepEqual(get("Restart"), ["on-failure"]);
  deepEqual(get("After"), ["network-pre.target"]);
  deepEqual(get("Wants"), ["network-pre.target"]);
  equal(get("WatchdogSec").length, 1);
  deepEqual(get("CapabilityBoundingSet"), ["CAP_NET_ADMIN"]);
  deepEqual(get("AmbientCapabilities"), ["CAP_NET_ADMIN"]);
  deepEqual(get("RestrictAddressFamilies"), ["AF_NETLINK AF_UNIX"]);
  deepEqual(get("RuntimeDirectory"), ["linkmirror"]);
  for (const key of ["NoNewPrivileges", "ProtectHome", "PrivateTmp", "DynamicUser"]) {
    deepEqual(get(key), ["yes"], key);
  }
  deepEqual(get("ProtectSystem"), ["strict"]);
  deepEqual(get("SystemCallArchitectures"), ["native"]);
  // V8's JIT needs writable and executable memory: this would kill the daemon at start.
  deepEqual(get("MemoryDenyWriteExecute"), []);
  // The routes to change are the host's: no network or user namespace of its own.
  deepEqual(get("PrivateNetwork"), []);
  deepEqual(get("PrivateUsers"), []);
  deepEqual(get("WantedBy"), ["multi-user.target"]);
});

Deno.test({
  ...skipUnless(
    "linkmirror.service passes systemd-analyze verify",
    analyzeVersion === undefined ? NO_ANALYZE : null,
  ),
  async fn() {
    const { dir, unit } = await unitCopy();
    try {
      const result = await analyze(["verify", "--man=no", unit]);
      equal(result.code, 0, result.output);
      // verify also reports problems of other units it loads (the host's targets); ours must
      // have none, not even a warning.
      const ours = result.output.split("\n").filter((line) => line.includes("linkmirror"));
      deepEqual(ours, [], result.output);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  // --offline (a unit file instead of a loaded unit) arrived in systemd 250.
  ...skipUnless(
    "linkmirror.service: systemd-analyze security rates its exposure 1.5 or lower",
    analyzeVersion === undefined
      ? NO_ANALYZE
      : analyzeVersion < 250
      ? `systemd-analyze ${analyzeVersion} has no --offline (250 or later)`
      : null,
  ),
  async fn() {
    const { dir, unit } = await unitCopy();
    try {
      const result = await analyze(["security", "--offline=true", "--no-pager", unit]);
      const score = /Overall exposure level for linkmirror\.service: ([0-9.]+)/.exec(result.output);
      ok(score, result.output);
      ok(Number(score[1]) <= 1.5, `exposure ${score[1]} > 1.5:\n${result.output}`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

/**
 * The `LINKMIRROR_*` variables the CLI reads, from the `(env: …)` notes of every `--help` (which
 * commander may wrap across lines).
 */
async function cliEnvironmentVariables(): Promise<Set<string>> {
  let text = "";
  const handlers = new Proxy({}, { get: () => () => Promise.resolve(0) }) as Handlers;
  const help = async (args: string[]) => {
    let out = "";
    await runCli(args, {
      handlers,
      print: (t) => out += t,
      printError: (t) => out += t,
      configureLogging: false,
      tableNames: new Map(),
    });
    return out;
  };
  const top = await help(["--help"]);
  text += top;
  const commands = [...(top.split(/^Commands:$/m)[1] ?? "").matchAll(/^ {2}([a-z][\w-]*)/gm)]
    .map((m) => m[1])
    .filter((name) => name !== "help");
  ok(commands.includes("watch"), top);
  for (const command of commands) text += await help([command, "--help"]);
  return new Set([...text.matchAll(/env:\s+(LINKMIRROR_[A-Z0-9_]+)/g)].map((m) => m[1]));
}

/** The `#LINKMIRROR_X=value` examples of the environment file, quotes removed as systemd does. */
function envFileExamples(): Map<string, string> {
  const examples = new Map<string, string>();
  for (const line of Deno.readTextFileSync(ENV_FILE).split("\n")) {
    const m = /^#(LINKMIRROR_[A-Z0-9_]+)=(.*)$/.exec(line);
    if (m) examples.set(m[1], m[2].replace(/^"(.*)"$/, "$1"));
  }
  return examples;
}

Deno.test("linkmirror.env documents every LINKMIRROR_* variable the CLI reads", async () => {
  const documented = [...envFileExamples().keys()].sort();
  deepEqual(documented, [...await cliEnvironmentVariables()].sort());
  // Nothing is set by default: every setting is a commented-out example.
  const active = Deno.readTextFileSync(ENV_FILE).split("\n").filter((l) => /^\s*[A-Z]/.test(l));
  deepEqual(active, []);
});

Deno.test("linkmirror.env: every example is accepted, and those shown as defaults are", async () => {
  const captured: unknown[] = [];
  const handlers = new Proxy({}, {
    get: () => (ctx: CommandContext, opts?: unknown) => {
      captured.push({ config: ctx.config, opts });
      return Promise.resolve(0);
    },
  }) as Handlers;
  const watch = async (env: Map<string, string>) => {
    for (const [key, value] of env) Deno.env.set(key, value);
    try {
      let errors = "";
      const code = await runCli(["watch"], {
        handlers,
        print: () => {},
        printError: (t) => errors += t,
        configureLogging: false,
        tableNames: new Map([["main", 254]]),
      });
      equal(code, 0, errors);
      return captured.pop() as { config: Record<string, unknown>; opts: Record<string, unknown> };
    } finally {
      for (const key of env.keys()) Deno.env.delete(key);
    }
  };
  const examples = envFileExamples();
  const plain = await watch(new Map());
  const all = await watch(examples);
  // Examples that differ from the defaults on purpose: lists that are empty by default, and
  // the switch that is off.
  // Boolean switches are on whenever their variable is set at all.
  const notDefaults = [
    "LINKMIRROR_EXCLUDE",
    "LINKMIRROR_EXCLUDE_DEV",
    "LINKMIRROR_ALLOW_PREFIX",
    // The default set, given explicitly: the same copies, but a configured list.
    "LINKMIRROR_CATCH_ALL",
    ...[...examples.keys()].filter((key) => examples.get(key) === "1"),
  ];
  const defaults = await watch(
    new Map([...examples].filter(([key]) => !notDefaults.includes(key))),
  );
  deepEqual(defaults, plain);
  equal(all.opts.flushOnExit, true);
  deepEqual(all.config.excludeDevices, ["docker0"]);
  equal((all.config.exclude as unknown[]).length, 2);
  match(JSON.stringify(all.config.tables), /539098368/);
});
