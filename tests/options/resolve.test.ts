import { deepEqual, equal, throws } from "node:assert/strict";
import { type RawValue, resolveOptions } from "../../src/options/resolve.ts";
import { parseIntOption, splitList, UsageError } from "../../src/options/values.ts";

const names = new Map([["firezone", 539098368], ["main", 254], ["lab", 100]]);

/** The mirroring configuration from raw values keyed by option name, as `sync` resolves it. */
function resolveMirrorConfig(values: Record<string, RawValue>, names: ReadonlyMap<string, number>) {
  return resolveOptions("sync", { values }, names).mirror;
}

Deno.test("defaults: table 539098368, source main, protocol 77, both families", () => {
  deepEqual(resolveMirrorConfig({}, names), {
    tables: [539098368],
    source: 254,
    protocol: 77,
    families: [2, 10],
    exclude: [],
    excludeDevices: [],
  });
});

Deno.test("tables resolve by id and name, repeated and comma-separated, deduplicated", () => {
  const config = resolveMirrorConfig({ table: ["firezone", "51820,lab", "539098368"] }, names);
  deepEqual(config.tables, [539098368, 51820, 100]);
});

Deno.test("reserved tables and the source as a target are refused with the option named", () => {
  for (const t of ["0", "253", "254", "255", "main", "local"]) {
    throws(
      () => resolveMirrorConfig({ table: [t] }, names),
      (e: Error) => e instanceof UsageError && e.message.startsWith("--table:"),
    );
  }
  throws(
    () => resolveMirrorConfig({ table: ["100"], source: "lab" }, names),
    /--table: table 100 is the source table/,
  );
  throws(
    () => resolveMirrorConfig({ table: ["nosuch"] }, names),
    /--table: unknown table "nosuch"/,
  );
  throws(() => resolveMirrorConfig({ source: "local" }, names), /--source/);
});

Deno.test("protocol, family, exclude and exclude-dev are validated", () => {
  throws(() => resolveMirrorConfig({ protocol: "256" }, names), /--protocol: 256 is not between/);
  throws(
    () => resolveMirrorConfig({ protocol: "2" }, names),
    /--protocol: 2 belongs to the kernel/,
  );
  throws(() => resolveMirrorConfig({ protocol: "x" }, names), /--protocol: "x" is not a whole/);
  throws(() => resolveMirrorConfig({ family: "ipx" }, names), /--family/);
  throws(() => resolveMirrorConfig({ exclude: ["10.0.0.0/33"] }, names), /--exclude:/);
  throws(() => resolveMirrorConfig({ exclude: ["banana"] }, names), /--exclude:/);
  throws(() => resolveMirrorConfig({ excludeDev: ["a/b"] }, names), /--exclude-dev/);
  const config = resolveMirrorConfig(
    { protocol: "200", family: "inet6", exclude: ["10.0.0.0/8,fd00::/8"], excludeDev: ["docker0"] },
    names,
  );
  equal(config.protocol, 200);
  deepEqual(config.families, [10]);
  deepEqual(config.exclude.map((c) => `${c.address}/${c.prefixLen}`), ["10.0.0.0/8", "fd00::/8"]);
  deepEqual(config.excludeDevices, ["docker0"]);
});

Deno.test("splitList and parseIntOption", () => {
  deepEqual(splitList(["a,b", " c  d ", ""]), ["a", "b", "c", "d"]);
  deepEqual(splitList(undefined), []);
  equal(parseIntOption("--coalesce", "50", 0, 100), 50);
  throws(() => parseIntOption("--coalesce", "-1", 0, 100), /--coalesce/);
  throws(() => parseIntOption("--coalesce", "1.5", 0, 100), /--coalesce/);
});
