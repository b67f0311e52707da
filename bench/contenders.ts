/**
 * The contenders: linkmirror (`sync` once, or the `watch` daemon), `ip -batch`, BIRD 2 (kernel
 * protocols on `main` and on the VPN's table, a pipe filtered on `krt_scope = 253`, `protocol
 * direct` for the connected routes, IPv6 filtered on `gw = ::`, `scan time 1`, with and without a
 * raised `netlink rx buffer`) and a shell loop around `ip monitor route` (what OpenWrt's
 * mwan3rtmon does). Each runs inside the scenario's namespace.
 *
 * @module
 */

import type { BenchNetns, BenchProcess } from "./netns.ts";
import { onCleanup, runCommand } from "./netns.ts";
import { routeLines, type RouteSpec } from "./routes.ts";
import { ONE_SHOT_V8_FLAGS, RUN_ISOLATION, START_FLAGS } from "../scripts/compile.ts";

/** linkmirror's `rtm_protocol`: also used for the copies made by `ip -batch` and the shell loop. */
export const COPY_PROTOCOL = 77;
/** The receive buffer a "raised" BIRD gets: the same as linkmirror's event socket (32 MiB). */
export const BIRD_RX_BUFFER = 32 << 20;

/**
 * How the floors are run: with the flags linkmirror's launcher runs its bundle with (no project
 * configuration or lock file, no code cache), so that the floor pays for no lookup that
 * linkmirror is spared, and FFI.
 */
export const FLOOR_RUN: readonly string[] = [
  "run",
  ...RUN_ISOLATION,
  ...START_FLAGS,
  "--allow-ffi",
];

/** The daemon contenders. */
export type DaemonKind = "watch" | "watch-b" | "bird" | "bird-rx" | "shell";

/** Labels of the contenders, as the table prints them. */
export const CONTENDER_LABELS: Record<string, string> = {
  sync: "linkmirror sync",
  "sync-b": "linkmirror sync (B)",
  "ip-batch": "ip -batch",
  "sync-floor": "deno: bare IPv4 copy",
  watch: "linkmirror watch",
  "watch-b": "linkmirror watch (B)",
  bird: "BIRD 2",
  "bird-rx": "BIRD 2, rx buffer 32M",
  shell: "ip monitor | sh",
};

/**
 * The command of the one-shot floor ({@linkcode ../sync_floor.ts}) copying `main` into `table`,
 * run with linkmirror's one-shot V8 flags.
 */
export function syncFloorCommand(table: string): string[] {
  return [
    Deno.execPath(),
    ...FLOOR_RUN,
    ...ONE_SHOT_V8_FLAGS,
    new URL("./sync_floor.ts", import.meta.url).pathname,
    table,
  ];
}

/** How the benchmark starts linkmirror. */
export interface LinkmirrorCommand {
  /** The command line before linkmirror's own arguments. */
  prefix: string[];
}

/** A daemon contender running in a namespace. */
export interface Daemon {
  /** Which contender. */
  kind: DaemonKind;
  /** The process whose memory, wake-ups and CPU are measured. */
  pid: number;
  /** The process as started. */
  process: BenchProcess;
  /** Stops it; resolves with what it reported (linkmirror's "Stopped" counters). */
  stop(): Promise<Record<string, number>>;
}

/** Options of {@linkcode startDaemon}. */
export interface StartOptions {
  /** The scenario's namespace. */
  ns: BenchNetns;
  /** The target table. */
  table: string;
  /** How to run linkmirror. */
  linkmirror: LinkmirrorCommand;
  /** Copies the target table already holds (the shell loop makes no initial sync). */
  initial: readonly RouteSpec[];
}

/** Whether BIRD 2 is installed (`bird` and `birdc` on the PATH). */
export async function birdVersion(): Promise<string | undefined> {
  try {
    const out = await runCommand(["bird", "--version"]);
    const text = (out.stdout + out.stderr).trim();
    return out.code === 0 && /BIRD version 2\./.test(text) ? text : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Installs Debian's `bird2` when BIRD is missing and `apt-get` is there; returns the version, or
 * undefined with the reason.
 */
export async function ensureBird(install: boolean): Promise<{ version?: string; reason?: string }> {
  const version = await birdVersion();
  if (version) return { version };
  if (!install) return { reason: "BIRD 2 is not installed (apt-get install bird2)" };
  try {
    const env = ["env", "DEBIAN_FRONTEND=noninteractive"];
    let out = await runCommand([...env, "apt-get", "install", "-y", "bird2"]);
    if (out.code !== 0) {
      await runCommand([...env, "apt-get", "update"]);
      out = await runCommand([...env, "apt-get", "install", "-y", "bird2"]);
    }
    const after = await birdVersion();
    return after ? { version: after } : {
      reason: `BIRD 2 is not installed and apt-get install bird2 failed: ${
        out.stderr.trim().split("\n").pop()
      }`,
    };
  } catch (e) {
    return { reason: `BIRD 2 is not installed and apt-get is unavailable (${e})` };
  }
}

/** The BIRD configuration of the benchmark, mirroring `main` into `table`. */
export function birdConfig(options: { table: string; rxBuffer?: number; logFile: string }): string {
  const rx = options.rxBuffer ? `\n  netlink rx buffer ${options.rxBuffer};` : "";
  return `# linkmirror benchmark: mirror on-link routes of main into table ${options.table}.
router id 192.0.2.1;
log "${options.logFile}" { warning, error, fatal, bug };
ipv4 table mirror4;
ipv6 table mirror6;
protocol device { scan time 10; }
# BIRD 2.0.x never learns "proto kernel" routes (learn all exists only from 2.14): the
# address-prefix routes come from the direct protocol instead.
protocol direct { ipv4; ipv6; interface "*"; }
protocol kernel kmain4 {
  ipv4 { import all; export none; };
  learn;
  scan time 1;
  kernel table 254;${rx}
}
protocol kernel kmain6 {
  ipv6 { import all; export none; };
  learn;
  scan time 1;
  kernel table 254;${rx}
}
protocol kernel kvpn4 {
  ipv4 { table mirror4; import none; export all; };
  scan time 1;
  kernel table ${options.table};${rx}
}
protocol kernel kvpn6 {
  ipv6 { table mirror6; import none; export all; };
  scan time 1;
  kernel table ${options.table};${rx}
}
# krt_scope = SCOPE_LINK never matches: compare with 253.
protocol pipe p4 {
  table master4; peer table mirror4;
  import none;
  export filter { if source = RTS_DEVICE then accept; if krt_scope = 253 then accept; reject; };
}
# IPv6 kernel routes have no scope: on-link means no gateway.
protocol pipe p6 {
  table master6; peer table mirror6;
  import none;
  export filter { if source = RTS_DEVICE then accept; if gw = :: then accept; reject; };
}
`;
}

/**
 * The shell loop: `ip monitor route` piped into `while read`, copying each on-link route of
 * `main` into `table` (replace on a new route, delete on "Deleted"), as mwan3rtmon does.
 */
export function shellLoopScript(table: string): string {
  return `ip -4 monitor route | while read -r line; do
  case "$line" in
    *" table "*|*" via "*|default*|local\\ *|broadcast\\ *|multicast\\ *) continue ;;
  esac
  case "$line" in
    Deleted\\ *) ip -4 route del \${line#Deleted } table ${table} proto ${COPY_PROTOCOL} 2>/dev/null ;;
    *"scope link"*) ip -4 route replace $line table ${table} proto ${COPY_PROTOCOL} 2>/dev/null ;;
  esac
done`;
}

/** Starts a daemon contender; resolves once its process runs (readiness is the caller's). */
export async function startDaemon(kind: DaemonKind, options: StartOptions): Promise<Daemon> {
  const { ns, table } = options;
  switch (kind) {
    case "watch":
    case "watch-b": {
      const process = ns.spawn([
        ...options.linkmirror.prefix,
        "watch",
        "--table",
        table,
        "--log-format",
        "json",
      ]);
      await process.waitForLine(/"message":"Watching"/, 30_000);
      return {
        kind,
        pid: process.pid,
        process,
        async stop() {
          await process.stop();
          const line = process.stderrLines.find((l) => l.includes('"message":"Stopped"'));
          const parsed = line ? JSON.parse(line) : {};
          const counters: Record<string, number> = {};
          for (const [k, v] of Object.entries(parsed)) if (typeof v === "number") counters[k] = v;
          return counters;
        },
      };
    }
    case "bird":
    case "bird-rx": {
      const dir = await Deno.makeTempDir({ prefix: "lmb-bird-" });
      const removeDir = onCleanup(() => Deno.remove(dir, { recursive: true }));
      const config = `${dir}/bird.conf`;
      await Deno.writeTextFile(
        config,
        birdConfig({
          table,
          rxBuffer: kind === "bird-rx" ? BIRD_RX_BUFFER : undefined,
          logFile: `${dir}/bird.log`,
        }),
      );
      const process = ns.spawn([
        "bird",
        "-f",
        "-c",
        config,
        "-s",
        `${dir}/bird.ctl`,
        "-P",
        `${dir}/bird.pid`,
      ]);
      return {
        kind,
        pid: process.pid,
        process,
        async stop() {
          await process.stop();
          removeDir();
          await Deno.remove(dir, { recursive: true }).catch(() => undefined);
          return {};
        },
      };
    }
    case "shell": {
      // mwan3rtmon makes its initial copies itself; here they are made before it starts.
      await ns.batch(routeLines(options.initial, { op: "add", table, protocol: COPY_PROTOCOL }));
      const process = ns.spawn(["sh", "-c", shellLoopScript(table)], { killGroup: true });
      return {
        kind,
        pid: process.pid,
        process,
        async stop() {
          await process.stop();
          return {};
        },
      };
    }
  }
}

/** `ip -batch` lines that add the copies of `routes` to `table`. */
export function copyLines(routes: readonly RouteSpec[], table: string): string[] {
  return routeLines(routes, { op: "add", table, protocol: COPY_PROTOCOL });
}
