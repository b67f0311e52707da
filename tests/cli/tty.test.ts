import { equal } from "node:assert/strict";
import { alignTable, palette, stdoutWantsColor, visibleWidth } from "../../src/cli/tty.ts";

Deno.test("alignTable lines columns up, ignores colour escapes, leaves no trailing spaces", () => {
  const c = palette(true);
  equal(
    alignTable([["TABLE", "VPN", "DEV"], [c.red("539098368"), "firezone", ""], ["52", "", "ts0"]]),
    "TABLE      VPN       DEV\n" +
      "\x1b[31m539098368\x1b[0m  firezone\n" +
      "52                   ts0\n",
  );
  equal(alignTable([["a", "b"]], { indent: "  ", gap: 1 }), "  a b\n");
  equal(alignTable([]), "");
});

Deno.test("palette colours only when enabled; visibleWidth counts what shows", () => {
  equal(palette(false).green("ok"), "ok");
  equal(palette(true).green("ok"), "\x1b[32mok\x1b[0m");
  equal(palette(true).bold(""), "");
  equal(visibleWidth(palette(true).yellow("wörd")), 4);
});

Deno.test("stdoutWantsColor: colour only on a terminal, and only without a non-empty NO_COLOR", () => {
  const cases: [terminal: boolean, noColor: string | undefined, color: boolean][] = [
    [true, undefined, true],
    [true, "", true],
    [true, "1", false],
    [false, undefined, false],
    [false, "", false],
    [false, "1", false],
  ];
  for (const [terminal, noColor, color] of cases) {
    const probe = {
      isTerminal: () => terminal,
      env: (name: string) => name === "NO_COLOR" ? noColor : undefined,
    };
    equal(stdoutWantsColor(probe), color, `terminal ${terminal}, NO_COLOR ${noColor}`);
  }
  const denied = {
    isTerminal: () => true,
    env: (): string => {
      throw new Deno.errors.NotCapable("no --allow-env");
    },
  };
  equal(stdoutWantsColor(denied), false, "no permission to ask: no colour");
});
