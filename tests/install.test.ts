/**
 * install.sh in a throwaway root (`--destdir` into a temporary directory, `--no-service`): the
 * files land where promised, a second run changes nothing, `--dry-run` writes nothing,
 * `--uninstall` leaves nothing behind; `--prefix` with `--destdir` stages a prefix's layout, and
 * `DESTDIR=` does what `--destdir` does; and the refusals (not root, not Linux, unsupported
 * architecture, bad usage) change nothing. Nothing here touches systemd or routes: `--destdir`
 * never does. (tests/kernel/install_prefix.test.ts installs for real under a prefix.)
 */

import { skipUnless } from "./_fixtures/skip.ts";
import { deepEqual, equal, match, ok } from "node:assert/strict";

const REPO = new URL("..", import.meta.url).pathname;
const INSTALL_SH = `${REPO}install.sh`;

const runGranted = Deno.permissions.querySync({ name: "run" }).state === "granted";
const isRoot = runGranted && Deno.uid() === 0;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function exec(command: string[], env?: Record<string, string>): Promise<Run> {
  const out = await new Deno.Command(command[0], {
    args: command.slice(1),
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(50_000),
  }).output();
  const decoder = new TextDecoder();
  return {
    code: out.code,
    stdout: decoder.decode(out.stdout),
    stderr: decoder.decode(out.stderr),
  };
}

/** Runs `sh script args…`, optionally wrapped (e.g. in setpriv). */
function sh(
  script: string,
  args: string[],
  options: { env?: Record<string, string>; wrap?: string[] } = {},
): Promise<Run> {
  return exec([...(options.wrap ?? []), "sh", script, ...args], options.env);
}

function install(...args: string[]): Promise<Run> {
  return sh(INSTALL_SH, args);
}

/** Every entry under `root`: relative path → type, mode, size, mtime and inode. */
function snapshot(root: string): Map<string, string> {
  const entries = new Map<string, string>();
  const walk = (dir: string) => {
    for (const entry of Deno.readDirSync(dir)) {
      const path = `${dir}/${entry.name}`;
      const info = Deno.lstatSync(path);
      entries.set(
        path.slice(root.length),
        [
          entry.isDirectory ? "d" : entry.isSymlink ? "l" : "f",
          (info.mode ?? 0).toString(8),
          info.size,
          info.mtime?.getTime(),
          info.ino,
        ].join(" "),
      );
      if (entry.isDirectory) walk(path);
    }
  };
  walk(root);
  return entries;
}

function files(root: string): string[] {
  return [...snapshot(root)].filter(([, v]) => !v.startsWith("d ")).map(([k]) => k).sort();
}

/**
 * Where install.sh puts the bundle's chunks under `libdir`, as the build it ran left them in
 * `dist/linkmirror-chunks/` (their names are hashes of their text).
 */
function chunkPaths(libdir: string): string[] {
  return [...Deno.readDirSync(`${REPO}dist/linkmirror-chunks`)]
    .map((e) => `${libdir}/linkmirror-chunks/${e.name}`);
}

function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

function mode(path: string): string {
  return ((Deno.statSync(path).mode ?? 0) & 0o7777).toString(8);
}

function detail(run: Run): string {
  return `exit ${run.code}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`;
}

Deno.test({
  ...skipUnless(
    "install.sh --destdir --no-service: install, reinstall, dry run, uninstall",
    isRoot ? null : "needs root",
  ),
  async fn(t) {
    const root = await Deno.makeTempDir({ prefix: "lmt-install-" });
    try {
      await t.step("--dry-run into an empty root writes nothing", async () => {
        const run = await install("--destdir", root, "--no-service", "--dry-run");
        equal(run.code, 0, detail(run));
        match(run.stdout, /would install \/usr\/local\/bin\/linkmirror/);
        match(run.stdout, /dry run: nothing was changed/);
        deepEqual(files(root), []);
        deepEqual([...snapshot(root).keys()], []);
      });

      await t.step("the first run installs every file where promised", async () => {
        const run = await install("--destdir", root, "--no-service");
        equal(run.code, 0, detail(run));
        const installed = files(root);
        const binaryBuild = !installed.includes("/usr/local/lib/linkmirror/linkmirror.js");
        deepEqual(
          installed,
          [
            "/etc/default/linkmirror",
            "/usr/local/bin/linkmirror",
            "/usr/local/lib/linkmirror/installed",
            ...(binaryBuild ? [] : [
              "/usr/local/lib/linkmirror/linkmirror.js",
              ...chunkPaths("/usr/local/lib/linkmirror"),
            ]),
            "/usr/local/lib/systemd/system/linkmirror.service",
          ].sort(),
        );
        equal(mode(`${root}/usr/local/bin/linkmirror`), "755");
        equal(mode(`${root}/etc/default/linkmirror`), "644");
        equal(
          Deno.readTextFileSync(`${root}/usr/local/lib/systemd/system/linkmirror.service`),
          Deno.readTextFileSync(`${REPO}systemd/linkmirror.service`),
        );
        equal(
          Deno.readTextFileSync(`${root}/etc/default/linkmirror`),
          Deno.readTextFileSync(`${REPO}systemd/linkmirror.env`),
        );
        match(run.stdout, /systemd and routes were not touched/);

        // The installed program runs: the binary directly, or the launcher (whose SCRIPT= names
        // the bundle's path on the target system) pointed at the bundle under the root.
        let version: Run;
        if (binaryBuild) {
          version = await exec([`${root}/usr/local/bin/linkmirror`, "--version"]);
        } else {
          const launcher = Deno.readTextFileSync(`${root}/usr/local/bin/linkmirror`);
          match(launcher, /^#!\/bin\/sh\n/);
          match(launcher, /^SCRIPT='\/usr\/local\/lib\/linkmirror\/linkmirror\.js'$/m);
          const deno = /^DENO='([^']+)'$/m.exec(launcher)?.[1];
          ok(deno && Deno.statSync(deno).isFile, `DENO= names an existing deno: ${deno}`);
          const relocated = `${root}/launcher-under-test`;
          Deno.writeTextFileSync(
            relocated,
            launcher.replace(
              /^SCRIPT=.*$/m,
              `SCRIPT='${root}/usr/local/lib/linkmirror/linkmirror.js'`,
            ),
          );
          version = await sh(relocated, ["--version"]);
          Deno.removeSync(relocated);
        }
        equal(version.code, 0, detail(version));
        const denoJson = JSON.parse(Deno.readTextFileSync(`${REPO}deno.json`));
        equal(version.stdout.trim(), denoJson.version);
      });

      await t.step("a second run changes nothing", async () => {
        const before = snapshot(root);
        const run = await install("--destdir", root, "--no-service");
        equal(run.code, 0, detail(run));
        deepEqual(snapshot(root), before);
        ok(!/: (installed|updated|removed) /.test(run.stdout), detail(run));
        match(run.stdout, /unchanged \/usr\/local\/bin\/linkmirror/);
        match(run.stdout, /kept \/etc\/default\/linkmirror/);
      });

      await t.step("settings in /etc/default/linkmirror survive a reinstall", async () => {
        const envFile = `${root}/etc/default/linkmirror`;
        Deno.writeTextFileSync(envFile, "LINKMIRROR_TABLE=51820\n");
        const run = await install("--destdir", root, "--no-service");
        equal(run.code, 0, detail(run));
        equal(Deno.readTextFileSync(envFile), "LINKMIRROR_TABLE=51820\n");
      });

      await t.step("a chunk of an earlier build goes when a new one is installed", async () => {
        const chunkDir = `${root}/usr/local/lib/linkmirror/linkmirror-chunks`;
        if (!exists(chunkDir)) return; // A compiled binary: no chunks.
        const stale = `${chunkDir}/sync-OLDBUILD.js`;
        Deno.writeTextFileSync(stale, "export {};\n");
        const run = await install("--destdir", root, "--no-service");
        equal(run.code, 0, detail(run));
        match(
          run.stdout,
          /removed \/usr\/local\/lib\/linkmirror\/linkmirror-chunks\/sync-OLDBUILD\.js/,
        );
        ok(!exists(stale), "the stale chunk is gone");
      });

      await t.step("--dry-run over an installation writes nothing", async () => {
        const before = snapshot(root);
        for (const args of [["--dry-run"], ["--uninstall", "--dry-run"]]) {
          const run = await install("--destdir", root, "--no-service", ...args);
          equal(run.code, 0, detail(run));
          match(run.stdout, /dry run: nothing was changed/);
          deepEqual(snapshot(root), before);
        }
      });

      await t.step("--uninstall leaves nothing behind, and a second one is a no-op", async () => {
        const run = await install("--destdir", root, "--uninstall");
        equal(run.code, 0, detail(run));
        deepEqual([...snapshot(root).keys()], []);
        const again = await install("--destdir", root, "--uninstall");
        equal(again.code, 0, detail(again));
        match(again.stdout, /nothing to remove/);
      });
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

/** install.sh copied where any user can read it, for runs as another user. */
async function readableCopy(): Promise<{ dir: string; script: string }> {
  const dir = await Deno.makeTempDir({ prefix: "lmt-install-sh-" });
  await Deno.chmod(dir, 0o755);
  const script = `${dir}/install.sh`;
  await Deno.copyFile(INSTALL_SH, script);
  await Deno.chmod(script, 0o755);
  return { dir, script };
}

/** Whether `command` is on PATH. */
function hasCommand(command: string): boolean {
  try {
    return new Deno.Command("sh", { args: ["-c", `command -v ${command}`], stdout: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

Deno.test({
  ...skipUnless(
    "install.sh refuses to run when not root, and changes nothing",
    !runGranted
      ? "needs --allow-run"
      : Deno.uid() === 0 && !hasCommand("setpriv")
      ? "needs setpriv (util-linux) to drop root"
      : null,
  ),
  async fn() {
    const { dir, script } = await readableCopy();
    const root = `${dir}/root`;
    try {
      await Deno.mkdir(root, { mode: 0o777 });
      await Deno.chmod(root, 0o777);
      // As root, drop to nobody; otherwise we already are not root.
      const wrap = Deno.uid() === 0
        ? ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"]
        : [];
      for (const args of [[], ["--dry-run"], ["--uninstall"]]) {
        const run = await sh(script, ["--destdir", root, ...args], { wrap });
        equal(run.code, 1, detail(run));
        match(run.stderr, /must be run as root/);
        deepEqual([...snapshot(root).keys()], []);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  ...skipUnless(
    "install.sh refuses other systems and architectures, and bad usage, changing nothing",
    runGranted ? null : "needs --allow-run",
  ),
  async fn() {
    const { dir, script } = await readableCopy();
    const root = `${dir}/root`;
    try {
      await Deno.mkdir(root);
      const cases: [Record<string, string>, string[], number, RegExp][] = [
        [{ LINKMIRROR_INSTALL_TEST_ARCH: "armv7l" }, [], 1, /unsupported architecture armv7l/],
        [{ LINKMIRROR_INSTALL_TEST_ARCH: "riscv64" }, ["--uninstall"], 1, /unsupported/],
        [{ LINKMIRROR_INSTALL_TEST_OS: "Darwin" }, [], 1, /Linux only/],
        [{}, ["--bogus"], 2, /unknown option: --bogus/],
        [{}, ["--flush"], 2, /--flush only goes with --uninstall/],
        [{}, ["--prefix"], 2, /--prefix needs a directory/],
        [{}, ["--prefix", "/opt/link mirror"], 2, /--prefix: use a path of/],
        [{}, ["--destdir="], 2, /--destdir needs a directory/],
        [{}, ["--uninstall", "--flush"], 2, /does not go with --destdir/],
      ];
      for (const [env, args, code, message] of cases) {
        const run = await sh(script, ["--destdir", root, ...args], { env });
        equal(run.code, code, `${JSON.stringify(env)} ${args.join(" ")}: ${detail(run)}`);
        match(run.stderr, message);
        deepEqual([...snapshot(root).keys()], []);
      }
      const help = await sh(script, ["--help"]);
      equal(help.code, 0, detail(help));
      match(help.stdout, /--uninstall/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

/**
 * Runs `script` in a private mount namespace where `/` is read-only but for `writable` (and the
 * repository, whose dist/ the build writes, and Deno's cache): a write anywhere else fails.
 */
function sandboxed(script: string, writable: string[], env: Record<string, string>): Promise<Run> {
  const denoDir = Deno.env.get("DENO_DIR") ?? `${Deno.env.get("HOME") ?? "/root"}/.cache/deno`;
  const binds = [REPO, denoDir, ...writable]
    .map((d) => `mount --bind '${d}' '${d}'`).join("\n");
  return exec(
    [
      "unshare",
      "--mount",
      "--propagation",
      "private",
      "sh",
      "-c",
      `set -eu
${binds}
mount -o remount,bind,ro /
${script}`,
    ],
    {
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      HOME: Deno.env.get("HOME") ?? "/root",
      ...env,
    },
  );
}

Deno.test({
  ...skipUnless(
    "DESTDIR=… install.sh --prefix /usr stages the package layout and writes nothing outside it",
    isRoot ? null : "needs root",
  ),
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "lmt-destdir-" });
    const dest = `${dir}/stage`;
    const tmp = `${dir}/tmp`;
    try {
      await Deno.mkdir(dest);
      await Deno.mkdir(tmp);
      // The sandbox can fail: a write outside the writable paths is refused.
      const probe = await sandboxed(`touch /etc/lmt-destdir-probe`, [dest, tmp], {});
      equal(probe.code, 1, detail(probe));
      match(probe.stderr, /Read-only file system/);

      const run = await sandboxed(
        `sh '${INSTALL_SH}' --prefix /usr --no-service`,
        [dest, tmp],
        { DESTDIR: dest, TMPDIR: tmp },
      );
      equal(run.code, 0, detail(run));
      match(run.stdout, /systemd and routes were not touched \(--destdir\)/);
      const staged = files(dest);
      const bundle = staged.includes("/usr/lib/linkmirror/linkmirror.js");
      deepEqual(
        staged,
        [
          "/etc/default/linkmirror",
          "/usr/bin/linkmirror",
          "/usr/lib/linkmirror/installed",
          ...(bundle
            ? ["/usr/lib/linkmirror/linkmirror.js", ...chunkPaths("/usr/lib/linkmirror")]
            : []),
          "/usr/lib/systemd/system/linkmirror.service",
        ].sort(),
      );
      const unit = Deno.readTextFileSync(`${dest}/usr/lib/systemd/system/linkmirror.service`);
      match(unit, /^ExecStart=\/usr\/bin\/linkmirror watch$/m);
      equal(
        unit.replace(/^ExecStart=.*$/m, ""),
        Deno.readTextFileSync(`${REPO}systemd/linkmirror.service`).replace(/^ExecStart=.*$/m, ""),
      );
      if (bundle) {
        match(
          Deno.readTextFileSync(`${dest}/usr/bin/linkmirror`),
          /^SCRIPT='\/usr\/lib\/linkmirror\/linkmirror\.js'$/m,
        );
      }
      deepEqual([...Deno.readDirSync(tmp)], [], "install.sh removed its scratch files");

      const uninstall = await sandboxed(
        `sh '${INSTALL_SH}' --prefix /usr --uninstall`,
        [dest, tmp],
        { DESTDIR: dest, TMPDIR: tmp },
      );
      equal(uninstall.code, 0, detail(uninstall));
      deepEqual([...snapshot(dest).keys()], []);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  ...skipUnless(
    "deno task deb packs the /usr layout, with /etc/default/linkmirror as a conffile",
    !isRoot ? "needs root" : hasCommand("dpkg-deb") ? null : "needs dpkg-deb",
  ),
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "lmt-deb-" });
    try {
      const run = await exec(["sh", `${REPO}scripts/deb.sh`, "--out-dir", dir], {
        PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
        HOME: Deno.env.get("HOME") ?? "/root",
        TMPDIR: dir,
      });
      equal(run.code, 0, detail(run));
      const deb = run.stdout.trim();
      const version = JSON.parse(Deno.readTextFileSync(`${REPO}deno.json`)).version;
      match(deb, new RegExp(`/linkmirror_${version.replaceAll(".", "\\.")}_[a-z0-9]+\\.deb$`));
      const contents = await exec(["dpkg-deb", "--contents", deb]);
      const paths = contents.stdout.trim().split("\n").map((l) => l.split(/\s+/).pop()!)
        .filter((p) => !p.endsWith("/")).sort();
      const bundle = paths.includes("./usr/lib/linkmirror/linkmirror.js");
      deepEqual(
        paths,
        [
          "./etc/default/linkmirror",
          "./usr/bin/linkmirror",
          ...(bundle
            ? ["./usr/lib/linkmirror/linkmirror.js", ...chunkPaths("./usr/lib/linkmirror")]
            : []),
          "./usr/lib/systemd/system/linkmirror.service",
        ].sort(),
      );
      const info = await exec(["dpkg-deb", "--info", deb]);
      match(info.stdout, new RegExp(`Version: ${version.replaceAll(".", "\\.")}`));
      match(info.stdout, /Package: linkmirror/);
      const extracted = `${dir}/x`;
      equal((await exec(["dpkg-deb", "--control", deb, `${dir}/control`])).code, 0);
      equal(Deno.readTextFileSync(`${dir}/control/conffiles`), "/etc/default/linkmirror\n");
      equal((await exec(["dpkg-deb", "-x", deb, extracted])).code, 0);
      match(
        Deno.readTextFileSync(`${extracted}/usr/lib/systemd/system/linkmirror.service`),
        /^ExecStart=\/usr\/bin\/linkmirror watch$/m,
      );
      // Nothing else was left in the output directory (TMPDIR too: deb.sh's stage is gone).
      deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), [
        "control",
        deb.split("/").pop(),
        "x",
      ]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
