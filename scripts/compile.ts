/**
 * `deno task compile`: builds the linkmirror executable into `dist/`.
 *
 * 1. `deno bundle` turns `main.ts` and its one npm import (mri, the flag scanner) into
 *    `dist/linkmirror.js` and the chunks it loads (`dist/linkmirror-chunks/`: each command's code,
 *    loaded when that command runs, and the code they share), which import nothing else, not
 *    even a `node:` built-in.
 * 2. `deno compile --target …` makes that bundle (its chunks too) a self-contained executable for
 *    each target (`dist/linkmirror-x86_64-unknown-linux-gnu`,
 *    `dist/linkmirror-aarch64-unknown-linux-gnu`), with
 *    {@linkcode PERMISSIONS} baked in. It compiles the bundle with `--no-config`, so nothing but
 *    the bundle is embedded: no `node_modules/`, no `deno.json`, no stray files. `dist/linkmirror`
 *    is then a copy of the binary for this machine.
 * 3. Where `deno compile` cannot download its runtime (`denort`; no internet), the build says so in
 *    one line and writes `dist/linkmirror` as a small `#!/bin/sh` launcher instead, which runs
 *    `dist/linkmirror.js` with the installed `deno` and the same permissions: same CLI, same
 *    behaviour. (A `denort` you have can be used through deno's own `DENORT_BIN` variable.)
 *
 * Every file is written to a temporary name and renamed into place, so concurrent builds into the
 * same directory never expose a half-written file; chunks are named by a hash of their text and
 * written before the entry that loads them.
 *
 * Usage: `deno run --allow-all scripts/compile.ts [--out-dir DIR] [--target TRIPLE]… [--bundle-only]`
 *
 * @module
 */

import { parseArgs } from "node:util";

/** The targets `deno task compile` builds by default. */
export const TARGETS: readonly string[] = [
  "x86_64-unknown-linux-gnu",
  "aarch64-unknown-linux-gnu",
];

/**
 * Exactly the permissions linkmirror runs with, compiled in or passed by the launcher:
 * FFI into libc (unscoped: `--allow-ffi=<path>` breaks `dlopen("libc.so.6")`), the environment
 * (`LINKMIRROR_*`, `NOTIFY_SOCKET`, `WATCHDOG_*`), reading table names, and its runtime directory.
 * No network, no subprocesses, nothing else on disk.
 *
 * Not `/proc/self/status`: Deno 2.9 grants reads under `/proc/<pid>/` (and `/proc/self/`) only
 * with `--allow-all`, whatever `--allow-read` says, so listing it would change nothing. The
 * capability check asks the kernel instead (`RtnlClient.canChangeRoutes`).
 */
export const PERMISSIONS: readonly string[] = [
  "--allow-ffi",
  "--allow-env",
  "--allow-read=/etc/iproute2,/usr/share/iproute2,/usr/lib/iproute2,/run/linkmirror",
  "--allow-write=/run/linkmirror",
];

/**
 * V8 settings of the shipped daemon: a 1 MiB young generation instead of V8's up-to-16 MiB
 * semi-spaces, and V8's heuristics for size (`--optimize-for-size`: a heap that grows and keeps
 * less). Measured side by side (bench `--bin`/`--bin-b`): the semi-spaces took RSS after
 * mirroring 10k routes from 154 to 110 MiB; `--optimize-for-size` then 79 → 73 MiB after 10k and
 * 102 → 82 MiB 20 s later, with `sync` and `watch` of 10k as fast (3 runs each, one invocation).
 * And no TurboFan (`--no-turbofan`; Maglev stays): its code and compile zones cost RSS, and the
 * daemon's bursts are no faster with it. Two runs of `deno task bench --quick --reps 8 --only
 * 1,5[,7]`, old and new side by side, swapped between the runs (old → new): RSS after 10k routes
 * 69.2 → 64.8 and 73.4 → 64.0 MiB, after 100k 123 → 105 MiB, after start 47.1 → 47.4 and
 * 47.3 → 47.3 MiB; lag after a 10k burst 150 → 125 and 164 → 154 ms (BIRD rx: 127, 116 ms).
 * Without Maglev too, RSS fell further (67.7 → 58.7 MiB after 10k) but the burst lag rose in
 * each of three runs (299 → 324, 194 → 223, 204 → 248 ms).
 * The compiled binary runs every command with them; the launcher only `watch` (see
 * {@linkcode ONE_SHOT_V8_FLAGS}).
 */
export const V8_FLAGS: readonly string[] = [
  "--v8-flags=--max-semi-space-size=1,--optimize-for-size,--no-turbofan",
];

/**
 * V8 settings of the launcher's one-shot commands (every command but `watch`): V8's default heap
 * with a young generation that starts at 16 MiB, and no TurboFan (`--no-turbofan`: Ignition,
 * Sparkplug and Maglev only).
 *
 * Heap: a `sync` that adds 10k copies allocates tens of MiB that die young; in a 1 MiB young
 * generation it ran 75 scavenges and a mark-compact (82 ms of pauses, `--trace-gc`), with the
 * defaults 11 scavenges (30 ms). Side by side (10–12 alternating runs in one namespace): CPU
 * median 216 ms with the defaults against 232 ms with `V8_FLAGS`. Semi-spaces of at least 16 MiB
 * from the start (`--min-semi-space-size=16`), measured again after the decoder and request batch
 * made less garbage (2026-12, 15 alternating runs): `sync` of 10k 94.9 → 88.9 ms, of 100k (8 runs)
 * 466 → 432 ms (32 MiB: 89.7 and 431); `--version` 18.6 ms and ~33 MiB peak RSS either way, since
 * pages are only touched as they are used. (On an earlier machine, before those changes, 16 MiB
 * and more had been slower.)
 *
 * TurboFan: a command that runs for 0.1–1 s spends more on optimizing than it gains. Run time of
 * the main thread (the wall time on an idle core) and of the others (`perf sched timehist`,
 * medians of 10 alternating runs): sync adding 10k copies 156 + 66 ms with TurboFan, 128 + 28 ms
 * without; a sync with nothing to do 105 + 66 → 102 + 32 ms; adding 100k copies 952 + 224 →
 * 890 + 171 ms (4 runs).
 *
 * Source positions made with the bytecode (`--no-enable-lazy-source-positions`): V8 otherwise
 * leaves them out and, at the first exception, parses the function on the stack again to find
 * where it was thrown. That function is the bundle's top level, so the first exception of the
 * process (a missing `/usr/lib/iproute2/rt_tables`, read and caught as "not there") took
 * 3.5–4.1 ms instead of 0.2 ms. Side by side: `sync` of 10k 88.2 → 85.0 ms (15 alternating runs),
 * `--version` unchanged. Not for `watch`: +0.4 MiB of RSS after start.
 *
 * Compiled and instrumented from the first call (`--no-lazy`: each function of a loaded chunk is
 * compiled with its chunk instead of pre-parsed then parsed again at its first call, and the
 * bundle is split so that a command loads little it does not run; `--no-lazy-feedback-allocation`:
 * inline caches and type feedback from a function's first call instead of after several calls or
 * some bytecode run: a one-shot runs most of its functions only a few times). Side by side,
 * alternating, in one run
 * (2026-12-02): `sync` of 10k 85.2 → 79.7 ms (30 runs; 81.4 with the second flag alone), of 30k
 * 168.3 → 164.6 ms (8 runs), of 1k 49.4 → 47.7 ms (20 runs); `--version` 17.5 → 17.9 ms (21
 * runs), its peak RSS +0.3 MiB at most.
 */
export const ONE_SHOT_V8_FLAGS: readonly string[] = [
  "--v8-flags=--no-turbofan,--no-enable-lazy-source-positions,--min-semi-space-size=16," +
  "--no-lazy,--no-lazy-feedback-allocation",
];

/** Flags that keep `deno run` of the bundle from reading project files or the network. */
export const RUN_ISOLATION: readonly string[] = [
  "--no-config",
  "--no-lock",
  "--no-remote",
  "--no-npm",
  "--no-prompt",
];

/**
 * No V8 code cache (`--no-code-cache`), for the launcher and the binary: looking the bundle up in
 * Deno's cache database costs more than the cache saves, since V8 compiles linkmirror's functions
 * lazily and the cache holds little more than the top level. Measured with the launcher
 * (performance.now() at the bundle's first line, 5 runs each): 6.5 ms with the cache, 5.5 without.
 */
export const START_FLAGS: readonly string[] = ["--no-code-cache"];

/**
 * `deno bundle` flags: minified (`--minify`), since V8 scans every byte of the script before it
 * runs a line of it, but with the names of functions and classes kept (`--keep-names`) for stack
 * traces and error names. 360 → 170 KiB; the bundle's first line ran ~1 ms sooner, and
 * `linkmirror --version` took 17.8 instead of 20.5 ms with `START_FLAGS` (medians of 14 runs).
 * And split (`--code-splitting`): each command's code in a chunk loaded when that command runs,
 * the code commands share in chunks of their own, so that a command reads and scans only what
 * it runs (`--version`: 35 of the 170 KiB). `deno run` of the bundle, side by side: `--version`
 * 17.0 → 14.3 ms (floor 12.3), a `sync` of 10k 82.5 → 80.4 ms (medians of 15).
 */
export const BUNDLE_FLAGS: readonly string[] = ["--minify", "--keep-names", "--code-splitting"];

/** Where the bundle's chunks go, beside `linkmirror.js` (in `dist/` and where it is installed). */
export const CHUNK_DIR = "linkmirror-chunks";

/** What `deno compile` failing looks like when it could not download its runtime. */
const RUNTIME_DOWNLOAD_FAILURE =
  /denort|base binary|error sending request|dns error|failed to lookup|download/i;

/** A build step failed; the message says which and why. */
export class BuildError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "BuildError";
  }
}

/** Options of {@linkcode launcherScript}. */
export interface LauncherOptions {
  /** Absolute path of the `deno` executable. */
  deno: string;
  /** Absolute path of the bundled `linkmirror.js`. */
  script: string;
}

function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'"'"'`)}'`;
}

/**
 * The text of the launcher that stands in for the compiled binary. `install.sh` rewrites its
 * `DENO=` and `SCRIPT=` lines for the installed paths; everything else stays as built.
 *
 * @example
 * ```ts
 * import { launcherScript } from "./compile.ts";
 * launcherScript({ deno: "/usr/bin/deno", script: "/usr/local/lib/linkmirror/linkmirror.js" })
 *   .startsWith("#!/bin/sh\n"); // true
 * ```
 */
export function launcherScript(options: LauncherOptions): string {
  const permissions = PERMISSIONS.map((p) =>
    p.replace(/^(--allow-(?:read|write)=.*)\/run\/linkmirror$/, '$1"$STATE_DIR"')
  );
  const flags = ["run", ...RUN_ISOLATION, ...START_FLAGS, ...permissions, "$V8_FLAGS"].join(" ");
  return [
    "#!/bin/sh",
    "# linkmirror launcher, written by `deno task compile` where `deno compile` could not build a",
    "# self-contained binary: runs the bundled linkmirror.js with deno and exactly the permissions",
    "# the binary would have. Same CLI, same exit codes.",
    `DENO=${shellQuote(options.deno)}`,
    `SCRIPT=${shellQuote(options.script)}`,
    "export DENO_NO_UPDATE_CHECK=1",
    "# Deno wants a cache directory, and a service may have no $HOME: use the runtime directory",
    "# systemd gives the service (RuntimeDirectory=), never a shared one such as /tmp.",
    'if [ -z "${DENO_DIR:-}${XDG_CACHE_HOME:-}${HOME:-}" ]; then',
    "  DENO_DIR=${RUNTIME_DIRECTORY:-/nonexistent}/deno-cache",
    "  export DENO_DIR",
    "fi",
    "# The state files' directory, granted instead of /run/linkmirror (exactly that directory):",
    "# that of --state-file or LINKMIRROR_STATE_FILE, else --state-dir or LINKMIRROR_STATE_DIR.",
    "STATE_DIR=${LINKMIRROR_STATE_DIR:-/run/linkmirror}",
    "state=${LINKMIRROR_STATE_FILE:-}",
    'next=""',
    'for arg in "$@"; do',
    "  case $next in",
    '    file) state=$arg; next=""; continue ;;',
    '    dir) STATE_DIR=$arg; next=""; continue ;;',
    "  esac",
    "  case $arg in",
    "    --state-file) next=file ;;",
    "    --state-file=*) state=${arg#--state-file=} ;;",
    "    --state-dir) next=dir ;;",
    "    --state-dir=*) STATE_DIR=${arg#--state-dir=} ;;",
    "  esac",
    "done",
    "case $STATE_DIR in /*) ;; *) STATE_DIR=$PWD/$STATE_DIR ;; esac",
    "# V8: the daemon (watch) keeps a small heap; one-shot commands collect less often. An option",
    "# value spelt `watch` only picks the daemon's settings: they are slower, not different.",
    `V8_FLAGS=${ONE_SHOT_V8_FLAGS.join(" ")}`,
    'for arg in "$@"; do',
    `  case $arg in watch) V8_FLAGS=${V8_FLAGS.join(" ")} ;; esac`,
    "done",
    "case $state in",
    "  '') ;;",
    "  /*) STATE_DIR=${state%/*}; STATE_DIR=${STATE_DIR:-/} ;;",
    "  */*) STATE_DIR=$PWD/${state%/*} ;;",
    "  *) STATE_DIR=$PWD ;;",
    "esac",
    `exec "$DENO" ${flags} "$SCRIPT" "$@"`,
    "",
  ].join("\n");
}

/** Options of {@linkcode build}. */
export interface BuildOptions {
  /** The repository (where `main.ts` and `deno.json` are). */
  root: string;
  /** Where the artifacts go. */
  outDir: string;
  /** `deno compile` targets to try; empty: bundle + launcher only. */
  targets: readonly string[];
  /** Prints a progress line. */
  log: (line: string) => void;
}

/** What {@linkcode build} produced. */
export interface BuildResult {
  /** `"binary"`: `outDir/linkmirror` is a compiled executable; `"bundle"`: it is the launcher. */
  kind: "binary" | "bundle";
  /** The bundle, always built. */
  bundle: string;
  /** The executable to run on this machine (`outDir/linkmirror`). */
  executable: string;
  /** Compiled binaries, by target. */
  binaries: Record<string, string>;
}

async function run(
  args: string[],
  cwd: string,
): Promise<{ success: boolean; output: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" },
  }).output();
  const decoder = new TextDecoder();
  return {
    success: out.success,
    output: (decoder.decode(out.stdout) + decoder.decode(out.stderr)).trim(),
  };
}

function temporaryName(path: string): string {
  return `${path}.tmp-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
}

async function removeIfPresent(path: string): Promise<void> {
  try {
    await Deno.remove(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
}

/** Writes `data` to `path` through a temporary file and a rename. */
async function writeAtomically(path: string, data: string, mode: number): Promise<void> {
  const tmp = temporaryName(path);
  await Deno.writeTextFile(tmp, data, { mode });
  await Deno.chmod(tmp, mode);
  await Deno.rename(tmp, path);
}

/** Makes `to` the same file as `from` (a hard link, else a copy), through a rename. */
async function linkAtomically(from: string, to: string): Promise<void> {
  const tmp = temporaryName(to);
  try {
    await Deno.link(from, tmp);
  } catch {
    await Deno.copyFile(from, tmp);
    await Deno.chmod(tmp, 0o755);
  }
  await Deno.rename(tmp, to);
}

function kib(bytes: number): string {
  return `${Math.round(bytes / 1024)} KiB`;
}

/**
 * Step 1: `deno bundle main.ts` → `outDir/linkmirror.js`, the entry, and the chunks it loads in
 * `outDir/linkmirror-chunks/` ({@linkcode CHUNK_DIR}).
 */
async function bundle(options: BuildOptions): Promise<string> {
  const path = `${options.outDir}/linkmirror.js`;
  const chunkDir = `${options.outDir}/${CHUNK_DIR}`;
  const built = temporaryName(`${options.outDir}/.bundle`);
  try {
    const result = await run(
      ["bundle", "--quiet", "--platform", "deno", ...BUNDLE_FLAGS, "--outdir", built, "main.ts"],
      options.root,
    );
    if (!result.success) throw new BuildError(`deno bundle failed:\n${result.output}`);
    const chunks = [...Deno.readDirSync(built)].map((e) => e.name).filter((n) => n !== "main.js");
    const entry = entryWithChunkDir(await Deno.readTextFile(`${built}/main.js`), chunks);
    await Deno.mkdir(chunkDir, { recursive: true });
    let bytes = entry.length;
    // Chunks first, the entry last: a chunk's name is a hash of its text, so whatever entry a
    // run of linkmirror reads finds every chunk it names.
    for (const name of chunks) {
      const tmp = temporaryName(`${chunkDir}/${name}`);
      await Deno.rename(`${built}/${name}`, tmp);
      await Deno.chmod(tmp, 0o644);
      await Deno.rename(tmp, `${chunkDir}/${name}`);
      bytes += (await Deno.stat(`${chunkDir}/${name}`)).size;
    }
    await writeAtomically(path, entry, 0o644);
    // The chunks of earlier builds (and what a failed build left behind).
    for (const e of Deno.readDirSync(chunkDir)) {
      if (!chunks.includes(e.name)) await removeIfPresent(`${chunkDir}/${e.name}`);
    }
    options.log(
      `linkmirror build: bundled ${path} and ${chunks.length} chunks in ${chunkDir} ` +
        `(${kib(bytes)})`,
    );
    return path;
  } finally {
    await Deno.remove(built, { recursive: true }).catch(() => {});
  }
}

/**
 * The bundle's entry (`deno bundle --code-splitting`'s `main.js`) with the paths of `chunks`
 * (the other files it made beside it) moved into {@linkcode CHUNK_DIR}. The chunks import each
 * other by `./NAME`, from within that directory, and never the entry. Throws
 * {@linkcode BuildError} when the entry names a chunk in a way this does not rewrite.
 *
 * @example
 * ```ts
 * import { entryWithChunkDir } from "./compile.ts";
 * entryWithChunkDir('import("./sync-AB12.js")', ["sync-AB12.js"]);
 * // 'import("./linkmirror-chunks/sync-AB12.js")'
 * ```
 */
export function entryWithChunkDir(entry: string, chunks: readonly string[]): string {
  let out = entry;
  for (const name of chunks) out = out.replaceAll(`"./${name}"`, `"./${CHUNK_DIR}/${name}"`);
  for (const name of chunks) {
    if (out.replaceAll(`"./${CHUNK_DIR}/${name}"`, "").includes(name)) {
      throw new BuildError(`the bundle's entry names ${name} in a way the build cannot move`);
    }
  }
  return out;
}

/**
 * Step 2 for one target; resolves to the binary's path, or to `undefined` when `deno compile`
 * could not download its runtime.
 */
async function compileTarget(
  options: BuildOptions,
  bundlePath: string,
  target: string,
): Promise<string | undefined> {
  const path = `${options.outDir}/linkmirror-${target}`;
  const tmp = temporaryName(path);
  const result = await run(
    [
      "compile",
      "--quiet",
      ...RUN_ISOLATION.filter((flag) => flag !== "--no-prompt"),
      ...START_FLAGS,
      ...PERMISSIONS,
      ...V8_FLAGS,
      "--target",
      target,
      "--output",
      tmp,
      bundlePath,
    ],
    options.outDir,
  );
  if (!result.success) {
    await removeIfPresent(tmp);
    if (RUNTIME_DOWNLOAD_FAILURE.test(result.output)) return undefined;
    throw new BuildError(`deno compile --target ${target} failed:\n${result.output}`);
  }
  await Deno.chmod(tmp, 0o755);
  await Deno.rename(tmp, path);
  options.log(`linkmirror build: compiled ${path} (${kib((await Deno.stat(path)).size)})`);
  return path;
}

/**
 * Builds the bundle, then a binary per target; falls back to the launcher when `deno compile`
 * cannot fetch its runtime (or when `targets` is empty).
 */
export async function build(options: BuildOptions): Promise<BuildResult> {
  await Deno.mkdir(options.outDir, { recursive: true });
  const bundlePath = await bundle(options);
  const executable = `${options.outDir}/linkmirror`;
  const binaries: Record<string, string> = {};
  for (const target of options.targets) {
    const binary = await compileTarget(options, bundlePath, target);
    if (binary === undefined) {
      options.log(
        `linkmirror build: deno compile cannot download its runtime (denort for ${target}; no ` +
          `internet?), so dist/linkmirror is a launcher running dist/linkmirror.js with deno instead`,
      );
      // Binaries from an earlier build would no longer match the bundle.
      for (const t of TARGETS) await removeIfPresent(`${options.outDir}/linkmirror-${t}`);
      for (const t of Object.keys(binaries)) delete binaries[t];
      break;
    }
    binaries[target] = binary;
  }
  const native = binaries[Deno.build.target];
  if (native) {
    await linkAtomically(native, executable);
    options.log(`linkmirror build: ${executable} is the ${Deno.build.target} binary`);
    return { kind: "binary", bundle: bundlePath, executable, binaries };
  }
  await writeAtomically(
    executable,
    launcherScript({ deno: Deno.execPath(), script: await Deno.realPath(bundlePath) }),
    0o755,
  );
  options.log(`linkmirror build: ${executable} is a launcher for ${bundlePath}`);
  return { kind: "bundle", bundle: bundlePath, executable, binaries };
}

const USAGE =
  `Usage: deno run --allow-all scripts/compile.ts [--out-dir DIR] [--target TRIPLE]... [--bundle-only]

Builds dist/linkmirror: a compiled binary per target (default: ${TARGETS.join(", ")}),
or, where deno compile cannot download its runtime, dist/linkmirror.js plus a launcher.`;

if (import.meta.main) {
  const root = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
  let values;
  try {
    ({ values } = parseArgs({
      args: Deno.args,
      options: {
        "out-dir": { type: "string" },
        target: { type: "string", multiple: true },
        "bundle-only": { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (e) {
    console.error(`compile: ${e instanceof Error ? e.message : e}\n${USAGE}`);
    Deno.exit(2);
  }
  if (values.help) {
    console.log(USAGE);
    Deno.exit(0);
  }
  const targets = values["bundle-only"] ? [] : values.target ?? TARGETS;
  for (const target of targets) {
    if (!TARGETS.includes(target)) {
      console.error(`compile: unsupported target ${target} (supported: ${TARGETS.join(", ")})`);
      Deno.exit(2);
    }
  }
  const outDir = values["out-dir"] ?? `${root}/dist`;
  try {
    await build({
      root,
      outDir: outDir.startsWith("/") ? outDir : `${Deno.cwd()}/${outDir}`,
      targets,
      log: (line) => console.error(line),
    });
  } catch (e) {
    if (!(e instanceof BuildError)) throw e;
    console.error(`linkmirror build: ${e.message}`);
    Deno.exit(1);
  }
}
