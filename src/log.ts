/**
 * Logging: JSON Lines on stderr (`time`, `severity`, `message` and structured fields) for the
 * journal and `jq`, or a human-readable line when stderr is a terminal. Built on LogTape; the
 * formatting is pure and tested on its own.
 *
 * @module
 */

import {
  configureSync,
  getLogger,
  type Logger,
  type LogLevel,
  type LogRecord,
} from "@logtape/logtape";

/** Output formats of the log. */
export type LogFormat = "json" | "pretty";
/** Levels accepted by `--log-level`. */
export type LogLevelName = "debug" | "info" | "warn" | "error";

/** The log levels `--log-level` accepts, lowest first. */
export const LOG_LEVELS: readonly LogLevelName[] = ["debug", "info", "warn", "error"];

const SEVERITY: Record<LogLevel, string> = {
  trace: "DEBUG",
  debug: "DEBUG",
  info: "INFO",
  warning: "WARN",
  error: "ERROR",
  fatal: "ERROR",
};

const LOGTAPE_LEVEL: Record<LogLevelName, LogLevel> = {
  debug: "debug",
  info: "info",
  warn: "warning",
  error: "error",
};

/** Renders a record's message template with its values substituted. */
function renderMessage(record: LogRecord): string {
  return record.message.map((part, i) => i % 2 === 0 ? String(part) : stringify(part)).join("");
}

function stringify(value: unknown): string {
  if (typeof value === "string") return value;
  try {
    return JSON.stringify(value, jsonReplacer) ?? String(value);
  } catch {
    return String(value);
  }
}

function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Error) return { name: value.name, message: value.message };
  return value;
}

/**
 * Formats a record as one JSON line: `time` (RFC 3339, UTC), `severity`, `message`, then the
 * record's properties.
 *
 * @example
 * ```ts
 * import { formatJsonLine } from "./log.ts";
 * formatJsonLine({
 *   category: ["linkmirror"], level: "info", message: ["sync done"], rawMessage: "sync done",
 *   timestamp: 0, properties: { added: 2 },
 * });
 * // '{"time":"1970-01-01T00:00:00.000Z","severity":"INFO","message":"sync done","added":2}\n'
 * ```
 */
export function formatJsonLine(record: LogRecord): string {
  const line = {
    time: new Date(record.timestamp).toISOString(),
    severity: SEVERITY[record.level],
    message: renderMessage(record),
    ...record.properties,
  };
  return JSON.stringify(line, jsonReplacer) + "\n";
}

const COLOR: Record<string, string> = {
  DEBUG: "\x1b[2m",
  INFO: "\x1b[32m",
  WARN: "\x1b[33m",
  ERROR: "\x1b[31m",
};

/**
 * Formats a record for a person: `HH:MM:SS.mmm SEVERITY message key=value ...`, coloured when
 * `color` is true.
 */
export function formatPrettyLine(record: LogRecord, color: boolean): string {
  const severity = SEVERITY[record.level];
  const time = new Date(record.timestamp).toISOString().slice(11, 23);
  const fields = Object.entries(record.properties)
    .map(([k, v]) => `${k}=${stringify(v)}`)
    .join(" ");
  const sev = color ? `${COLOR[severity]}${severity.padEnd(5)}\x1b[0m` : severity.padEnd(5);
  return `${time} ${sev} ${renderMessage(record)}${fields ? " " + fields : ""}\n`;
}

/** Options of {@linkcode setupLogging}. */
export interface LoggingOptions {
  /** `json` or `pretty`; default: pretty when stderr is a terminal, else json. */
  format?: LogFormat;
  /** The lowest level written; default `info`. */
  level?: LogLevelName;
  /** Where lines go; default stderr. */
  write?: (line: string) => void;
}

/** Whether colour may be used on stderr: a terminal, and `NO_COLOR` unset or empty. */
export function stderrWantsColor(): boolean {
  return Deno.stderr.isTerminal() && !Deno.env.get("NO_COLOR");
}

/** Configures the process-wide logger. Call once, before the first log line. */
export function setupLogging(options: LoggingOptions = {}): void {
  const format = options.format ?? (Deno.stderr.isTerminal() ? "pretty" : "json");
  const color = format === "pretty" && stderrWantsColor();
  const encoder = new TextEncoder();
  const write = options.write ?? ((line: string) => {
    const bytes = encoder.encode(line);
    let off = 0;
    while (off < bytes.length) off += Deno.stderr.writeSync(bytes.subarray(off));
  });
  configureSync({
    reset: true,
    sinks: {
      stderr: (record: LogRecord) =>
        write(format === "json" ? formatJsonLine(record) : formatPrettyLine(record, color)),
    },
    loggers: [
      { category: ["logtape", "meta"], sinks: [], lowestLevel: "error" },
      {
        category: ["linkmirror"],
        sinks: ["stderr"],
        lowestLevel: LOGTAPE_LEVEL[options.level ?? "info"],
      },
    ],
  });
}

/** The logger of a linkmirror component, e.g. `log("daemon")`. */
export function log(component?: string): Logger {
  return getLogger(component ? ["linkmirror", component] : ["linkmirror"]);
}
