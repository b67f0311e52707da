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

Deno.test("stdoutWantsColor is false when stdout is not a terminal (as under deno test)", () => {
  if (!Deno.stdout.isTerminal()) equal(stdoutWantsColor(), false);
  const saved = Deno.env.get("NO_COLOR");
  try {
    Deno.env.set("NO_COLOR", "1");
    equal(stdoutWantsColor(), false);
  } finally {
    if (saved === undefined) Deno.env.delete("NO_COLOR");
    else Deno.env.set("NO_COLOR", saved);
  }
});
