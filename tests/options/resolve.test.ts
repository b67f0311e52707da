import { deepEqual, equal, throws } from "node:assert/strict";
import { type RawValue, resolveOptions } from "../../src/options/resolve.ts";
import { parseIntOption, splitList, UsageError } from "../../src/options/values.ts";

const names = new Map([["firezone", 539098368], ["main", 254], ["lab", 100]]);

/** The mirroring configuration from raw values keyed by option name, as `sync` resolves it. */
function resolveMirrorConfig(values: Record<string, RawValue>, names: ReadonlyMap<string, number>) {
  return resolveOptions("sync", { values }, names).mirror;
}

Deno.test("defaults: table 539098368, source main, protocol 77, both families, precedence vpn", () => {
  deepEqual(resolveMirrorConfig({}, names), {
    tables: [539098368],
    source: 254,
    protocol: 77,
    families: [2, 10],
    exclude: [],
    excludeDevices: [],
    precedence: "vpn",
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

Deno.test("allow-prefix, precedence and catch-all are validated; defaults: none, vpn, absent", () => {
  const plain = resolveMirrorConfig({}, names);
  equal(plain.allowPrefixes, undefined);
  equal(plain.precedence, "vpn");
  equal(plain.catchAll, undefined);
  throws(() => resolveMirrorConfig({ allowPrefix: ["10.0.0.1/8"] }, names), /--allow-prefix:/);
  throws(() => resolveMirrorConfig({ catchAll: ["nope"] }, names), /--catch-all:/);
  throws(() => resolveMirrorConfig({ precedence: "both" }, names), /--precedence: "both"/);
  const config = resolveMirrorConfig({
    allowPrefix: ["198.51.100.0/24", "2001:db8::/32"],
    precedence: "LAN",
    catchAll: ["0.0.0.0/2,64.0.0.0/2"],
  }, names);
  deepEqual(config.allowPrefixes?.map((c) => `${c.address}/${c.prefixLen}`), [
    "198.51.100.0/24",
    "2001:db8::/32",
  ]);
  equal(config.precedence, "lan");
  deepEqual(config.catchAll?.map((c) => `${c.address}/${c.prefixLen}`), [
    "0.0.0.0/2",
    "64.0.0.0/2",
  ]);
  equal(resolveMirrorConfig({ precedence: "vpn" }, names).precedence, "vpn");
});
