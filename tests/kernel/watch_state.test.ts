import { deepEqual, equal, ok } from "node:assert/strict";
import { copyRoutes, firezone, LAN } from "./firezone.ts";
import { linkmirror, spawnLinkmirror } from "./linkmirror.ts";
import { kernelTest, waitFor } from "./netns.ts";

kernelTest(
  "watch --table auto finds Firezone's table; status shows the daemon's state file",
  async (ns) => {
    await firezone(ns);
    const dir = await Deno.makeTempDir({ prefix: "lmt-state-" });
    const env = { LINKMIRROR_STATE_FILE: `${dir}/state.json` };
    try {
      const daemon = spawnLinkmirror(ns, ["watch", "--table", "auto"], { env });
      await daemon.waitForLine(/"message":"Watching".*"tables":\[539098368\]/, {
        timeoutMs: 15_000,
      });
      await waitFor(async () => {
        const copies = await copyRoutes(ns);
        return copies.length === 1;
      }, { message: "the IPv4 copy" });

      // A change, so that the counters move; then the state file shows it.
      await ns.ip("address", "add", "10.61.0.1/24", "dev", LAN.dev);
      const state = await waitFor(async () => {
        const s = JSON.parse(await Deno.readTextFile(`${dir}/state.json`));
        return s.counters.applies >= 2 ? s : undefined;
      }, { message: "a state file with two applies" });
      equal(state.pid, daemon.pid);
      deepEqual(state.tables, [539098368]);
      equal(state.config.source, 254);

      const status = await linkmirror(ns, ["status", "--json"], { env });
      equal(status.code, 0, status.stderr);
      const doc = JSON.parse(status.stdout);
      equal(doc.daemon?.running, true);
      equal(doc.daemon?.pid, daemon.pid);
      ok(doc.daemon.counters.applies >= 2);
      deepEqual(doc.daemon.tables, [539098368]);

      daemon.kill("SIGTERM");
      equal((await daemon.status).code, 0, daemon.output());
      await Deno.stat(`${dir}/state.json`).then(
        () => ok(false, "the state file is removed on a clean stop"),
        (e) => ok(e instanceof Deno.errors.NotFound),
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
