/**
 * The sd_notify sender against a real AF_UNIX datagram socket (made through the same FFI layer,
 * bound to an abstract name or a path in a temporary directory): the bytes that arrive are the
 * ones systemd would read. Plus the pure parts: watchdog interval and message format.
 */

import { skipUnless } from "./_fixtures/skip.ts";
import { deepEqual, equal, ok, throws } from "node:assert/strict";
import {
  formatNotification,
  SdNotifier,
  SdNotifyError,
  sendNotification,
  watchdogInterval,
} from "../src/sd_notify.ts";
import { NotifyReceiver as Receiver } from "./notify_receiver.ts";

const ffiGranted = Deno.permissions.querySync({ name: "ffi" }).state === "granted";

Deno.test({
  ...skipUnless(
    "sd_notify: READY=1 with STATUS reaches an abstract socket as one datagram",
    ffiGranted ? null : "needs --allow-ffi",
  ),
  fn() {
    const receiver = Receiver.open("abstract");
    try {
      const notifier = SdNotifier.fromEnv(new Map([["NOTIFY_SOCKET", receiver.address]]));
      equal(notifier.enabled, true);
      equal(notifier.ready("3 routes mirrored into 539098368"), true);
      deepEqual(receiver.receiveAll(), ["READY=1\nSTATUS=3 routes mirrored into 539098368"]);
    } finally {
      receiver.close();
    }
  },
});

Deno.test({
  ...skipUnless(
    "sd_notify: WATCHDOG, STATUS and STOPPING reach a socket file, in order",
    ffiGranted ? null : "needs --allow-ffi",
  ),
  fn() {
    const receiver = Receiver.open("path");
    try {
      const notifier = new SdNotifier(receiver.address, 15_000);
      ok(notifier.watchdog());
      ok(notifier.status("resync\nin progress"));
      ok(notifier.stopping());
      ok(notifier.stopping("flushing"));
      deepEqual(receiver.receiveAll(), [
        "WATCHDOG=1",
        "STATUS=resync in progress",
        "STOPPING=1",
        "STOPPING=1\nSTATUS=flushing",
      ]);
    } finally {
      receiver.close();
    }
  },
});

Deno.test({
  name: "sd_notify: without NOTIFY_SOCKET every call is a no-op",
  fn() {
    const errors: SdNotifyError[] = [];
    const notifier = SdNotifier.fromEnv(new Map([["WATCHDOG_USEC", "30000000"]]), {
      onError: (e) => errors.push(e),
    });
    equal(notifier.enabled, false);
    equal(notifier.watchdogIntervalMs, undefined);
    equal(notifier.ready(), false);
    equal(notifier.watchdog(), false);
    equal(notifier.stopping(), false);
    equal(notifier.status("x"), false);
    deepEqual(errors, []);
  },
});

Deno.test({
  ...skipUnless(
    "sd_notify: a socket nobody listens on is reported to onError, not thrown",
    ffiGranted ? null : "needs --allow-ffi",
  ),
  fn() {
    const errors: SdNotifyError[] = [];
    const onError = (e: SdNotifyError) => errors.push(e);
    const abstract = new SdNotifier(`@lmt-nobody-${crypto.randomUUID()}`, undefined, { onError });
    equal(abstract.ready(), false);
    const dir = Deno.makeTempDirSync({ prefix: "lmt-notify-" });
    try {
      const missing = new SdNotifier(`${dir}/missing`, undefined, { onError });
      equal(missing.watchdog(), false);
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
    deepEqual(errors.map((e) => e.code), ["ECONNREFUSED", "ENOENT"]);
    ok(
      errors.every((e) =>
        e instanceof SdNotifyError && /^Cannot notify systemd at /.test(e.message)
      ),
    );
  },
});

Deno.test("sd_notify: an address that is not AF_UNIX is refused before any system call", () => {
  throws(() => sendNotification("vsock:2:1234", "READY=1"), SdNotifyError);
  throws(() => sendNotification("relative/path", "READY=1"), SdNotifyError);
  throws(() => sendNotification(`/${"x".repeat(200)}`, "READY=1"), /too long/);
});

Deno.test("sd_notify: fromEnv takes the watchdog interval only for this process", () => {
  const env = new Map([
    ["NOTIFY_SOCKET", "@x"],
    ["WATCHDOG_USEC", "30000000"],
    ["WATCHDOG_PID", "4242"],
  ]);
  equal(SdNotifier.fromEnv(env, { pid: 4242 }).watchdogIntervalMs, 15_000);
  equal(SdNotifier.fromEnv(env, { pid: 1 }).watchdogIntervalMs, undefined);
  equal(SdNotifier.fromEnv(new Map([["NOTIFY_SOCKET", ""]])).enabled, false);
});

Deno.test("watchdogInterval: half of WATCHDOG_USEC in ms, or off", () => {
  const cases: [Record<string, string>, number | undefined][] = [
    [{ WATCHDOG_USEC: "30000000" }, 15_000],
    [{ WATCHDOG_USEC: "30000000", WATCHDOG_PID: "7" }, 15_000],
    [{ WATCHDOG_USEC: "30000000", WATCHDOG_PID: "8" }, undefined],
    [{ WATCHDOG_USEC: "1000" }, 1], // 0.5 ms rounds up to the smallest timer step
    [{ WATCHDOG_USEC: "0" }, undefined],
    [{ WATCHDOG_USEC: "-5" }, undefined],
    [{ WATCHDOG_USEC: "30s" }, undefined],
    [{ WATCHDOG_USEC: "" }, undefined],
    [{ WATCHDOG_USEC: "99999999999999999999" }, undefined],
    [{}, undefined],
  ];
  for (const [vars, expected] of cases) {
    equal(watchdogInterval(new Map(Object.entries(vars)), 7), expected, JSON.stringify(vars));
  }
});

Deno.test("formatNotification: KEY=VALUE lines in order, no line break inside a value", () => {
  equal(formatNotification({ READY: "1" }), "READY=1");
  equal(formatNotification({ STOPPING: "1", STATUS: "a\r\nb\nc" }), "STOPPING=1\nSTATUS=a b c");
});
