import { deepEqual, equal } from "node:assert/strict";
import { daemonSummary, durationText } from "../../src/status/daemon_summary.ts";
import type { DaemonState } from "../../src/status/state_file.ts";

const state: DaemonState = {
  version: 1,
  pid: 7,
  startedAt: "2026-01-01T00:00:00.000Z",
  updatedAt: "2026-01-01T01:00:00.000Z",
  tables: [51820],
  config: {
    source: 254,
    protocol: 77,
    families: ["inet"],
    exclude: [],
    excludeDevices: [],
    includeGatewayRoutes: false,
  },
  lastApply: {
    at: "2026-01-01T00:59:58.000Z",
    added: 1,
    deleted: 0,
    conflicts: 0,
    failed: 0,
    durationMs: 0.5,
  },
  counters: {
    events: 5,
    applies: 2,
    overruns: 0,
    conflicts: 0,
    droppedForeign: 0,
    failedApplies: 0,
  },
};

Deno.test("daemonSummary: uptime and ages at a given time", () => {
  const now = Date.parse("2026-01-01T01:00:03.000Z");
  const s = daemonSummary(state, { now, alive: true });
  equal(s.running, true);
  equal(s.uptimeS, 3603);
  equal(s.updatedAgoS, 3);
  equal(s.lastApply?.agoS, 5);
  deepEqual(s.tables, [51820]);
  equal(daemonSummary(state, { now, alive: undefined }).running, null);
  equal(daemonSummary({ ...state, lastApply: null }, { now, alive: false }).lastApply, null);
});

Deno.test("durationText", () => {
  equal(durationText(0.25), "0.3s");
  equal(durationText(42), "42s");
  equal(durationText(192), "3m 12s");
  equal(durationText(3725), "1h 02m");
  equal(durationText(2 * 86400 + 3 * 3600 + 5), "2d 03h");
});
