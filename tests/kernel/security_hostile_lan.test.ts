/**
 * A hostile LAN cannot pull traffic out of the tunnel: on-link routes for public space in main
 * are not mirrored, after `sync` and under `watch`; traffic through the tunnel and to the LAN peer
 * keeps working.
 */

import { deepEqual, equal, ok } from "node:assert/strict";
import { firezoneWithTunnel, INTERNET, LAN, tcpReaches } from "./firezone.ts";
import { linkmirror, logLines, spawnLinkmirror } from "./linkmirror.ts";
import { kernelTest, waitFor } from "./netns.ts";
import { assertNoLeak, copies, HOSTILE_PREFIXES, hostileLan } from "./security.ts";

const BASE = [`${LAN.prefix} ${LAN.dev}`, `${LAN.prefix6} ${LAN.dev}`, `fe80::/64 ${LAN.dev}`];

kernelTest(
  "hostile LAN, sync: public addresses stay in the tunnel, the LAN is mirrored",
  async (ns) => {
    const { lan, vpn } = await firezoneWithTunnel(ns);
    await hostileLan(ns);
    const sync = await linkmirror(ns, ["sync"]);
    equal(sync.code, 0, sync.stderr);
    deepEqual(await copies(ns), [...BASE].sort());
    await assertNoLeak(ns, "after sync");

    // Traffic: through the tunnel to "the Internet", and to the LAN peer.
    ok(await tcpReaches(ns, vpn, INTERNET.v4[0]), "TCP to 8.8.8.8 through the tunnel");
    ok(
      await tcpReaches(ns, vpn, INTERNET.v6[0], 7001),
      "TCP to 2606:4700::1111 through the tunnel",
    );
    ok(await tcpReaches(ns, lan, LAN.peer, 7002), "TCP to the LAN peer");

    // sync says why, once per prefix, and plan lists the refusals.
    const warned = logLines(sync.stderr).filter((l) => l.severity === "WARN")
      .map((l) => l.dst);
    for (const prefix of HOSTILE_PREFIXES) ok(warned.includes(prefix), `WARN for ${prefix}`);
    const plan = JSON.parse((await linkmirror(ns, ["plan", "--json"])).stdout);
    const refused = plan.excluded.filter((e: { reason: string }) =>
      e.reason === "outside-local-space"
    )
      .map((e: { route: { dst: string } }) => e.route.dst);
    for (const prefix of HOSTILE_PREFIXES) ok(refused.includes(prefix), `plan refuses ${prefix}`);

    // --allow-prefix admits one of them explicitly (a public LAN): then, and only then, it is copied.
    const allowed = await linkmirror(ns, ["sync", "--allow-prefix", "1.1.1.0/24"]);
    equal(allowed.code, 0, allowed.stderr);
    deepEqual(await copies(ns), [...BASE, `1.1.1.0/24 ${LAN.dev}`].sort());
    equal((await ns.ipJson<{ dev: string }[]>("route", "get", "1.1.1.1"))[0].dev, LAN.dev);
    equal((await linkmirror(ns, ["sync"])).code, 0);
    deepEqual(await copies(ns), [...BASE].sort());
  },
);

kernelTest(
  "hostile LAN under watch: the routes appear while it runs; one WARN per prefix",
  async (ns) => {
    const { vpn } = await firezoneWithTunnel(ns);
    const daemon = spawnLinkmirror(ns, ["watch", "--log-level", "debug"]);
    await daemon.waitForLine(/"message":"Watching"/, { timeoutMs: 15_000 });
    await waitFor(
      async () => JSON.stringify(await copies(ns)) === JSON.stringify([...BASE].sort()),
      {
        message: "the LAN's copies",
      },
    );
    await hostileLan(ns);
    const warnings = () =>
      logLines(daemon.stderrLines).filter((l) =>
        l.severity === "WARN" && String(l.message).startsWith("On-link route outside local")
      ).map((l) => String(l.dst));
    await waitFor(() => HOSTILE_PREFIXES.every((p) => warnings().includes(p)), {
      timeoutMs: 10_000,
      message: "a WARN for every hostile prefix",
    });
    await assertNoLeak(ns, "under watch");
    ok(await tcpReaches(ns, vpn, INTERNET.v4[1]), "TCP to 1.1.1.1 through the tunnel");

    // More events: a LAN route comes and is copied; the hostile prefixes are not warned again.
    await ns.ip("route", "add", "10.77.0.0/24", "dev", LAN.dev);
    await waitFor(async () => (await copies(ns)).includes(`10.77.0.0/24 ${LAN.dev}`), {
      message: "the new LAN route's copy",
    });
    for (const prefix of HOSTILE_PREFIXES) {
      equal(warnings().filter((w) => w === prefix).length, 1, `one WARN for ${prefix}`);
    }
    await assertNoLeak(ns, "after more events");
    deepEqual(await copies(ns), [...BASE, `10.77.0.0/24 ${LAN.dev}`].sort());
    const status = await daemon.stop();
    equal(status.code, 0, daemon.output());
  },
);
