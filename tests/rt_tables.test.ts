import { deepEqual, equal, throws } from "node:assert/strict";
import {
  loadRtTables,
  parseRtTables,
  parseTableId,
  resolveTable,
  tableName,
  UnknownTableError,
} from "../src/rt_tables.ts";

Deno.test("parseRtTables reads ids and names, skipping comments and bad lines", () => {
  const names = parseRtTables(
    "# reserved\n255\tlocal\n254 main\n0x20220000 firezone # vpn\n\nbogus line\n51820 wg\n",
  );
  deepEqual(
    [...names],
    [["local", 255], ["main", 254], ["firezone", 0x20220000], ["wg", 51820]],
  );
});

Deno.test("parseTableId accepts decimal and hex in the 32-bit range only", () => {
  equal(parseTableId("539098368"), 539098368);
  equal(parseTableId("0xff"), 255);
  equal(parseTableId("4294967295"), 4294967295);
  equal(parseTableId("4294967296"), undefined);
  equal(parseTableId("-1"), undefined);
  equal(parseTableId("12a"), undefined);
  equal(parseTableId(""), undefined);
});

Deno.test("resolveTable takes ids, names and the built-in names", () => {
  const names = new Map([["firezone", 539098368]]);
  equal(resolveTable("firezone", names), 539098368);
  equal(resolveTable("51820", names), 51820);
  equal(resolveTable("main", names), 254);
  throws(() => resolveTable("nosuch", names), UnknownTableError);
});

Deno.test("loadRtTables merges rt_tables and rt_tables.d/*.conf, later files winning", () => {
  const dir = Deno.makeTempDirSync();
  try {
    Deno.mkdirSync(`${dir}/etc/rt_tables.d`, { recursive: true });
    Deno.writeTextFileSync(`${dir}/etc/rt_tables`, "100 lab\n200 vpn\n");
    Deno.writeTextFileSync(`${dir}/etc/rt_tables.d/fz.conf`, "539098368 firezone\n300 vpn\n");
    Deno.writeTextFileSync(`${dir}/etc/rt_tables.d/ignored.txt`, "400 ignored\n");
    const names = loadRtTables([`${dir}/missing`, `${dir}/etc`]);
    equal(names.get("lab"), 100);
    equal(names.get("vpn"), 300);
    equal(names.get("firezone"), 539098368);
    equal(names.get("ignored"), undefined);
    equal(names.get("main"), 254);
    equal(tableName(539098368, names), "firezone");
    equal(tableName(7, names), "7");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
