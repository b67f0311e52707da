import { deepEqual, equal, ok, throws } from "node:assert/strict";
import type { MirrorConfig } from "../../src/engine/config.ts";
import { parseCidr } from "../../src/netlink/ip.ts";
import {
  configSummary,
  daemonState,
  daemonStatePath,
  parseState,
  processAlive,
  readState,
  readStates,
  removeState,
  StateFileError,
  writeState,
} from "../../src/status/state_file.ts";

const config: MirrorConfig = {
  tables: [539098368],
  source: 254,
  protocol: 77,
  families: [2, 10],
  exclude: [parseCidr("10.0.0.0/8")],
  excludeDevices: ["docker0"],
};

const counters = {
  events: 12,
  applies: 3,
  overruns: 1,
  conflicts: 0,
  droppedForeign: 0,
  failedApplies: 0,
  changingApplies: 2,
  resyncs: 2,
  malformed: 0,
  throttled: 0,
};

const state = daemonState({
  config,
  startedAt: Date.UTC(2026, 0, 1),
  counters,
  lastApply: {
    at: Date.UTC(2026, 0, 1, 0, 0, 5),
    added: 2,
    deleted: 1,
    failed: 0,
    conflicts: 0,
    durationMs: 1.23456,
    resync: false,
  },
  pid: 4242,
  now: Date.UTC(2026, 0, 1, 0, 0, 6),
});

Deno.test("daemonState builds the documented shape", () => {
  deepEqual(state, {
    version: 1,
    pid: 4242,
    startedAt: "2026-01-01T00:00:00.000Z",
    updatedAt: "2026-01-01T00:00:06.000Z",
    tables: [539098368],
    config: {
      source: 254,
      protocol: 77,
      families: ["inet", "inet6"],
      exclude: ["10.0.0.0/8"],
      excludeDevices: ["docker0"],
      includeGatewayRoutes: false,
      allowPrefixes: [],
      precedence: "vpn",
      catchAll: [],
    },
    lastApply: {
      at: "2026-01-01T00:00:05.000Z",
      added: 2,
      deleted: 1,
      conflicts: 0,
      failed: 0,
      durationMs: 1.235,
      resync: false,
    },
    counters,
  });
  equal(configSummary({ ...config, includeGatewayRoutes: true }).includeGatewayRoutes, true);
  equal(daemonState({ config, startedAt: 0, counters, now: 0 }).lastApply, null);
});

Deno.test("writeState replaces the file atomically; readState reads it back", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const path = `${dir}/run/linkmirror/state.json`;
    writeState(state, path);
    deepEqual(readState(path), state);
    writeState({ ...state, pid: 1 }, path);
    equal(readState(path)?.pid, 1);
    deepEqual([...Deno.readDirSync(`${dir}/run/linkmirror`)].map((e) => e.name), ["state.json"]);
    equal(Deno.statSync(path).mode! & 0o777, 0o644);
    equal(removeState(path, 2), false, "another daemon's file is left alone");
    equal(readState(path)?.pid, 1);
    equal(removeState(path, 1), true, "its owner removes it");
    equal(readState(path), undefined);
    equal(removeState(path, 1), false); // A missing file is fine.
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("parseState names what is wrong, keeps what is right, drops unknown fields", () => {
  const text = JSON.stringify({ ...state, extra: true });
  deepEqual(parseState(text), state);
  const broken = (patch: Record<string, unknown>) => JSON.stringify({ ...state, ...patch });
  throws(() => parseState("{", "/x"), /State file \/x: not JSON/);
  throws(() => parseState(broken({ version: 2 })), /version 2 is not 1/);
  throws(() => parseState(broken({ pid: 0 })), /pid is missing/);
  throws(() => parseState(broken({ startedAt: "yesterday" })), /startedAt/);
  throws(() => parseState(broken({ tables: ["x"] })), /tables/);
  throws(() => parseState(broken({ config: { ...state.config, families: ["ipx"] } })), /families/);
  throws(() => parseState(broken({ counters: { ...counters, events: -1 } })), /counters\.events/);
  throws(() => parseState(broken({ lastApply: { ...state.lastApply, added: "2" } })), /added/);
  const replaced = { ...state, lastApply: { ...state.lastApply!, replaced: 3 } };
  equal(parseState(JSON.stringify(replaced)).lastApply?.replaced, 3);
  equal(parseState(text).lastApply?.replaced, undefined, "files from before replaces still read");
  throws(
    () => parseState(broken({ lastApply: { ...state.lastApply, replaced: -1 } })),
    /lastApply\.replaced/,
  );
  throws(() => parseState("[]"), (e) => e instanceof StateFileError);
  const minimal = broken({ counters: { ...counters, resyncs: undefined }, lastApply: null });
  equal(parseState(minimal).counters.resyncs, undefined);
});

Deno.test("one state file per table; readStates finds them all and names the broken ones", () => {
  const dir = Deno.makeTempDirSync();
  try {
    equal(daemonStatePath([51820, 7], { dir }), `${dir}/table-51820.json`);
    deepEqual(readStates(`${dir}/none`), []);
    writeState({ ...state, pid: 11, tables: [51820] }, daemonStatePath([51820], { dir }));
    writeState({ ...state, pid: 12, tables: [539098368] }, daemonStatePath([539098368], { dir }));
    Deno.writeTextFileSync(`${dir}/table-7.json`, "{");
    Deno.writeTextFileSync(`${dir}/unrelated.json`, "{}");
    const entries = readStates(dir);
    deepEqual(entries.map((e) => e.state?.pid), [11, 12, undefined]);
    ok(entries[2].error?.includes("not JSON"));
    equal(
      daemonStatePath([51820], { dir, file: "/tmp/x.json" }),
      "/tmp/x.json",
      "--state-file wins",
    );
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("processAlive sees this process", () => {
  ok(processAlive(Deno.pid));
  equal(processAlive(2 ** 22 + 1), false); // Above pid_max.
});
