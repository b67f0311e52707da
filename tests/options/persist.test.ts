import { deepEqual, throws } from "node:assert/strict";
import { persistConfig, PERSISTED, restoreConfig } from "../../src/options/persist.ts";
import { resolveOptions } from "../../src/options/resolve.ts";
import { OPTIONS } from "../../src/options/table.ts";
import { DEFAULT_CONFIG } from "../_fixtures/state.ts";

Deno.test("every mirroring option of MirrorConfig is recorded, or in the state file", () => {
  const mirror = OPTIONS.filter((row) => row.group === "mirror").map((row) => row.name);
  deepEqual(PERSISTED.map((row) => row.name), mirror);
});

Deno.test("a configuration survives the state file: persist, then restore", () => {
  const values = Object.fromEntries(
    PERSISTED.map((
      row,
    ) => [row.name, row.value === undefined ? true : row.example ?? row.default!]),
  );
  const config = resolveOptions("watch", { values }, new Map()).mirror;
  const recorded = JSON.parse(JSON.stringify(persistConfig(config)));
  deepEqual(restoreConfig(recorded.tables, recorded.config), config);
  const defaults = resolveOptions("watch", { values: {} }, new Map()).mirror;
  const plain = JSON.parse(JSON.stringify(persistConfig(defaults)));
  deepEqual(plain.config, DEFAULT_CONFIG);
  deepEqual(restoreConfig(plain.tables, plain.config), defaults);
  // A state file written before --allow-prefix, --precedence and --catch-all existed: defaults.
  const { allowPrefixes: _a, precedence: _p, catchAll: _c, ...older } = plain.config;
  deepEqual(restoreConfig(plain.tables, older), defaults);
});

Deno.test("a recorded value the option would refuse names the field", () => {
  const { tables, config } = persistConfig(
    resolveOptions("watch", { values: {} }, new Map()).mirror,
  );
  throws(
    () => restoreConfig(tables, { ...config, protocol: 2 }),
    /config\.protocol: 2 belongs to the kernel/,
  );
  throws(() => restoreConfig(tables, { ...config, exclude: ["10.0.0.0/99"] }), /config\.exclude/);
  throws(
    () => restoreConfig(tables, { ...config, families: "all" }),
    /config\.families is missing/,
  );
  throws(() => restoreConfig(["x"], config), /tables is missing/);
});
