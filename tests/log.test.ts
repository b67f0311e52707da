import { deepEqual, equal } from "node:assert/strict";
import type { LogRecord } from "../src/log.ts";
import { formatJsonLine, formatPrettyLine, log, logMs, setupLogging } from "../src/log.ts";

const record = (over: Partial<LogRecord> = {}): LogRecord => ({
  category: ["linkmirror"],
  level: "info",
  message: ["Sync done in ", 4.5, " ms"],
  rawMessage: "Sync done in {ms} ms",
  timestamp: Date.UTC(2026, 10, 26, 10, 0, 0, 123),
  properties: { added: 2, tables: [539098368] },
  ...over,
});

Deno.test("formatJsonLine writes time, severity, message and the fields as one JSON line", () => {
  const line = formatJsonLine(record());
  equal(line.endsWith("\n"), true);
  equal(line.indexOf("\n"), line.length - 1);
  deepEqual(JSON.parse(line), {
    time: "2026-11-26T10:00:00.123Z",
    severity: "INFO",
    message: "Sync done in 4.5 ms",
    added: 2,
    tables: [539098368],
  });
});

Deno.test("severities map onto DEBUG, INFO, WARN and ERROR", () => {
  const sev = (level: LogRecord["level"]) => JSON.parse(formatJsonLine(record({ level }))).severity;
  deepEqual(
    ["trace", "debug", "info", "warning", "error", "fatal"].map((l) =>
      sev(l as LogRecord["level"])
    ),
    ["DEBUG", "DEBUG", "INFO", "WARN", "ERROR", "ERROR"],
  );
});

Deno.test("formatPrettyLine is one readable line, coloured only when asked", () => {
  const plain = formatPrettyLine(record({ level: "warning" }), false);
  equal(plain, "10:00:00.123 WARN  Sync done in 4.5 ms added=2 tables=[539098368]\n");
  equal(formatPrettyLine(record(), true).includes("\x1b[32mINFO"), true);
});

Deno.test("setupLogging filters below the level and writes JSON lines", () => {
  const lines: string[] = [];
  setupLogging({ format: "json", level: "warn", write: (l) => lines.push(l) });
  log("test").info("hidden");
  log("test").warn("Overrun, {n} events lost", { n: 3 });
  equal(lines.length, 1);
  const parsed = JSON.parse(lines[0]);
  equal(parsed.severity, "WARN");
  equal(parsed.message, "Overrun, 3 events lost");
  equal(parsed.n, 3);
});

Deno.test("logMs keeps a duration to hundredths of a millisecond", () => {
  equal(logMs(12.34567), 12.35);
  equal(logMs(0.004), 0);
  equal(logMs(41), 41);
});
