/**
 * The files derived from the option table are what the table says: docs/options.md and
 * systemd/linkmirror.env equal what `deno task generate` writes, and every row reaches every
 * place it should (help, environment file, options page, parser) without being named there.
 */

import { equal, ok } from "node:assert/strict";
import { GENERATED } from "../../scripts/generate.ts";
import { helpText } from "../../src/cli/help.ts";
import { OPTIONS } from "../../src/options/table.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

for (const [path, generate] of Object.entries(GENERATED)) {
  Deno.test(`${path} is generated from the option table (run \`deno task generate\`)`, () => {
    equal(Deno.readTextFileSync(`${ROOT}${path}`), generate());
  });
}

Deno.test("every row is in --help of each of its commands, the env file and the options page", () => {
  const envFile = GENERATED["systemd/linkmirror.env"]();
  const page = GENERATED["docs/options.md"]();
  for (const row of OPTIONS) {
    for (const command of row.commands) {
      const help = helpText(command);
      ok(help.includes(row.flag), `${command} --help lacks ${row.flag}`);
      if (row.env) ok(help.includes(row.env), `${command} --help lacks ${row.env}`);
    }
    if (row.env) ok(envFile.includes(`\n#${row.env}=`), `env file lacks ${row.env}`);
    ok(page.includes(row.flag), `options.md lacks ${row.flag}`);
  }
});

Deno.test("help shows each default once", () => {
  for (const row of OPTIONS) {
    if (row.default === undefined) continue;
    for (const command of row.commands) {
      const lines = helpText(command).split("\n");
      const at = lines.findIndex((l) => /^ {2}(-\w, | {4})--/.test(l) && l.includes(row.flag));
      let end = at + 1;
      while (end < lines.length && /^ {10}/.test(lines[end])) end++;
      const line = lines.slice(at, end).join(" ");
      equal(line.split("default:").length, 2, `${command} ${row.flag}: ${line}`);
    }
  }
});
