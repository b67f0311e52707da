import { deepEqual, equal, match, ok } from "node:assert/strict";
import { statusJson, statusText } from "../../src/cli/render_status.ts";
import { detectVpnTables } from "../../src/detect/vpn_tables.ts";
import { RTPROT } from "../../src/netlink/constants.ts";
import { planOptions } from "../../src/planner/options.ts";
import { planSync } from "../../src/planner/plan.ts";
import { mirrorCopy } from "../../src/planner/route_copy.ts";
import { daemonSummary } from "../../src/status/daemon_summary.ts";
import type { DaemonState } from "../../src/status/state_file.ts";
import { tableStatuses } from "../../src/status/table_status.ts";
import { DEFAULT_CONFIG } from "../_fixtures/state.ts";
import { defaultVia, firezoneRule, IF, LINKS, route, stockRules } from "../detect/fixtures.ts";

const FZ = 539098368;
const lan = route(254, "192.168.1.0/24", { oif: IF.eth0, protocol: RTPROT.KERNEL });
const lab = route(254, "10.1.0.0/16", { oif: IF.eth0, protocol: RTPROT.KERNEL });
const routes = [defaultVia(FZ, IF.tun0), mirrorCopy(lan, { table: FZ, protocol: 77 })];
const plan = planSync({
  source: [lan, lab, defaultVia(254, IF.eth0)],
  targets: new Map([[FZ, routes]]),
  links: LINKS,
  addresses: [],
  options: planOptions(),
});
const detection = detectVpnTables({
  rules: [...stockRules(), firezoneRule()],
  routes,
  links: LINKS,
});
const state: DaemonState = {
  version: 1,
  pid: 99,
  startedAt: "2026-01-01T00:00:00.000Z",
  updatedAt: "2026-01-01T00:10:00.000Z",
  tables: [FZ],
  config: DEFAULT_CONFIG,
  lastApply: {
    at: "2026-01-01T00:09:50.000Z",
    added: 1,
    deleted: 0,
    conflicts: 0,
    failed: 0,
    durationMs: 0.8,
  },
  counters: {
    events: 40,
    applies: 4,
    overruns: 1,
    conflicts: 0,
    droppedForeign: 0,
    failedApplies: 0,
  },
};
const now = Date.parse("2026-01-01T00:10:00.000Z");
const context = {
  source: 254,
  protocol: 77,
  includeGatewayRoutes: false,
  names: new Map<string, number>(),
  links: new Map(LINKS.map((l) => [l.index, l.name])),
  detection,
  daemon: daemonSummary(state, { now, alive: true }),
  stateFile: "/run/linkmirror/state.json",
  stateFileError: null,
};

Deno.test("status --json: the documented shape", () => {
  const doc = statusJson(tableStatuses(plan, [FZ]), context);
  equal(
    Object.keys(doc).join(" "),
    "source protocol includeGatewayRoutes tables daemon stateFile stateFileError daemons",
  );
  const [t] = doc.tables;
  equal(
    Object.keys(t).join(" "),
    "table name vpn captures rules inSync owned missing stale outdated conflicts excluded",
  );
  equal(t.vpn, "firezone");
  equal(t.captures, true);
  equal(t.inSync, false);
  deepEqual(t.owned.map((r) => r.dst), ["192.168.1.0/24"]);
  deepEqual(t.missing.map((r) => r.dst), ["10.1.0.0/16"]);
  deepEqual(t.excluded.map((e) => [e.route.dst, e.reason]), [["default", "default"]]);
  equal(doc.daemon?.running, true);
  equal(doc.daemon?.uptimeS, 600);
  equal(doc.daemon?.lastApply?.agoS, 10);
  equal(doc.daemon?.stateFile, "/run/linkmirror/state.json");
});

Deno.test("status text: a block per table and the daemon's line", () => {
  const text = statusText(tableStatuses(plan, [FZ]), context);
  match(text, /^table 539098368 firezone: out of sync: 1 missing\n/);
  match(text, /captured by rule 32765: not from all fwmark 0xfd002021 lookup 539098368/);
  match(
    text,
    /\n {2}copied {4}192\.168\.1\.0\/24 dev eth0 proto 77 scope link metric 2147483648\n/,
  );
  match(text, /\n {2}missing {3}10\.1\.0\.0\/16 dev eth0 proto 77 scope link metric 2147483648\n/);
  match(text, /\n {2}excluded {2}default dev eth0 proto boot scope link {25}default\n/);
  match(text, /daemon: running \(pid 99\), up 10m 00s, tables 539098368/);
  match(text, /last apply 10s ago: \+1 -0, 0 conflicts, 0 failed, 0\.8 ms/);
  match(text, /events 40, applies 4, overruns 1, conflicts 0, dropped foreign 0, failed applies 0/);
  ok(!text.includes("\x1b["));
});

Deno.test("status text: no daemon, a dead one, an unreadable state file", () => {
  const statuses = tableStatuses(plan, [FZ]);
  match(statusText(statuses, { ...context, daemon: null }), /daemon: not running \(no state file/);
  match(
    statusText(statuses, { ...context, daemon: daemonSummary(state, { now, alive: false }) }),
    /daemon: not running \(state file from pid 99, last written 0s ago\)/,
  );
  match(
    statusText(statuses, { ...context, daemon: null, stateFileError: "State file x: not JSON" }),
    /daemon: State file x: not JSON/,
  );
});

Deno.test("status with several daemons: the table's daemon first, a line per other one", () => {
  const other = {
    ...daemonSummary({ ...state, pid: 7, tables: [51820] }, { now, alive: true }),
    stateFile: "/run/linkmirror/table-51820.json",
  };
  const own = { ...context.daemon, stateFile: context.stateFile };
  const daemons = [own, other];
  const doc = statusJson(tableStatuses(plan, [FZ]), { ...context, daemons });
  deepEqual(doc.daemons.map((d) => d.pid), [99, 7]);
  equal(doc.daemon?.pid, 99);
  const text = statusText(tableStatuses(plan, [FZ]), { ...context, daemons });
  match(text, /daemon: running \(pid 99\)/);
  match(text, /other daemon: running \(pid 7\), tables 51820\n/);
  // Without a daemon of its own table, the others are still listed.
  const none = statusText(tableStatuses(plan, [FZ]), {
    ...context,
    daemon: null,
    daemons: [other],
  });
  match(none, /not running .*\nother daemon: running \(pid 7\)/);
});
