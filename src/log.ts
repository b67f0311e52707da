/**
 * Logging: JSON Lines on stderr (`time`, `severity`, `message` and structured fields) for the
 * journal and `jq`, or a human-readable line when stderr is a terminal. A logger of its own
 * (LogTape's API shape: categories, `{field}` message templates, structured properties) so that
 * starting the program loads no logging library and no Node compatibility; the formatting is pure
 * and tested on its own.
 *
 * @module
 */

/** The levels of a {@linkcode LogRecord}, lowest first (LogTape's names). */
export type LogLevel = "trace" | "debug" | "info" | "warning" | "error" | "fatal";

/** One log event, as the formatters take it. */
export interface LogRecord {
  /** The logger's category, e.g. `["linkmirror", "daemon"]`. */
  readonly category: readonly string[];
  /** Its level. */
  readonly level: LogLevel;
  /** The message: text parts at even indexes, substituted values at odd ones. */
  readonly message: readonly unknown[];
  /** The message template as written, e.g. `"Sync done in {ms} ms"`. */
  readonly rawMessage: string;
  /** Milliseconds since the epoch. */
  readonly timestamp: number;
  /** The structured fields. */
  readonly properties: Record<string, unknown>;
}

/**
 * A logger: each method takes a message template whose `{name}` placeholders are filled from
 * `properties`; every property is also written as a field of its own.
 */
export interface Logger {
  /** Logs at DEBUG. */
  debug(message: string, properties?: Record<string, unknown>): void;
  /** Logs at INFO. */
  info(message: string, properties?: Record<string, unknown>): void;
  /** Logs at WARN. */
  warn(message: string, properties?: Record<string, unknown>): void;
  /** Logs at ERROR. */
  error(message: string, properties?: Record<string, unknown>): void;
  /**
   * Whether a line at `level` would be written, so that a caller can skip building the fields of
   * lines nobody reads (per event, per change). Absent: assume it would.
   */
  enabled?(level: LogLevelName): boolean;
}

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

const RANK: Record<LogLevel, number> = {
  trace: 0,
  debug: 1,
  info: 2,
  warning: 3,
  error: 4,
  fatal: 5,
};

const LEVEL_OF: Record<LogLevelName, LogLevel> = {
  debug: "debug",
  info: "info",
  warn: "warning",
  error: "error",
};

/**
 * Splits a message template into text parts and values: `"a {x} b"` with `{ x: 1 }` gives
 * `["a ", 1, " b"]`. `{{` and `}}` stand for literal braces; an unknown name renders as undefined.
 */
export function parseTemplate(template: string, properties: Record<string, unknown>): unknown[] {
  const parts: unknown[] = [];
  let text = "";
  let i = 0;
  while (i < template.length) {
    const c = template[i];
    if ((c === "{" || c === "}") && template[i + 1] === c) {
      text += c;
      i += 2;
      continue;
    }
    const close = c === "{" ? template.indexOf("}", i + 1) : -1;
    if (close < 0) {
      text += c;
      i++;
      continue;
    }
    parts.push(text, properties[template.slice(i + 1, close).trim()]);
    text = "";
    i = close + 1;
  }
  parts.push(text);
  return parts;
}

/** Where records go once {@linkcode setupLogging} ran; until then nothing is written. */
let sink: { lowest: number; write: (record: LogRecord) => void } | undefined;

class CategoryLogger implements Logger {
  readonly #category: readonly string[];

  constructor(category: readonly string[]) {
    this.#category = category;
  }

  #log(level: LogLevel, rawMessage: string, properties: Record<string, unknown> = {}): void {
    if (!sink || RANK[level] < sink.lowest) return;
    sink.write({
      category: this.#category,
      level,
      message: parseTemplate(rawMessage, properties),
      rawMessage,
      timestamp: Date.now(),
      properties,
    });
  }

  enabled(level: LogLevelName): boolean {
    return sink !== undefined && RANK[LEVEL_OF[level]] >= sink.lowest;
  }

  debug(message: string, properties?: Record<string, unknown>): void {
    this.#log("debug", message, properties);
  }

  info(message: string, properties?: Record<string, unknown>): void {
    this.#log("info", message, properties);
  }

  warn(message: string, properties?: Record<string, unknown>): void {
    this.#log("warning", message, properties);
  }

  error(message: string, properties?: Record<string, unknown>): void {
    this.#log("error", message, properties);
  }
}

/**
 * A writer of whole texts to `stream` (stdout, stderr): each text encoded as UTF-8 and written
 * synchronously until every byte is out, however short the stream's writes are.
 *
 * @example
 * ```ts
 * import { writeAllTo } from "./log.ts";
 * writeAllTo(Deno.stdout)("hello\n");
 * ```
 */
export function writeAllTo(stream: { writeSync(p: Uint8Array): number }): (text: string) => void {
  const encoder = new TextEncoder();
  return (text) => {
    const bytes = encoder.encode(text);
    let off = 0;
    while (off < bytes.length) off += stream.writeSync(bytes.subarray(off));
  };
}

/**
 * A duration for a log field: `ms` to hundredths of a millisecond.
 *
 * @example
 * ```ts
 * import { logMs } from "./log.ts";
 * logMs(12.34567); // 12.35
 * ```
 */
export function logMs(ms: number): number {
  return Math.round(ms * 100) / 100;
}

/** Configures the process-wide logger. Call once, before the first log line. */
export function setupLogging(options: LoggingOptions = {}): void {
  const format = options.format ?? (Deno.stderr.isTerminal() ? "pretty" : "json");
  const color = format === "pretty" && stderrWantsColor();
  const write = options.write ?? writeAllTo(Deno.stderr);
  sink = {
    lowest: RANK[LEVEL_OF[options.level ?? "info"]],
    write: (record) =>
      write(format === "json" ? formatJsonLine(record) : formatPrettyLine(record, color)),
  };
}

/** The logger of a linkmirror component, e.g. `log("daemon")`. */
export function log(component?: string): Logger {
  return new CategoryLogger(component ? ["linkmirror", component] : ["linkmirror"]);
}
