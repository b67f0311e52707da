import { equal, ok } from "node:assert/strict";
import { NotifyReceiver } from "../notify_receiver.ts";
import { copyRoutes, firezone } from "./firezone.ts";
import { spawnLinkmirror } from "./linkmirror.ts";
import { kernelTest, waitFor } from "./netns.ts";

kernelTest(
  "watch tells systemd READY=1 after the first sync, pings the watchdog, says STOPPING",
  async (ns) => {
    await firezone(ns);
    const receiver = NotifyReceiver.open("path");
    try {
      const seen: string[] = [];
      const has = (prefix: string) => seen.filter((m) => m.startsWith(prefix)).length;
      const daemon = spawnLinkmirror(ns, ["watch"], {
        env: { NOTIFY_SOCKET: receiver.address, WATCHDOG_USEC: "200000" },
      });
      await waitFor(() => (seen.push(...receiver.receiveAll()), has("READY=1") === 1), {
        timeoutMs: 15_000,
        message: "READY=1",
      });
      // READY comes after the first full sync: the copies are there by then.
      const copies = await copyRoutes(ns);
      equal(copies.length, 1);
      await waitFor(() => (seen.push(...receiver.receiveAll()), has("WATCHDOG=1") >= 2), {
        timeoutMs: 5000,
        message: "two watchdog pings (every 100 ms)",
      });
      daemon.kill("SIGTERM");
      equal((await daemon.status).code, 0, daemon.output());
      seen.push(...receiver.receiveAll());
      ok(has("STOPPING=1") === 1, seen.join(" | "));
    } finally {
      receiver.close();
    }
  },
);
