/**
 * Every row of the option table, through the whole command line: from its flag and from its
 * variable with the same result, and refused (exit 2, one line naming it) when empty. Table-driven:
 * a new row is tested without a new line here.
 */

import { deepEqual, equal, match, notDeepEqual } from "node:assert/strict";
import { type CommandContext, type Handlers, runCli } from "../../src/cli/program.ts";
import { type CommandName, type OptionRow, OPTIONS } from "../../src/options/table.ts";

interface Run {
  code: number;
  err: string;
  got?: { config: unknown; state: unknown; opts: unknown };
}

async function run(args: string[], env: Record<string, string> = {}): Promise<Run> {
  let got: Run["got"];
  const handlers = new Proxy({}, {
    get: () => (ctx: CommandContext, opts?: unknown) => {
      got = { config: ctx.config, state: ctx.state, opts };
      return Promise.resolve(0);
    },
  }) as Handlers;
  const saved = Object.keys(env).map((k) => [k, Deno.env.get(k)] as const);
  for (const [k, v] of Object.entries(env)) Deno.env.set(k, v);
  let err = "";
  try {
    const code = await runCli(args, {
      handlers,
      print: () => {},
      printError: (t) => err += t,
      tableNames: new Map([["firezone", 539098368]]),
      configureLogging: false,
    });
    return { code, err, got };
  } finally {
    for (const [k, v] of saved) v === undefined ? Deno.env.delete(k) : Deno.env.set(k, v);
  }
}

/** The command line of `command` with `extra` options (explain needs its address). */
const line = (command: CommandName, extra: string[] = []) =>
  command === "explain" ? [command, "192.0.2.1", ...extra] : [command, ...extra];

/** A value the row accepts: its example, else its default. */
const sample = (row: OptionRow) => row.example ?? row.default ?? "";

for (const row of OPTIONS) {
  Deno.test(`${row.flag}: the flag and ${row.env ?? "(no variable)"} give the same`, async () => {
    for (const command of row.commands) {
      const flag = row.value === undefined ? [row.flag] : [row.flag, sample(row)];
      const byFlag = await run(line(command, flag));
      equal(byFlag.code, 0, `${command} ${flag.join(" ")}: ${byFlag.err}`);
      if (row.env) {
        const text = row.value === undefined ? "1" : sample(row);
        const byEnv = await run(line(command), { [row.env]: text });
        equal(byEnv.code, 0, `${command} ${row.env}=${text}: ${byEnv.err}`);
        deepEqual(byEnv.got, byFlag.got, `${command}: ${row.flag} vs ${row.env}`);
      }
      const plain = await run(line(command));
      const isDefault = row.value !== undefined && sample(row) === row.default;
      const unseen = row.group === "log"; // the logging set-up reaches no handler
      if (!isDefault && !unseen) notDeepEqual(byFlag.got, plain.got, `${command} ${row.flag}`);
    }
  });

  Deno.test(`${row.flag}: an empty value exits 2 with one line naming it`, async () => {
    const command = row.commands[0];
    const cases: [string[], Record<string, string>, string][] = [];
    if (row.value !== undefined) {
      cases.push([line(command, [row.flag, ""]), {}, row.flag]);
      cases.push([line(command, [`${row.flag}=`]), {}, row.flag]);
      if (row.short) cases.push([line(command, [row.short, " "]), {}, row.flag]);
    }
    if (row.env) cases.push([line(command), { [row.env]: "" }, row.env]);
    for (const [args, env, named] of cases) {
      const r = await run(args, env);
      const what = `${args.join(" ")} ${JSON.stringify(env)}`;
      equal(r.code, 2, what);
      equal(r.got, undefined, what);
      equal(r.err.trim().split("\n").length, 1, r.err);
      match(r.err, new RegExp(`^linkmirror: ${named}: `), what);
    }
  });
}

Deno.test("one style for every usage error: `linkmirror: <what>`, one line, exit 2", async () => {
  for (
    const [args, expected] of [
      [["sync", "--bogus"], /^linkmirror: unknown option --bogus\n$/],
      [["sync", "-q"], /^linkmirror: unknown option -q\n$/],
      [["nosuch"], /^linkmirror: unknown command nosuch /],
      [[], /^linkmirror: no command given/],
      [["sync", "--coalesce", "5"], /^linkmirror: --coalesce: not an option of sync\n$/],
      [["sync", "--json=1"], /^linkmirror: --json: takes no value\n$/],
      [["sync", "--no-exclude"], /^linkmirror: unknown option --no-exclude\n$/],
      [["sync", "extra"], /^linkmirror: unexpected argument extra\n$/],
      [["explain"], /^linkmirror: explain needs an ADDRESS\n$/],
      [["sync", "--table"], /^linkmirror: --table: needs a value/],
      [["sync", "-t", "nosuch"], /^linkmirror: --table: unknown table "nosuch"/],
      [["sync", "--log-level", "loud"], /^linkmirror: --log-level: "loud" is not debug, info/],
    ] as [string[], RegExp][]
  ) {
    const r = await run(args);
    equal(r.code, 2, args.join(" "));
    match(r.err, expected, args.join(" "));
  }
  const env = await run(["sync"], { LINKMIRROR_PROTOCOL: "3" });
  match(env.err, /^linkmirror: LINKMIRROR_PROTOCOL: 3 belongs to the kernel/);
});

Deno.test("flags may come before the command, short ones glued to their value", async () => {
  const r = await run([
    "--log-level",
    "warn",
    "-t51820",
    "sync",
    "-tfirezone",
    "--exclude=10.0.0.0/8",
  ]);
  equal(r.code, 0, r.err);
  const config = r.got!.config as { tables: number[]; exclude: unknown[] };
  deepEqual(config.tables, [51820, 539098368]);
  equal(config.exclude.length, 1);
});

Deno.test("a value starting with a dash is the option's value, not another option", async () => {
  for (const args of [["sync", "--table", "-1"], ["sync", "-t", "-1"], ["sync", "-p", "-5"]]) {
    const got = await run(args);
    equal(got.code, 2, args.join(" "));
    const flag = args[1] === "-p" ? "--protocol" : "--table";
    match(got.err, new RegExp(`^linkmirror: ${flag}: `), `${args.join(" ")}: ${got.err}`);
  }
  const missing = await run(["sync", "--table"]);
  equal(missing.code, 2);
  match(missing.err, /^linkmirror: --table: needs a value/);
});
